/**
 * canwire's userspace ISO-TP stack against the kernel's can-isotp, driven
 * through canwire's own kernel-socket stack (`stack: "kernel"`), both ways.
 */
import { afterAll, describe, expect, it } from "vitest";
import { IsoTp, type IsoTpAddress, type IsoTpParams, type KernelIsoTpOptions, openExport } from "../../src/index.js";
import { hasAfCan, ownInterface, removeInterface } from "./can-utils.js";
import { payload } from "./isotp-peers.js";

const channel = hasAfCan ? await ownInterface("vcantp0") : "";
afterAll(() => removeInterface(channel));

/** Payload sizes: SF edges, classic and FD FF/CF edges, the 12-bit limit and the 32-bit FF_DL escape. */
const SIZES = [1, 7, 8, 62, 63, 64, 4095, 5000];

interface PairOptions {
  params?: IsoTpParams;
  userspace?: IsoTpParams;
  kernel?: IsoTpParams;
  kernelOptions?: KernelIsoTpOptions;
  ids?: [number, number];
}

/** A userspace stack (tx ids[0], rx ids[1]) and a kernel one facing it. */
async function pair(options: PairOptions = {}): Promise<{ user: IsoTp; kernel: IsoTp } & AsyncDisposable> {
  const [a, b] = options.ids ?? [0x6a0, 0x6a8];
  const base: IsoTpParams = { maxFrameSize: 5000, blockingSend: true, ...options.params };
  const user = await IsoTp.open({
    interface: "socketcan",
    channel,
    address: { txid: a, rxid: b },
    params: { ...base, ...options.userspace },
  });
  const kernelOpen: Parameters<typeof IsoTp.open>[0] = {
    stack: "kernel",
    channel,
    address: { txid: b, rxid: a },
    params: { ...base, ...options.kernel },
  };
  if (options.kernelOptions) kernelOpen.kernel = options.kernelOptions;
  const kernel = await IsoTp.open(kernelOpen).catch(async (e: unknown) => {
    await user.close();
    throw e;
  });
  return {
    user,
    kernel,
    async [Symbol.asyncDispose]() {
      await user.close();
      await kernel.close();
    },
  };
}

/** Sends `data` from one stack and returns what the other received. */
async function transfer(from: IsoTp, to: IsoTp, data: Uint8Array): Promise<Uint8Array | null> {
  const [, got] = await Promise.all([from.send(data), to.recv({ timeoutMs: 15_000 })]);
  return got && new Uint8Array(got);
}

async function everySizeBothWays(p: { user: IsoTp; kernel: IsoTp }, sizes = SIZES): Promise<void> {
  for (const size of sizes) {
    const out = payload(size, 1);
    expect(await transfer(p.user, p.kernel, out), `userspace -> kernel, ${size} bytes`).toEqual(out);
    const back = payload(size, 2);
    expect(await transfer(p.kernel, p.user, back), `kernel -> userspace, ${size} bytes`).toEqual(back);
  }
}

describe.skipIf(!hasAfCan)("ISO-TP: userspace stack against the kernel's can-isotp", () => {
  it("classic CAN, block size 8, STmin 0: every size both ways", async () => {
    await using p = await pair({ params: { blocksize: 8, stmin: 0 } });
    await everySizeBothWays(p);
    expect(p.user.takeErrors()).toEqual([]);
    expect(p.kernel.takeErrors()).toEqual([]);
    expect(p.kernel.stats()).toMatchObject({ rxPayloads: SIZES.length, txComplete: SIZES.length, txFailed: 0, osErrors: 0 });
  });

  it("CAN FD with TX_DL 64 and BRS, block size 0: every size both ways", async () => {
    await using p = await pair({ params: { canFd: true, txDataLength: 64, bitrateSwitch: true, blocksize: 0 } });
    await everySizeBothWays(p);
    expect([...p.user.takeErrors(), ...p.kernel.takeErrors()]).toEqual([]);
  });

  it("STmin 0xF3 (300 µs) and 2 ms are kept by both senders", async () => {
    for (const [stmin, gapMs] of [
      [0xf3, 0.3],
      [2, 2],
    ] as const) {
      await using p = await pair({ params: { stmin, blocksize: stmin === 2 ? 8 : 0 } });
      // 200 bytes: FF with 6, then 28 CFs; the 27 gaps between them last at least STmin each.
      const data = payload(200, stmin);
      for (const [from, to] of [
        [p.user, p.kernel],
        [p.kernel, p.user],
      ] as const) {
        const started = performance.now();
        expect(await transfer(from, to, data)).toEqual(data);
        expect(performance.now() - started).toBeGreaterThanOrEqual(27 * gapMs);
      }
    }
  });

  it("functional single frames on NormalFixed 29-bit ids, both ways", async () => {
    const tester: IsoTpAddress = { mode: "NormalFixed_29bits", targetAddress: 0x33, sourceAddress: 0xf1 };
    const ecu: IsoTpAddress = { mode: "NormalFixed_29bits", targetAddress: 0xf1, sourceAddress: 0x33 };
    await using user = await IsoTp.open({ interface: "socketcan", channel, address: tester, params: { blockingSend: true } });
    await using kernel = await IsoTp.open({ stack: "kernel", channel, address: ecu, params: { blockingSend: true } });
    const [, got] = await Promise.all([user.send([0x3e, 0x00], { targetAddressType: "functional" }), kernel.recv({ timeoutMs: 5000 })]);
    expect(Array.from(got!)).toEqual([0x3e, 0x00]);
    const [, back] = await Promise.all([kernel.send([0x7e, 0x00], { targetAddressType: "functional" }), user.recv({ timeoutMs: 5000 })]);
    expect(Array.from(back!)).toEqual([0x7e, 0x00]);
    await expect(kernel.send(new Uint8Array(8), { targetAddressType: "functional" })).rejects.toThrow(
      /functional addressing allows single frames only/,
    );
  });

  it("overflow, frame too long and no receiver: the kernel's errno as ISO-TP codes", async () => {
    await using p = await pair({ userspace: { maxFrameSize: 100 }, kernel: { maxFrameSize: 50 } });
    // the userspace receiver answers the kernel's first frame with OVERFLOW: EMSGSIZE
    await expect(p.kernel.send(payload(200))).rejects.toMatchObject({
      code: "ERR_ISOTP_OVERFLOW_FC",
      message: expect.stringMatching(/EMSGSIZE/),
    });
    // the kernel takes 60 bytes (within its own limit) and drops them above maxFrameSize 50
    await p.user.send(payload(60));
    expect(await p.kernel.recv({ timeoutMs: 300 })).toBeNull();
    expect(p.kernel.takeErrors().map((e) => e.code)).toEqual(["ERR_ISOTP_OVERFLOW_FC", "ERR_ISOTP_FRAME_TOO_LONG"]);
    // 70000 bytes exceed the kernel's own limit: it answers OVERFLOW
    await expect(p.user.send(payload(70_000))).rejects.toMatchObject({ code: "ERR_ISOTP_OVERFLOW_FC" });
    await using lonely = await IsoTp.open({
      stack: "kernel",
      channel,
      address: { txid: 0x6f0, rxid: 0x6f8 },
      params: { blockingSend: true },
    });
    await expect(lonely.send(payload(20))).rejects.toMatchObject({
      code: "ERR_ISOTP_N_BS_TIMEOUT",
      message: expect.stringMatching(/ECOMM/),
    });
    expect(lonely.stats()).toMatchObject({ txComplete: 0, txFailed: 1, errors: [{ code: "ERR_ISOTP_N_BS_TIMEOUT", count: 1 }] });
  });

  it("stop, start, setAddress and close replace the sockets", async () => {
    await using p = await pair();
    p.kernel.stop();
    expect(p.kernel.running).toBe(false);
    await expect(p.kernel.send([1])).rejects.toMatchObject({ code: "ERR_CLOSED" });
    p.kernel.start();
    expect(await transfer(p.kernel, p.user, payload(30))).toEqual(payload(30));
    await using other = await IsoTp.open({
      interface: "socketcan",
      channel,
      address: { txid: 0x6b0, rxid: 0x6b8 },
      params: { blockingSend: true },
    });
    p.kernel.setAddress({ txid: 0x6b8, rxid: 0x6b0 });
    expect(await transfer(p.kernel, other, payload(30, 5))).toEqual(payload(30, 5));
    expect(() => p.kernel.setAddress({ txid: 0x6b8, rxid: 0x6b8 })).toThrow(/different transmit and receive ids/);
    await p.kernel.close();
    await p.kernel.close();
    await expect(p.kernel.send([1])).rejects.toMatchObject({ code: "ERR_CLOSED" });
  });

  it("kernel-only options: receive padding checks (EBADMSG) and frame_txtime", async () => {
    const kernelOptions: KernelIsoTpOptions = {
      rxPadding: 0x55,
      checkRxPaddingLength: true,
      checkRxPaddingData: true,
      frameTxtimeNs: 2_000_000,
    };
    await using p = await pair({ userspace: { txPadding: 0x55 }, kernelOptions });
    expect(await transfer(p.user, p.kernel, payload(20))).toEqual(payload(20));
    // N_As of 2 ms after each frame: 200 bytes are FF + 28 CFs, 27 gaps of at least 2 ms
    const started = performance.now();
    expect(await transfer(p.kernel, p.user, payload(200))).toEqual(payload(200));
    expect(performance.now() - started).toBeGreaterThanOrEqual(54);
    await using wrong = await IsoTp.open({
      interface: "socketcan",
      channel,
      address: { txid: 0x6a0, rxid: 0x6a8 },
      params: { txPadding: 0x11, blockingSend: true },
    });
    await wrong.send([1, 2, 3]);
    expect(await p.kernel.recv({ timeoutMs: 300 })).toBeNull();
    expect(p.kernel.takeErrors()).toEqual([{ code: "ERR_ISOTP_INVALID_FRAME", message: expect.stringMatching(/wrong padding.*EBADMSG/) }]);
  });

  it("a Jumpstarter IsoTpSocket export opens the kernel stack", async () => {
    const yaml = `export:\n  tp:\n    type: jumpstarter_driver_can.IsoTpSocket\n    config: {channel: ${channel}, address: {txid: 1704, rxid: 1696}, params: {tx_padding: 170, blocking_send: true}}\n`;
    await using kernel = (await openExport(yaml, "tp")) as IsoTp;
    await using user = await IsoTp.open({
      interface: "socketcan",
      channel,
      address: { txid: 0x6a0, rxid: 0x6a8 },
      params: { blockingSend: true },
    });
    expect(await transfer(kernel, user, payload(20, 9))).toEqual(payload(20, 9));
    expect(await transfer(user, kernel, payload(3, 9))).toEqual(payload(3, 9));
  });

  it("parameters the kernel cannot honour are refused with the reason", async () => {
    const open = (params: IsoTpParams) => IsoTp.open({ stack: "kernel", channel, address: { txid: 0x6f0, rxid: 0x6f8 }, params });
    await expect(open({ rxFlowcontrolTimeout: 500 })).rejects.toMatchObject({
      code: "ERR_UNSUPPORTED",
      message: expect.stringMatching(/fixed 1000 ms/),
    });
    await expect(open({ rateLimitEnable: true })).rejects.toThrow(/no rate limiter/);
    await expect(open({ txDataMinLength: 4 })).rejects.toMatchObject({ code: "ERR_UNSUPPORTED" });
    await expect(IsoTp.open({ stack: "kernel", channel: "nosuch0", address: { txid: 1, rxid: 2 } })).rejects.toMatchObject({
      code: "ERR_UNKNOWN_INTERFACE",
    });
  });
});
