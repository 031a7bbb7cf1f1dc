import { describe, expect, it } from "vitest";
import { Bus, formatFrame, IsoTp, IsoTpError, type IsoTpParams } from "../src/index.js";
import { recvN, uniqueChannel } from "./helpers.js";

async function pairOfStacks(params: IsoTpParams = {}, receiverParams: IsoTpParams = params) {
  const channel = uniqueChannel("tp");
  const sniffer = await Bus.open({ channel, fd: true });
  const tester = await IsoTp.open({ channel, address: { txid: 0x7e0, rxid: 0x7e8 }, params });
  const ecu = await IsoTp.open({ channel, address: { txid: 0x7e8, rxid: 0x7e0 }, params: receiverParams });
  const close = async () => {
    await tester.close();
    await ecu.close();
    await sniffer.close();
  };
  return { channel, sniffer, tester, ecu, close };
}

describe("IsoTp over the virtual bus", () => {
  it("segments and reassembles with exact frame bytes, padding and flow control", async () => {
    const { sniffer, tester, ecu, close } = await pairOfStacks({ txPadding: 0xaa, blocksize: 8, stmin: 0 });
    const payload = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
    await tester.send(payload, { blocking: true });
    expect(Array.from((await ecu.recv({ timeoutMs: 2000 }))!)).toEqual(Array.from(payload));
    const wire = (await recvN(sniffer, 3)).map((m) => formatFrame(m));
    expect(wire).toEqual(["7E0#100A010203040506", "7E8#300800AAAAAAAAAA", "7E0#210708090AAAAAAA"]);
    await close();
  });

  it("moves payloads of 1..4095 bytes both ways, single and multi frame", async () => {
    const { tester, ecu, close } = await pairOfStacks({ blockingSend: true });
    for (const size of [1, 7, 8, 62, 63, 500, 4095]) {
      const payload = Uint8Array.from({ length: size }, (_, i) => (i * 13 + size) & 0xff);
      await tester.send(payload);
      expect(Buffer.from((await ecu.recv({ timeoutMs: 5000 }))!).equals(Buffer.from(payload))).toBe(true);
      await ecu.send(payload.subarray(0, Math.min(size, 100)));
      expect((await tester.recv({ timeoutMs: 5000 }))!.length).toBe(Math.min(size, 100));
    }
    expect(ecu.stats()).toMatchObject({ rxPayloads: 7, txComplete: 7, txFailed: 0, rxOverflow: 0 });
    await close();
  });

  it("uses CAN FD with TX_DL 64 and accepts snake_case parameters", async () => {
    const params = { can_fd: true, tx_data_length: 64, bitrate_switch: true, blocking_send: true } as unknown as IsoTpParams;
    const { sniffer, tester, ecu, close } = await pairOfStacks(params);
    const payload = new Uint8Array(200).fill(0x5a);
    await tester.send(payload);
    expect((await ecu.recv({ timeoutMs: 2000 }))!.length).toBe(200);
    const first = (await sniffer.recv({ timeoutMs: 1000 }))!;
    expect([first.fd, first.bitrateSwitch, first.dlc, first.data[0], first.data[1]]).toEqual([true, true, 64, 0x10, 200]);
    await close();
  });

  it("sends functional single frames and refuses functional multi-frame payloads", async () => {
    const { tester, ecu, close } = await pairOfStacks();
    await tester.send([0x3e, 0x00], { targetAddressType: "functional" });
    expect(Array.from((await ecu.recv({ timeoutMs: 1000 }))!)).toEqual([0x3e, 0x00]);
    await expect(tester.send(new Uint8Array(20), { targetAddressType: "functional" })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    await close();
  });

  it("supports asymmetric addresses", async () => {
    const channel = uniqueChannel("tp");
    const a = await IsoTp.open({ channel, address: { tx: { txid: 0x600 }, rx: { rxid: 0x601 } } });
    const d = await IsoTp.open({ channel, address: { txid: 0x601, rxid: 0x600 } });
    await a.send(new Uint8Array(20).fill(7), { blocking: true });
    expect((await d.recv({ timeoutMs: 1000 }))!.length).toBe(20);
    await d.send([9, 8], { blocking: true });
    expect(Array.from((await a.recv({ timeoutMs: 1000 }))!)).toEqual([9, 8]);
    await a.close();
    await d.close();
  });

  it("supports extended addressing with target address bytes on the wire", async () => {
    const channel = uniqueChannel("tp");
    const sniffer = await Bus.open({ channel });
    const b = await IsoTp.open({
      channel,
      address: { mode: "Extended_11bits", txid: 0x601, rxid: 0x600, targetAddress: 0x55, sourceAddress: 0x66 },
    });
    const c = await IsoTp.open({
      channel,
      address: { mode: "Extended_11bits", txid: 0x600, rxid: 0x601, targetAddress: 0x66, sourceAddress: 0x55 },
    });
    await c.send([1, 2, 3], { blocking: true });
    expect(Array.from((await b.recv({ timeoutMs: 1000 }))!)).toEqual([1, 2, 3]);
    expect(formatFrame((await sniffer.recv({ timeoutMs: 1000 }))!)).toBe("600#6603010203");
    await b.close();
    await c.close();
    await sniffer.close();
  });
});

describe("IsoTp failures", () => {
  it("a blocking send without a receiver fails with ERR_ISOTP_N_BS_TIMEOUT", async () => {
    const tp = await IsoTp.open({
      channel: uniqueChannel("tp"),
      address: { txid: 0x123, rxid: 0x124 },
      params: { rxFlowcontrolTimeout: 50 },
    });
    const error = await tp.send(new Uint8Array(50), { blocking: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IsoTpError);
    expect((error as IsoTpError).code).toBe("ERR_ISOTP_N_BS_TIMEOUT");
    expect(tp.takeErrors().map((e) => e.code)).toEqual(["ERR_ISOTP_N_BS_TIMEOUT"]);
    expect(tp.stats().errors).toEqual([{ code: "ERR_ISOTP_N_BS_TIMEOUT", count: 1 }]);
    await tp.close();
  });

  it("sendTimeoutMs aborts a slow transfer with ERR_TIMEOUT", async () => {
    const { tester, ecu, close } = await pairOfStacks({}, { stmin: 100 });
    const started = performance.now();
    await expect(tester.send(new Uint8Array(100), { blocking: true, sendTimeoutMs: 150 })).rejects.toMatchObject({ code: "ERR_TIMEOUT" });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(tester.transmitting()).toBe(false);
    expect(ecu.available()).toBe(false);
    await close();
  });

  it("reports protocol errors such as an unexpected consecutive frame", async () => {
    const channel = uniqueChannel("tp");
    const raw = await Bus.open({ channel });
    const tp = await IsoTp.open({ channel, address: { txid: 0x7e0, rxid: 0x7e8 } });
    await raw.send({ id: 0x7e8, data: [0x21, 1, 2, 3] });
    await raw.send({ id: 0x7e8, data: [0x03, 0xaa, 0xbb, 0xcc] });
    expect(Array.from((await tp.recv({ timeoutMs: 1000 }))!)).toEqual([0xaa, 0xbb, 0xcc]);
    expect(tp.takeErrors().map((e) => e.code)).toEqual(["ERR_ISOTP_UNEXPECTED_CF"]);
    await tp.close();
    await raw.close();
  });

  it("rejects bad configuration with ERR_INVALID_ARGUMENT naming the culprit", async () => {
    const open = (params: object, address: object = { txid: 1, rxid: 2 }) =>
      IsoTp.open({ channel: uniqueChannel("tp"), address: address as never, params: params as IsoTpParams });
    await expect(open({ stmin: 0x80 })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(open({ tx_data_length: 12 })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(open({ bogus_param: 1 })).rejects.toThrow(/unknown ISO-TP parameter 'bogus_param'/);
    await expect(open({}, { mode: "Sideways", txid: 1, rxid: 2 })).rejects.toThrow(/unknown addressing mode 'Sideways'/);
    await expect(open({}, { txid: 0x800, rxid: 2 })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });

  it("rejects kernel-stack options that cannot work before touching a socket", async () => {
    const address = { txid: 1, rxid: 2 };
    await expect(IsoTp.open({ address, stack: "kernel" })).rejects.toThrow(/stack 'kernel' needs the interface to bind to/);
    await expect(IsoTp.open({ address, stack: "kernel", interface: "virtual", channel: "x" })).rejects.toThrow(/runs on SocketCAN only/);
    await using bus = await Bus.open({ channel: uniqueChannel("tp") });
    await expect(IsoTp.open({ address, stack: "kernel", bus, channel: "vcan0" })).rejects.toThrow(/opens its own can-isotp socket/);
    await expect(IsoTp.open({ address, channel: uniqueChannel("tp"), kernel: { frameTxtimeNs: 0 } })).rejects.toThrow(
      /kernel options need stack: 'kernel'/,
    );
    await expect(IsoTp.open({ address, stack: "kernel", channel: "vcan0", kernel: { frame_txtime: 0 } as never })).rejects.toThrow(
      /unknown kernel ISO-TP option 'frame_txtime'/,
    );
    await expect(IsoTp.open({ address, stack: "kernel", channel: "vcan0", kernel: { rxPadding: 256 } })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    await expect(IsoTp.open({ address, stack: "sideways" as never })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });
});

describe("IsoTp lifetime", () => {
  it("recv returns null on timeout or without blocking, and ends iteration on close", async () => {
    const { tester, ecu, close } = await pairOfStacks();
    expect(await ecu.recv({ block: false })).toBeNull();
    expect(await ecu.recv({ timeoutMs: 20 })).toBeNull();
    const got: number[] = [];
    const loop = (async () => {
      for await (const p of ecu) got.push(p.length);
    })();
    await tester.send(new Uint8Array(3), { blocking: true });
    await tester.send(new Uint8Array(30), { blocking: true });
    await new Promise((r) => setTimeout(r, 30));
    await ecu.close();
    await loop;
    expect(got).toEqual([3, 30]);
    await expect(ecu.recv()).rejects.toMatchObject({ code: "ERR_CLOSED" });
    await ecu.close();
    await close();
  });

  it("stop pauses the stack and start resumes it", async () => {
    const { tester, ecu, close } = await pairOfStacks();
    ecu.stop();
    expect(ecu.running).toBe(false);
    await tester.send([1, 2]);
    expect(await ecu.recv({ timeoutMs: 50 })).toBeNull();
    ecu.start();
    await tester.send([3, 4]);
    expect(Array.from((await ecu.recv({ timeoutMs: 1000 }))!)).toEqual([3, 4]);
    await close();
  });
});
