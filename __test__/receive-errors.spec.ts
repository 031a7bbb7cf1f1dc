import { describe, expect, it } from "vitest";
import { Bus } from "../src/index.js";
import { uniqueChannel } from "./helpers.js";

describe("receive errors in stats()", () => {
  it("are counted as a field, zero with no message on a bus that never failed to receive", async () => {
    await using bus = await Bus.open({ interface: "virtual", channel: uniqueChannel() });
    const stats = bus.stats();
    expect(stats.rxErrors).toBe(0);
    expect(stats.lastRxError).toBeUndefined();
  });
});
