/**
 * canwire's ISO-TP stacks against can-utils' isotpsend / isotprecv (the
 * kernel's can-isotp), the exact frames of our kernel-socket stack as candump
 * prints them, and `canwire isotp --stack kernel`.
 */
import { afterAll, describe, expect, it } from "vitest";
import { IsoTp, type IsoTpParams } from "../../src/index.js";
import { runCli } from "../helpers.js";
import { candump, hasAfCan, ownInterface, removeInterface, withoutTime } from "./can-utils.js";
import { hex, isoTpBound, isotprecv, isotpsend, payload } from "./isotp-peers.js";

const channel = hasAfCan ? await ownInterface("vcantp1") : "";
afterAll(() => removeInterface(channel));

/** isotprecv prints payloads below 5000 bytes: 4999 stands for "beyond 4095" (the 32-bit FF_DL escape). */
const SIZES = [1, 7, 8, 62, 63, 64, 4095, 4999];

/** Ours sends on 6C0 and receives on 6C8; can-utils the other way round. */
const PEER = ["-s", "6C8", "-d", "6C0"];
const ADDRESS = { txid: 0x6c0, rxid: 0x6c8 };

/** Our parameters, the matching can-utils link layer option, and the block size isotprecv asks for. */
const LINKS = [
  { name: "classic", params: { blocksize: 8 } as IsoTpParams, link: [], bs: "8" },
  { name: "FD TX_DL 64", params: { canFd: true, txDataLength: 64, blocksize: 0 } as IsoTpParams, link: ["-L", "72:64:0"], bs: "0" },
];

function userspace(params: IsoTpParams): Promise<IsoTp> {
  return IsoTp.open({ interface: "socketcan", channel, address: ADDRESS, params: { maxFrameSize: 5000, blockingSend: true, ...params } });
}

describe.skipIf(!hasAfCan)("ISO-TP: userspace stack against can-utils (kernel can-isotp)", () => {
  it("isotpsend to our stack, classic and FD, every size", async () => {
    for (const link of LINKS) {
      await using ours = await userspace(link.params);
      for (const size of SIZES) {
        const data = payload(size, 3);
        const [, got] = await Promise.all([isotpsend(channel, [...PEER, "-b", ...link.link], data), ours.recv({ timeoutMs: 15_000 })]);
        expect(got && new Uint8Array(got), `${link.name}, ${size} bytes`).toEqual(data);
      }
    }
  });

  it("our stack to isotprecv, classic and FD, every size", async () => {
    for (const link of LINKS) {
      await using ours = await userspace(link.params);
      const peer = await isotprecv(channel, [...PEER, "-m", "0", "-b", link.bs, ...link.link]);
      try {
        for (const size of SIZES) {
          const data = payload(size, 4);
          await ours.send(data);
          expect(await peer.next(), `${link.name}, ${size} bytes`).toEqual(data);
        }
      } finally {
        peer.stop();
      }
    }
  });

  it("our sender keeps the STmin isotprecv asks for (F3 = 300 µs, 2 ms), block sizes 0 and 8", async () => {
    await using ours = await userspace({});
    for (const [stmin, gapMs, bs] of [
      ["F3", 0.3, "0"],
      ["2", 2, "8"],
    ] as const) {
      const peer = await isotprecv(channel, [...PEER, "-m", stmin, "-b", bs]);
      try {
        const data = payload(200, 5); // FF, then 28 CFs: 27 gaps of at least STmin
        const started = performance.now();
        await ours.send(data);
        expect(await peer.next()).toEqual(data);
        expect(performance.now() - started).toBeGreaterThanOrEqual(27 * gapMs);
      } finally {
        peer.stop();
      }
    }
  });
});

describe.skipIf(!hasAfCan)("ISO-TP: the frames of our kernel-socket stack, as candump prints them", () => {
  const ten = Uint8Array.from({ length: 10 }, (_, i) => i + 1);

  it("classic: padding bytes and flow control content both ways", async () => {
    await using user = await IsoTp.open({
      interface: "socketcan",
      channel,
      address: ADDRESS,
      params: { txPadding: 0x55, blocksize: 0, blockingSend: true },
    });
    await using kernel = await IsoTp.open({
      stack: "kernel",
      channel,
      address: { txid: 0x6c8, rxid: 0x6c0 },
      params: { txPadding: 0xaa, blocksize: 4, stmin: 0xf3, blockingSend: true },
    });
    const dump = await candump(channel, 6);
    const [, got] = await Promise.all([kernel.send(ten), user.recv({ timeoutMs: 5000 })]);
    const [, back] = await Promise.all([user.send(ten), kernel.recv({ timeoutMs: 5000 })]);
    expect([got, back].map((b) => Array.from(b!))).toEqual([Array.from(ten), Array.from(ten)]);
    expect((await dump.lines()).map(withoutTime)).toEqual([
      `${channel} 6C8#100A010203040506`, // kernel FF: FF_DL 10, 6 bytes
      `${channel} 6C0#3000005555555555`, // our FC: CTS, BS 0, STmin 0, padded with 55
      `${channel} 6C8#210708090AAAAAAA`, // kernel CF 1, padded with AA
      `${channel} 6C0#100A010203040506`,
      `${channel} 6C8#3004F3AAAAAAAAAA`, // kernel FC: CTS, BS 4, STmin F3, padded with AA
      `${channel} 6C0#210708090A555555`,
    ]);
  });

  it("FD: a 64-byte first frame and a last CF rounded up to 12 bytes with CC", async () => {
    const fd: IsoTpParams = { canFd: true, txDataLength: 64, blocksize: 0, blockingSend: true };
    await using user = await IsoTp.open({ interface: "socketcan", channel, address: ADDRESS, params: fd });
    await using kernel = await IsoTp.open({ stack: "kernel", channel, address: { txid: 0x6c8, rxid: 0x6c0 }, params: fd });
    const dump = await candump(channel, 3);
    const data = Uint8Array.from({ length: 70 }, (_, i) => i + 1);
    const [, got] = await Promise.all([kernel.send(data), user.recv({ timeoutMs: 5000 })]);
    expect(Array.from(got!)).toEqual(Array.from(data));
    const bytes = (from: number, to: number) => hex(data.slice(from, to)).replace(/ /g, "");
    expect((await dump.lines()).map(withoutTime)).toEqual([
      `${channel} 6C8##41046${bytes(0, 62)}`,
      `${channel} 6C0##4300000`,
      `${channel} 6C8##421${bytes(62, 70)}CCCCCC`,
    ]);
  });
});

describe.skipIf(!hasAfCan)("ISO-TP: canwire isotp --stack kernel", () => {
  it("send to isotprecv and recv from isotpsend", async () => {
    const peer = await isotprecv(channel, [...PEER, "-p", "AA"]);
    try {
      const long = payload(100, 6);
      const sent = await runCli(
        ["isotp", "send", "--stack", "kernel", "-c", channel, "--txid", "6C0", "--rxid", "6C8", "-p", "AA", "22F190", hex(long)],
        60_000,
      );
      expect([sent.code, sent.stderr]).toEqual([0, ""]);
      expect(Array.from(await peer.next())).toEqual([0x22, 0xf1, 0x90]);
      expect(await peer.next()).toEqual(long);
    } finally {
      peer.stop();
    }
    const receiving = runCli(
      ["isotp", "recv", "--stack", "kernel", "-c", channel, "--txid", "6C0", "--rxid", "6C8", "-n", "1", "--timeout-ms", "30000"],
      60_000,
    );
    await isoTpBound(channel, "6C8");
    const data = payload(50, 7);
    await isotpsend(channel, [...PEER, "-b"], data);
    const received = await receiving;
    expect([received.code, received.stdout]).toEqual([0, `${hex(data)}\n`]);
  });
});
