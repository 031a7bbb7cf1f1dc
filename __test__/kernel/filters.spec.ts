import { describe, expect, it } from "vitest";
import { Bus, type CanFilter, filtersMatch } from "../../src/index.js";
import { cansend, hasAfCan, recvN } from "./can-utils.js";

/** Frames covering the corners: same id in both formats, neighbours, masks. */
const FRAMES = ["123#01", "124#02", "1FF#03", "00000123#04", "12345678#05", "7FF#06", "100#R", "10000123#07"];

function parse(text: string): { id: number; extended: boolean } {
  const idText = text.split("#")[0]!;
  return { id: parseInt(idText, 16), extended: idText.length === 8 };
}

const CASES: Array<{ name: string; filters: CanFilter[]; join?: boolean }> = [
  { name: "plain", filters: [{ id: 0x123, mask: 0x7ff }] },
  { name: "plain, either format", filters: [{ id: 0x100, mask: 0x700 }] },
  { name: "extended only", filters: [{ id: 0x123, mask: 0x1fffffff, extended: true }] },
  { name: "standard only", filters: [{ id: 0x123, mask: 0x7ff, extended: false }] },
  { name: "inverted", filters: [{ id: 0x123, mask: 0x7ff, inverted: true }] },
  {
    name: "two, any",
    filters: [
      { id: 0x124, mask: 0x7ff },
      { id: 0x12345678, mask: 0x1fffffff, extended: true },
    ],
  },
  {
    name: "joined",
    filters: [
      { id: 0x100, mask: 0x100 },
      { id: 0x023, mask: 0x0ff, extended: false },
    ],
    join: true,
  },
  {
    name: "joined with inverted",
    filters: [
      { id: 0x100, mask: 0x700 },
      { id: 0x124, mask: 0x7ff, inverted: true },
    ],
    join: true,
  },
];

describe.skipIf(!hasAfCan)("socketcan: kernel filters match the software filters", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      await using bus = await Bus.open({
        interface: "socketcan",
        channel: "vcan0",
        filters: c.filters,
        joinFilters: c.join ?? false,
      });
      await cansend("vcan0", ...FRAMES, "555#FF");
      const expected = FRAMES.filter((f) => {
        const { id, extended } = parse(f);
        return filtersMatch(c.filters, id, extended) && (!c.join || c.filters.every((x) => filtersMatch([x], id, extended)));
      });
      // The sentinel 555 passes only where the filters let it; collect until it or a timeout.
      const got: string[] = [];
      for (;;) {
        const m = await bus.recv({ timeoutMs: 1500 });
        if (!m) break;
        if (m.id === 0x555) break;
        got.push(FRAMES.find((f) => parse(f).id === m.id && parse(f).extended === m.extended)!);
      }
      expect(got).toEqual(expected);
      // every verdict came from the kernel: the software filters had nothing left to reject
      expect(bus.stats().rxFiltered).toBe(0);
    });
  }

  it("setFilters replaces kernel filters on an open bus", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    bus.setFilters([{ id: 0x7ff, mask: 0x7ff }]);
    await cansend("vcan0", "123#01", "7FF#02");
    const [m] = await recvN(bus, 1);
    expect(m!.id).toBe(0x7ff);
    bus.setFilters(null);
    await cansend("vcan0", "123#03");
    expect((await recvN(bus, 1))[0]!.id).toBe(0x123);
    expect(bus.stats().rxFiltered).toBe(0);
  });
});
