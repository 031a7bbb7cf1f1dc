import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { Bus, CanError, type CyclicTask } from "../src/index.js";
import { uniqueChannel } from "./helpers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Whether `ref`'s target is collected once nothing else holds it. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setTimeout(r, 0));
    gc();
  }
  return ref.deref() === undefined;
}

describe("a cyclic task's lifetime", () => {
  it("remove() takes the task out of its bus, so nothing holds it", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    const ref = (() => {
      const task = bus.sendPeriodic({ id: 1 }, { periodMs: 10, autostart: false });
      task.remove();
      return new WeakRef(task);
    })();
    expect(await collected(ref)).toBe(true);
    await bus.close();
  });

  it("close() and Symbol.asyncDispose remove the task, idempotently", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    const task: CyclicTask = bus.sendPeriodic({ id: 1 }, { periodMs: 10 });
    expect(task.running).toBe(true);
    await task.close();
    await task.close();
    expect(() => task.stats()).toThrow(expect.objectContaining({ code: "ERR_CLOSED" }));
    const disposed = bus.sendPeriodic({ id: 2 }, { periodMs: 10 });
    await disposed[Symbol.asyncDispose]();
    expect(() => disposed.start()).toThrow(expect.objectContaining({ code: "ERR_CLOSED" }));
    const ref = new WeakRef(disposed);
    expect(await collected(ref)).toBe(false); // still referenced here
    await bus.close();
  });
});

describe("sendPeriodic and modifyData refuse bad input with a typed error", () => {
  const refusal = (call: () => unknown): { name: string; code: string; message: string } => {
    try {
      call();
    } catch (e) {
      expect(e).toBeInstanceOf(CanError);
      const { name, code, message } = e as CanError;
      return { name, code, message };
    }
    throw new Error("accepted");
  };

  it("names what was wrong and what is allowed", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    const s = (messages: unknown, options: unknown) => () => bus.sendPeriodic(messages as never, options as never);
    expect(refusal(s(null, { periodMs: 10 }))).toEqual({
      name: "InvalidArgumentError",
      code: "ERR_INVALID_ARGUMENT",
      message: "sendPeriodic's message must be an object, got null",
    });
    expect(refusal(s([{ id: 1 }, 5], { periodMs: 10 })).message).toBe("sendPeriodic's message 1 must be an object, got number");
    expect(refusal(s({ id: 1 }, { periodMs: 10, count: "5" }))).toEqual({
      name: "InvalidArgumentError",
      code: "ERR_INVALID_ARGUMENT",
      message: "options.count must be a number, got string",
    });
    expect(refusal(s({ id: 1 }, { periodMs: "10" })).message).toBe("options.periodMs must be a number, got string");
    expect(refusal(s({ id: 1 }, { periodMs: 10, initialCount: null, initialPeriodMs: 1 })).message).toBe(
      "options.initialCount must be a number, got null",
    );
    expect(refusal(s({ id: 1 }, { periodMs: 10, autostart: "no" })).message).toBe("options.autostart must be a boolean, got string");
    expect(refusal(s({ id: 1 }, null)).message).toBe("options must be an object, got null");
    expect(refusal(s({ id: 1 }, { periodMs: 10, count: 2.5 })).message).toBe("count must be an integer 1..=9007199254740991, got 2.5");
    const task = bus.sendPeriodic({ id: 1 }, { periodMs: 10, autostart: false });
    expect(refusal(() => task.modifyData(null as never))).toEqual({
      name: "InvalidArgumentError",
      code: "ERR_INVALID_ARGUMENT",
      message: "modifyData's messages must be an array, got null",
    });
    expect(refusal(() => task.modifyData([null as never])).message).toBe("modifyData's message 0 must be an object, got null");
    expect(refusal(s({ id: 1 }, { periodMs: 10, count: 2 ** 53 })).message).toBe(
      "count must be an integer 1..=9007199254740991, got 9007199254740992",
    );
    expect(refusal(s({ id: 1 }, { periodMs: 10, scheduler: 5 })).message).toBe("options.scheduler must be a string, got number");
    await bus.close();
    expect(refusal(s({ id: 1 }, { periodMs: 10 }))).toEqual({
      name: "BusClosedError",
      code: "ERR_CLOSED",
      message: "the bus of this task is closed",
    });
  });
});
