import { describe, expect, it } from "vitest";
import { Bus, serveSocketcand } from "../src/index.js";
import { recvN, uniqueChannel } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A virtual channel served as `vcan0` on a free loopback port, and a peer bus on the channel. */
async function served(options: Parameters<typeof serveSocketcand>[1] = {}) {
  const channel = uniqueChannel("scd");
  const exported = await Bus.open({ channel });
  const peer = await Bus.open({ channel, preserveTimestamps: true });
  const server = await serveSocketcand({ vcan0: exported }, { port: 0, ...options });
  return { exported, peer, server, port: server.address.port as number };
}

describe("socketcand: canwire's client against canwire's server", () => {
  it("serves on loopback by default and reports the bound port", async () => {
    const { exported, peer, server } = await served();
    expect(server.address.host).toBe("127.0.0.1");
    expect(server.address.port).toBeGreaterThan(0);
    expect(server.warnings).toEqual([]);
    await server.close();
    await server.close(); // idempotent
    await exported.close();
    await peer.close();
  });

  it("frames both ways, exact ids, data and timestamps; no echo of own sends", async () => {
    const { exported, peer, server, port } = await served();
    await using bus = await Bus.open({ interface: "socketcand", channel: "vcan0", port });
    expect(bus.interface).toBe("socketcand");
    expect(bus.state).toBe("active");
    await bus.send({ id: 0x123, data: [1, 2, 3] });
    await bus.send({ id: 0x1aaaaaaa, extended: true, data: [] });
    const got = await recvN(peer, 2);
    expect(got.map((m) => [m.id, m.extended, [...m.data]])).toEqual([
      [0x123, false, [1, 2, 3]],
      [0x1aaaaaaa, true, []],
    ]);
    await sleep(30); // the server holds frames 20 ms after the rawmode reply
    await peer.send({ id: 0x7ff, data: [0xab, 0xcd], timestampNs: 1_700_000_000_123_456_789n });
    const m = (await recvN(bus, 1))[0]!;
    expect([m.id, m.extended, [...m.data], m.timestampNs]).toEqual([0x7ff, false, [0xab, 0xcd], 1_700_000_000_123_456_000n]);
    expect(await bus.recv({ timeoutMs: 100 })).toBeNull();
    await server.close();
    await exported.close();
    await peer.close();
  });

  it("readers, filters and native cyclic sends run on a socketcand bus", async () => {
    const { exported, peer, server, port } = await served();
    await using bus = await Bus.open({ interface: "socketcand", channel: "vcan0", port, filters: [{ id: 0x100, mask: 0x7ff }] });
    const task = bus.sendPeriodic({ id: 0x42, data: [9] }, { periodMs: 10 });
    const sent = await recvN(peer, 3);
    task.stop();
    expect(sent.every((m) => m.id === 0x42 && m.data[0] === 9)).toBe(true);
    await sleep(30);
    await peer.send({ id: 0x200, data: [] });
    await peer.send({ id: 0x100, data: [1] });
    const m = (await recvN(bus, 1))[0]!;
    expect(m.id).toBe(0x100);
    await server.close();
    await exported.close();
    await peer.close();
  });

  it('scheduler: "server" runs periodic tasks as the server\'s BCM jobs', async () => {
    const { exported, peer, server, port } = await served();
    await using bus = await Bus.open({ interface: "socketcand", channel: "vcan0", port, scheduler: "server" });
    const task = bus.sendPeriodic({ id: 0x77, data: [1] }, { periodMs: 20 });
    const got = await recvN(peer, 4);
    expect(got.map((m) => [m.id, [...m.data]])).toEqual([
      [0x77, [1]],
      [0x77, [1]],
      [0x77, [1]],
      [0x77, [1]],
    ]);
    task.modifyData([{ id: 0x77, data: [2] }]);
    await sleep(60);
    while (await peer.recv({ timeoutMs: 0 })) {}
    expect([...((await peer.recv({ timeoutMs: 500 }))?.data ?? [])]).toEqual([2]);
    task.stop();
    const stopped = task.stats();
    // the peer saw 4 frames and then 2, so at least 5 are due by the schedule
    expect(stopped).toMatchObject({ sentCounted: "schedule", running: false });
    expect(stopped.sent).toBeGreaterThanOrEqual(5);
    await sleep(60);
    while (await peer.recv({ timeoutMs: 0 })) {}
    expect(await peer.recv({ timeoutMs: 100 })).toBeNull();
    expect(task.stats().sent).toBe(stopped.sent);
    expect(() => bus.sendPeriodic([{ id: 1 }, { id: 2 }], { periodMs: 20 })).toThrow(expect.objectContaining({ code: "ERR_UNSUPPORTED" }));
    await expect(Bus.open({ interface: "socketcand", channel: "vcan0", port, scheduler: "kernel" as never })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    await server.close();
    await exported.close();
    await peer.close();
  });

  it("errors: no server, a bus the server does not export, a bad option", async () => {
    const { exported, peer, server, port } = await served();
    await expect(Bus.open({ interface: "socketcand", channel: "can7", port })).rejects.toMatchObject({ code: "ERR_UNKNOWN_INTERFACE" });
    await server.close();
    await expect(Bus.open({ interface: "socketcand", channel: "vcan0", port })).rejects.toMatchObject({ code: "ERR_UNREACHABLE" });
    await expect(Bus.open({ interface: "socketcand", channel: "" })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(Bus.open({ interface: "socketcand", channel: "vcan0", port: 70000 })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    await exported.close();
    await peer.close();
  });

  it("a lost connection is a state change and a receive error; sends fail until it is back", async () => {
    const { exported, peer, server, port } = await served();
    const bus = await Bus.open({ interface: "socketcand", channel: "vcan0", port });
    const changes = bus.stateChanges();
    const lost = changes.next(); // watches from now on
    await server.close();
    expect((await lost).value).toBe("unknown");
    expect(bus.stats().rxErrors).toBe(1);
    expect(bus.stats().lastRxError).toMatch(/^lost the connection to socketcand at 127\.0\.0\.1:\d+ \(the server closed the connection\)/);
    await expect(bus.send({ id: 1, data: [] })).rejects.toMatchObject({ code: "ERR_UNREACHABLE" });
    const again = await serveSocketcand({ vcan0: exported }, { port });
    expect((await changes.next()).value).toBe("active");
    await bus.send({ id: 0x55, data: [5] });
    const m = (await recvN(peer, 1))[0]!;
    expect(m.id).toBe(0x55);
    await bus.close();
    await again.close();
    await exported.close();
    await peer.close();
  });

  it("server options: bus options opened and closed with the server, read-only, stats", async () => {
    const channel = uniqueChannel("scd");
    const peer = await Bus.open({ channel });
    const server = await serveSocketcand({ can0: { interface: "virtual", channel } }, { port: 0, readOnly: true });
    const bus = await Bus.open({ interface: "socketcand", channel: "can0", port: server.address.port });
    await bus.send({ id: 1, data: [] });
    await sleep(100);
    expect(await peer.recv({ timeoutMs: 50 })).toBeNull();
    expect(server.stats()).toMatchObject({ clients: 1, connections: 1, refusedCommands: 1 });
    expect(bus.stats().lastRxError).toContain("read-only server");
    await bus.close();
    await server.close();
    await peer.close();
  });

  it("bad server arguments are typed errors", async () => {
    const bus = await Bus.open({ channel: uniqueChannel("scd") });
    await expect(serveSocketcand({ "a b": bus }, { port: 0 })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(serveSocketcand({ vcan0: bus }, { host: "localhost" })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(serveSocketcand({ vcan0: bus }, { allowedClients: ["10.0.0.0/40"] })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    await expect(serveSocketcand({ vcan0: 5 as never })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await bus.close();
  });
});
