import { describe, expect, it } from "vitest";
import { Bus, IsoTp } from "../src/index.js";
import { armedWaits } from "../src/waker.js";
import { pair, uniqueChannel } from "./helpers.js";

/** Resolves what `promise` rejected with (fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

function expectAbortError(error: unknown, cause?: unknown): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe("AbortError");
  if (cause !== undefined) expect((error as DOMException & { cause: unknown }).cause).toBe(cause);
}

/** Aborts `controller` once the event loop has armed the pending wait. */
function abortSoon(controller: AbortController, reason?: unknown): void {
  setTimeout(() => controller.abort(reason), 20);
}

describe("AbortSignal on every wait (issue 11.6)", () => {
  it("recv and recvBatch reject with AbortError, leave nothing armed, and keep frames for the next call", async () => {
    const { tx, rx } = await pair();
    const controller = new AbortController();
    abortSoon(controller, "user gave up");
    const pending = rx.recv({ signal: controller.signal });
    expect(armedWaits()).toBe(1);
    expectAbortError(await rejection(pending), "user gave up");
    expect(armedWaits()).toBe(0);

    const batchController = new AbortController();
    abortSoon(batchController);
    expectAbortError(await rejection(rx.recvBatch({ signal: batchController.signal, timeoutMs: 10_000 })));
    expect(armedWaits()).toBe(0);

    expectAbortError(await rejection(rx.recv({ signal: AbortSignal.abort() })));
    await tx.send({ id: 0x123, data: [0xde, 0xad] });
    const m = await rx.recv({ timeoutMs: 1000, signal: new AbortController().signal });
    expect([m?.id, Array.from(m?.data ?? [])]).toEqual([0x123, [0xde, 0xad]]);
    expect(armedWaits()).toBe(0);
    await tx.close();
    await rx.close();
  });

  it("for await over bus.messages({signal}) and reader batches({signal}) ends with AbortError", async () => {
    const { tx, rx } = await pair();
    const reader = rx.reader();
    const controller = new AbortController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const m of rx.messages({ signal: controller.signal })) {
        seen.push(m.id);
        if (seen.length === 2) abortSoon(controller);
      }
    })();
    await tx.sendBatch([{ id: 1 }, { id: 2 }]);
    expectAbortError(await rejection(loop));
    expect(seen).toEqual([1, 2]);

    const batchController = new AbortController();
    abortSoon(batchController);
    const batches = (async () => {
      for await (const batch of reader.batches({ signal: batchController.signal })) seen.push(batch.length);
    })();
    expectAbortError(await rejection(batches));
    expect(seen).toEqual([1, 2, 2]);
    expect(reader.closed).toBe(true); // leaving an extra reader's loop closes it
    expect(armedWaits()).toBe(0);
    await tx.close();
    await rx.close();
  });

  it("send, sendBatch and nextState take a signal; an aborted one sends nothing", async () => {
    const { tx, rx } = await pair();
    expectAbortError(await rejection(tx.send({ id: 1 }, { signal: AbortSignal.abort() })));
    expectAbortError(await rejection(tx.sendBatch([{ id: 2 }], { signal: AbortSignal.abort() })));
    expectAbortError(await rejection(tx.nextState({ signal: AbortSignal.abort() })));
    const states = tx.stateChanges({ signal: AbortSignal.abort() });
    expectAbortError(await rejection(states.next()));
    expect(await rx.recv({ timeoutMs: 50 })).toBeNull();
    await tx.send({ id: 3 }, { signal: new AbortController().signal });
    expect(await tx.sendBatch([{ id: 4 }, { id: 5 }], { signal: new AbortController().signal })).toBe(2);
    expect((await rx.recvBatch({ timeoutMs: 1000 }))?.length).toBeGreaterThan(0);
    expect(tx.stats()).toMatchObject({ txFrames: 3, txWaits: 0, txErrors: 0 });
    await tx.close();
    await rx.close();
  });

  it("watch.next and watch.events take a signal", async () => {
    const bus = await Bus.open({ channel: uniqueChannel("abort-watch") });
    const watch = bus.watch(0x42);
    const controller = new AbortController();
    abortSoon(controller);
    expectAbortError(await rejection(watch.next({ signal: controller.signal })));
    expect(armedWaits()).toBe(0);
    expect(watch.closed).toBe(false);
    const loopController = new AbortController();
    abortSoon(loopController);
    const loop = (async () => {
      for await (const _ of watch.events({ signal: loopController.signal }));
    })();
    expectAbortError(await rejection(loop));
    expect(watch.closed).toBe(true);
    expect(armedWaits()).toBe(0);
    await bus.close();
  });

  it("IsoTp.recv and a blocking IsoTp.send take a signal; the aborted transfer stops", async () => {
    const channel = uniqueChannel("abort-tp");
    const sniffer = await Bus.open({ channel });
    const tp = await IsoTp.open({ channel, address: { txid: 0x7e0, rxid: 0x7e8 } });
    const controller = new AbortController();
    abortSoon(controller);
    expectAbortError(await rejection(tp.recv({ signal: controller.signal })));
    expect(armedWaits()).toBe(0);

    // 20 bytes: a first frame, then it waits for flow control nobody sends
    const sendController = new AbortController();
    abortSoon(sendController);
    const started = performance.now();
    expectAbortError(await rejection(tp.send(new Uint8Array(20), { blocking: true, signal: sendController.signal })));
    expect(performance.now() - started).toBeLessThan(900); // well before N_Bs (1000 ms)
    expect(armedWaits()).toBe(0);
    expect(tp.transmitting()).toBe(false);
    const first = await sniffer.recv({ timeoutMs: 1000 });
    expect(first?.id).toBe(0x7e0);
    expect(Array.from(first?.data ?? []).slice(0, 2)).toEqual([0x10, 20]);

    expectAbortError(await rejection(tp.send([1, 2, 3], { signal: AbortSignal.abort() })));
    expect(await sniffer.recv({ timeoutMs: 50 })).toBeNull(); // nothing was sent
    await tp.close();
    await sniffer.close();
  });
});
