import { describe, expect, it } from "vitest";
import { Bus, serveSocketcand } from "../src/index.js";
import type { CanWatch, WatchEvent } from "../src/watch.js";
import { codeAndMessageOf, recvN, uniqueChannel } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const T = 1_700_000_000_123_456_000n;

/** A virtual channel served as `vcan0` on a free loopback port, and a peer bus on the channel. */
async function served(options: Parameters<typeof serveSocketcand>[1] = {}) {
  const channel = uniqueChannel("scdf");
  const exported = await Bus.open({ channel });
  const peer = await Bus.open({ channel, preserveTimestamps: true });
  const server = await serveSocketcand({ vcan0: exported }, { port: 0, ...options });
  return { exported, peer, server, port: server.address.port as number };
}

async function eventsOf(watch: CanWatch, n: number, waitMs: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const until = Date.now() + waitMs;
  while (out.length < n && Date.now() < until) {
    const e = await watch.next({ timeoutMs: Math.max(1, until - Date.now()) });
    if (e) out.push(e);
  }
  return out;
}

describe('socketcand: filtering: "server"', () => {
  it("exact-id filters become the server's subscriptions; no filters, every frame again", async () => {
    const { exported, peer, server, port } = await served();
    await using bus = await Bus.open({
      interface: "socketcand",
      channel: "vcan0",
      port,
      filtering: "server",
      filters: [{ id: 0x123, mask: 0x7ff, extended: false }],
    });
    await sleep(50);
    await peer.send({ id: 0x124, data: [9], timestampNs: T });
    await peer.send({ id: 0x123, data: [1, 2], timestampNs: T + 1000n });
    const got = await recvN(bus, 1);
    expect(got.map((m) => [m.id, m.extended, [...m.data], m.timestampNs])).toEqual([[0x123, false, [1, 2], T + 1000n]]);
    expect(await bus.recv({ timeoutMs: 100 })).toBeNull();
    await bus.send({ id: 0x7, data: [7] }); // sends go on in BCM mode
    expect((await recvN(peer, 1)).map((m) => [m.id, [...m.data]])).toEqual([[0x7, [7]]]);
    bus.setFilters([]);
    await sleep(80);
    await peer.send({ id: 0x555, data: [5], timestampNs: T + 2000n });
    expect((await recvN(bus, 1)).map((m) => [m.id, m.timestampNs])).toEqual([[0x555, T + 2000n]]);
    expect(codeAndMessageOf(() => bus.setFilters([{ id: 0x100, mask: 0x700 }]))).toEqual([
      "ERR_UNSUPPORTED",
      expect.stringContaining("exact-id filters only"),
    ]);
    await server.close();
    await exported.close();
    await peer.close();
  });

  it("watches run as the server's BCM jobs: changes, every frame, throttle; the rest ERR_UNSUPPORTED", async () => {
    const { exported, peer, server, port } = await served();
    await using bus = await Bus.open({ interface: "socketcand", channel: "vcan0", port, filtering: "server" });
    await using changes = bus.watch(0x123, { changeMask: [0xff] });
    await using every = bus.watch(0x1abcdef0, { extended: true, throttleMs: 300 });
    expect(changes.backend).toBe("native");
    await sleep(50);
    const sends: [number, boolean, number[]][] = [
      [0x123, false, [1]],
      [0x123, false, [1]],
      [0x1abcdef0, true, [7]],
      [0x123, false, [2]],
      [0x1abcdef0, true, [8]],
      [0x123, false, [2, 9]],
      [0x1abcdef0, true, [9]],
    ];
    for (const [i, [id, extended, data]] of sends.entries()) {
      await peer.send({ id, extended, data, timestampNs: T + BigInt(i) * 1000n });
    }
    const seen = (events: WatchEvent[]) => events.map((e) => [e.type, e.message?.id, [...(e.message?.data ?? [])], e.timestampNs]);
    expect(seen(await eventsOf(changes, 3, 400))).toEqual([
      ["changed", 0x123, [1], T],
      ["changed", 0x123, [2], T + 3000n],
    ]);
    // the first at once, [8] held back and replaced, [9] when 300 ms have passed
    expect(seen(await eventsOf(every, 3, 800))).toEqual([
      ["received", 0x1abcdef0, [7], T + 2000n],
      ["received", 0x1abcdef0, [9], T + 6000n],
    ]);
    for (const [options, what] of [
      [{ timeoutMs: 100 }, "timeoutMs"],
      [{ changeMask: [0xff], checkDlc: true }, "checkDlc"],
    ] as const) {
      expect(codeAndMessageOf(() => bus.watch(0x1, options))).toEqual(["ERR_UNSUPPORTED", expect.stringContaining(what)]);
    }
    await server.close();
    await exported.close();
    await peer.close();
  });

  it("a mux watch is the server's muxfilter: changes per watched multiplexer value, other values not delivered", async () => {
    const { exported, peer, server, port } = await served();
    await using bus = await Bus.open({ interface: "socketcand", channel: "vcan0", port, filtering: "server" });
    await using muxed = bus.watch(0x321, {
      mux: {
        mask: [0xff],
        cases: [
          { value: [1], changeMask: [0, 0xff] },
          { value: [2], changeMask: [0, 0x0f] },
        ],
      },
    });
    await sleep(50);
    const sends = [
      [1, 5], // mux 1, first: changed
      [3, 5], // mux 3 is not watched
      [2, 0x10], // mux 2, first: changed
      [1, 5], // mux 1 unchanged
      [2, 0x1f], // mux 2, low nibble changed
      [2, 0x2f], // mux 2, only bits outside its mask changed
      [1, 6], // mux 1 changed
    ];
    for (const [i, data] of sends.entries()) {
      await peer.send({ id: 0x321, data, timestampNs: T + BigInt(i) * 1000n });
    }
    const seen = (await eventsOf(muxed, 5, 500)).map((e) => [e.type, e.message?.id, [...(e.message?.data ?? [])], e.timestampNs]);
    expect(seen).toEqual([
      ["changed", 0x321, [1, 5], T],
      ["changed", 0x321, [2, 0x10], T + 2000n],
      ["changed", 0x321, [2, 0x1f], T + 4000n],
      ["changed", 0x321, [1, 6], T + 6000n],
    ]);
    expect(codeAndMessageOf(() => bus.watch(0x321, { mux: { mask: [0], cases: [{ value: [1], changeMask: [1] }] } }))).toEqual([
      "ERR_INVALID_ARGUMENT",
      "mux mask must select at least one bit",
    ]);
    expect(codeAndMessageOf(() => exported.watch(0x321, { mux: { mask: [0xff], cases: [{ value: [1], changeMask: [0, 1] }] } }))).toEqual([
      "ERR_UNSUPPORTED",
      expect.stringContaining('filtering "server"'),
    ]);
    await server.close();
    await exported.close();
    await peer.close();
  });

  it("error frames: through the server's filters with their data (BCM), by class alone in raw mode", async () => {
    const { exported, peer, server, port } = await served({ errorFrames: true });
    await using filtered = await Bus.open({
      interface: "socketcand",
      channel: "vcan0",
      port,
      filtering: "server",
      filters: [{ id: 0x123, mask: 0x7ff, extended: false }],
    });
    await using raw = await Bus.open({ interface: "socketcand", channel: "vcan0", port });
    await sleep(80);
    await peer.send({ id: 0x00c, error: true, data: [0, 0x10, 0x80, 0x19, 0, 0, 0x7f, 1], timestampNs: T });
    await peer.send({ id: 0x123, data: [1], timestampNs: T + 1000n });
    const seen = (ms: { id: number; error: boolean; data: Uint8Array; timestampNs: bigint }[]) =>
      ms.map((m) => [m.id, m.error, [...m.data], m.timestampNs]);
    expect(seen(await recvN(filtered, 2))).toEqual([
      [0x00c, true, [0, 0x10, 0x80, 0x19, 0, 0, 0x7f, 1], T],
      [0x123, false, [1], T + 1000n],
    ]);
    // raw mode: `< error 00C SEC.USEC >`, the class without data
    expect(seen(await recvN(raw, 2))).toEqual([
      [0x00c, true, [0, 0, 0, 0, 0, 0, 0, 0], T],
      [0x123, false, [1], T + 1000n],
    ]);
    await server.close();
    await exported.close();
    await peer.close();
  });

  it("a bad filtering option is ERR_INVALID_ARGUMENT", async () => {
    await expect(Bus.open({ interface: "socketcand", channel: "vcan0", port: 1, filtering: "kernel" as "server" })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
  });
});
