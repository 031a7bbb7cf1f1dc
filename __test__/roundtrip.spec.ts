import { describe, expect, it } from "vitest";
import { Bus, FD_LENGTHS, Message, type MessageInit, RECORD_SIZE } from "../src/index.js";
import { pair, recvN, uniqueChannel } from "./helpers.js";

async function roundTrip(inits: MessageInit[], options = { fd: true }) {
  const { tx, rx } = await pair({ ...options, preserveTimestamps: true });
  const sent = inits.map((i) => new Message(i));
  for (const m of sent) await tx.send(m);
  const got = await recvN(rx, sent.length);
  await tx.close();
  await rx.close();
  return { sent, got };
}

describe("every field survives the virtual bus exactly", () => {
  it("ids at both range ends, both formats", async () => {
    const inits = [{ id: 0 }, { id: 0x7ff }, { id: 0, extended: true }, { id: 0x1fffffff, extended: true }];
    const { got } = await roundTrip(inits, { fd: false });
    expect(got.map((m) => [m.id, m.extended])).toEqual([
      [0, false],
      [0x7ff, false],
      [0, true],
      [0x1fffffff, true],
    ]);
  });

  it("FD frames at every DLC step 0..64 with BRS and ESI", async () => {
    const inits = FD_LENGTHS.map((len, code) => ({
      id: 0x100 + code,
      fd: true,
      bitrateSwitch: code % 2 === 0,
      errorStateIndicator: code % 3 === 0,
      data: Uint8Array.from({ length: len }, (_, i) => (i * 7 + code) & 0xff),
      timestampNs: 1_699_999_999_000_000_000n + BigInt(code),
    }));
    const { sent, got } = await roundTrip(inits);
    expect(got).toHaveLength(16);
    got.forEach((m, i) => {
      const s = sent[i]!;
      expect(m.equals(s, { timestampDeltaNs: 0, checkChannel: false })).toBe(true);
      expect(m.dlcCode).toBe(i);
      expect(m.dlc).toBe(FD_LENGTHS[i]);
      expect(Array.from(m.data)).toEqual(Array.from(s.data));
    });
  });

  it("remote frames with every requested length, error frames, raw classic DLC", async () => {
    const inits: MessageInit[] = [
      ...Array.from({ length: 9 }, (_, dlc) => ({ id: 0x200, remote: true, dlc })),
      { id: 0x1abcdef0 & 0x1fffffff, extended: true, remote: true, dlc: 8, dlcCode: 15 },
      { id: 0x4, error: true, data: [0, 0x10, 0, 0, 0, 0, 0x60, 0x70] },
      { id: 0x123, data: [1, 2, 3, 4, 5, 6, 7, 8], dlcCode: 11 },
    ];
    const { sent, got } = await roundTrip(inits);
    got.forEach((m, i) => expect(m.equals(sent[i]!, { timestampDeltaNs: 0, checkChannel: false })).toBe(true));
    expect(got.slice(0, 9).map((m) => [m.remote, m.dlc, m.data.length])).toEqual(Array.from({ length: 9 }, (_, dlc) => [true, dlc, 0]));
    expect([got[9]!.dlc, got[9]!.dlcCode]).toEqual([8, 15]);
    expect([got[10]!.error, got[10]!.id, Array.from(got[10]!.data)]).toEqual([true, 4, [0, 0x10, 0, 0, 0, 0, 0x60, 0x70]]);
    expect([got[11]!.dlc, got[11]!.dlcCode]).toEqual([8, 11]);
  });

  it("nanosecond timestamps round-trip as bigint; without preserveTimestamps the bus stamps at send", async () => {
    const { got } = await roundTrip([
      { id: 1, timestampNs: 18_446_744_073_709_551_615n },
      { id: 2, timestampNs: 1n },
    ]);
    expect(got.map((m) => m.timestampNs)).toEqual([18_446_744_073_709_551_615n, 1n]);

    const { tx, rx } = await pair();
    const before = BigInt(Date.now()) * 1_000_000n;
    await tx.send({ id: 1, timestampNs: 5n });
    const m = (await rx.recv({ timeoutMs: 1000 }))!;
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    expect(m.timestampNs >= before && m.timestampNs <= after).toBe(true);
    expect(m.channel).toBe(tx.channel);
    expect(m.isRx).toBe(true);
    await tx.close();
    await rx.close();
  });
});

/** Builds a raw record by hand, bypassing the JS checks, to reach the native ones. */
function rawRecord(fields: { id: number; flags?: number; len?: number; dlc?: number; data?: number[] }): Uint8Array {
  const out = new Uint8Array(RECORD_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(8, fields.id, true);
  view.setUint32(12, fields.flags ?? 0, true);
  out[16] = fields.len ?? 0;
  out[17] = fields.dlc ?? fields.len ?? 0;
  out.set(fields.data ?? [], 24);
  return out;
}

describe("raw record batches are validated natively with the same codes", () => {
  const cases: Array<[string, Parameters<typeof rawRecord>[0], string]> = [
    ["standard id above 0x7FF", { id: 0x800 }, "ERR_ID_OUT_OF_RANGE"],
    ["extended id above 29 bits", { id: 0x20000000, flags: 1 }, "ERR_ID_OUT_OF_RANGE"],
    ["remote with fd", { id: 1, flags: 2 | 8 }, "ERR_REMOTE_CONFLICT"],
    ["remote with error", { id: 1, flags: 2 | 4 }, "ERR_REMOTE_CONFLICT"],
    ["brs without fd", { id: 1, flags: 16 }, "ERR_FLAGS_REQUIRE_FD"],
    ["9 bytes classic", { id: 1, len: 9, dlc: 9 }, "ERR_DATA_TOO_LONG"],
    ["65 bytes fd", { id: 1, flags: 8, len: 65, dlc: 15 }, "ERR_DATA_TOO_LONG"],
    ["13 bytes fd", { id: 1, flags: 8, len: 13, dlc: 10 }, "ERR_INVALID_FD_LENGTH"],
    ["dlc disagrees", { id: 1, len: 2, dlc: 3 }, "ERR_DLC_MISMATCH"],
    ["dlc 16", { id: 1, len: 8, dlc: 16 }, "ERR_INVALID_DLC"],
    ["remote with data", { id: 1, flags: 2, len: 1, dlc: 1 }, "ERR_DLC_MISMATCH"],
    ["unknown flag bits", { id: 1, flags: 1 << 20 }, "ERR_INVALID_ARGUMENT"],
  ];
  it.each(cases)("%s", async (_name, fields, code) => {
    const bus = await Bus.open({ channel: uniqueChannel(), fd: true });
    await expect(bus.sendBatch(rawRecord(fields))).rejects.toMatchObject({ code });
    expect(bus.stats().txFrames).toBe(0);
    await bus.close();
  });

  it("a bad record in a batch sends nothing and names its index", async () => {
    const { tx, rx } = await pair();
    const batch = new Uint8Array(RECORD_SIZE * 3);
    batch.set(rawRecord({ id: 1 }), 0);
    batch.set(rawRecord({ id: 2 }), RECORD_SIZE);
    batch.set(rawRecord({ id: 0x800 }), 2 * RECORD_SIZE);
    await expect(tx.sendBatch(batch)).rejects.toThrow(/^record 2: /);
    expect(await rx.recv({ timeoutMs: 50 })).toBeNull();
    await expect(tx.sendBatch(batch.subarray(0, 100))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await tx.close();
    await rx.close();
  });

  it("an FD frame on a classic bus is refused with ERR_FD_NOT_ENABLED", async () => {
    const { tx, rx } = await pair();
    await expect(tx.send({ id: 1, fd: true, data: [1] })).rejects.toMatchObject({ code: "ERR_FD_NOT_ENABLED" });
    expect(tx.stats().txErrors).toBe(1);
    await tx.close();
    await rx.close();
  });
});

describe("the record layout", () => {
  it("is the same size in TypeScript and in Rust", async () => {
    const { binding } = await import("../src/binding.js");
    expect(binding.RECORD_BYTES).toBe(RECORD_SIZE);
  });
});
