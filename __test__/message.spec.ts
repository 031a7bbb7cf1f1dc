import { describe, expect, it } from "vitest";
import { CanError, InvalidArgumentError, Message, type MessageInit } from "../src/index.js";

function codeOf(init: MessageInit): string | undefined {
  try {
    new Message(init);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e).toBeInstanceOf(CanError);
    return (e as CanError).code;
  }
}

describe("Message defaults", () => {
  it("is a standard classic data frame with dlc = data length", () => {
    const m = new Message({ id: 0x123, data: [1, 2, 3] });
    expect(m).toMatchObject({
      id: 0x123,
      extended: false,
      remote: false,
      error: false,
      fd: false,
      bitrateSwitch: false,
      errorStateIndicator: false,
      dlc: 3,
      dlcCode: 3,
      isRx: true,
      channel: undefined,
    });
    expect(Array.from(m.data)).toEqual([1, 2, 3]);
    expect(m.timestampNs).toBe(0n);
  });

  it("keeps nanoseconds given as a bigint and converts float seconds", () => {
    expect(new Message({ id: 1, timestampNs: 1_699_999_999_123_456_789n }).timestampNs).toBe(1_699_999_999_123_456_789n);
    expect(new Message({ id: 1, timestamp: 1.5 }).timestampNs).toBe(1_500_000_000n);
    expect(new Message({ id: 1, timestampNs: 1_699_999_999_123_456_789n }).timestamp).toBeCloseTo(1699999999.1234567, 6);
  });

  it("copies data so later changes to the source do not leak in", () => {
    const src = new Uint8Array([1, 2]);
    const m = new Message({ id: 1, data: src });
    src[0] = 9;
    expect(m.data[0]).toBe(1);
  });

  it("maps FD lengths to DLC codes and keeps classic raw DLC 9..15", () => {
    expect(new Message({ id: 1, fd: true, data: new Uint8Array(12) }).dlcCode).toBe(9);
    expect(new Message({ id: 1, fd: true, data: new Uint8Array(64) }).dlcCode).toBe(15);
    const raw = new Message({ id: 1, data: new Uint8Array(8), dlcCode: 13 });
    expect([raw.dlc, raw.dlcCode]).toEqual([8, 13]);
    const rtr = new Message({ id: 1, remote: true, dlc: 4 });
    expect([rtr.dlc, rtr.dlcCode, rtr.data.length]).toEqual([4, 4, 0]);
  });
});

describe("Message validation gives one code per rule", () => {
  const cases: Array<[string, MessageInit, string]> = [
    ["standard id above 0x7FF", { id: 0x800 }, "ERR_ID_OUT_OF_RANGE"],
    ["extended id above 0x1FFFFFFF", { id: 0x20000000, extended: true }, "ERR_ID_OUT_OF_RANGE"],
    ["negative id", { id: -1 }, "ERR_INVALID_ARGUMENT"],
    ["fractional id", { id: 1.5 }, "ERR_INVALID_ARGUMENT"],
    ["remote with error", { id: 1, remote: true, error: true }, "ERR_REMOTE_CONFLICT"],
    ["remote with fd", { id: 1, remote: true, fd: true }, "ERR_REMOTE_CONFLICT"],
    ["brs without fd", { id: 1, bitrateSwitch: true }, "ERR_FLAGS_REQUIRE_FD"],
    ["esi without fd", { id: 1, errorStateIndicator: true }, "ERR_FLAGS_REQUIRE_FD"],
    ["9 bytes classic", { id: 1, data: new Uint8Array(9) }, "ERR_DATA_TOO_LONG"],
    ["65 bytes fd", { id: 1, fd: true, data: new Uint8Array(65) }, "ERR_DATA_TOO_LONG"],
    ["13 bytes fd", { id: 1, fd: true, data: new Uint8Array(13) }, "ERR_INVALID_FD_LENGTH"],
    ["dlc disagrees with data", { id: 1, data: [1, 2], dlc: 3 }, "ERR_DLC_MISMATCH"],
    ["raw code 9 with 7 bytes", { id: 1, data: new Uint8Array(7), dlcCode: 9 }, "ERR_DLC_MISMATCH"],
    ["raw code 16", { id: 1, data: new Uint8Array(8), dlcCode: 16 }, "ERR_INVALID_DLC"],
    ["remote with data", { id: 1, remote: true, data: [1] }, "ERR_DLC_MISMATCH"],
    ["remote requesting 9", { id: 1, remote: true, dlc: 9 }, "ERR_INVALID_DLC"],
    ["negative timestamp", { id: 1, timestamp: -1 }, "ERR_INVALID_TIMESTAMP"],
    ["NaN timestamp", { id: 1, timestamp: Number.NaN }, "ERR_INVALID_TIMESTAMP"],
    ["infinite timestamp", { id: 1, timestamp: Infinity }, "ERR_INVALID_TIMESTAMP"],
    ["negative timestampNs", { id: 1, timestampNs: -1n }, "ERR_INVALID_TIMESTAMP"],
    ["byte 256", { id: 1, data: [256] }, "ERR_INVALID_ARGUMENT"],
  ];
  it.each(cases)("%s", (_name, init, code) => {
    expect(codeOf(init)).toBe(code);
  });

  it("accepts both range ends and error class values above 0x7FF", () => {
    for (const init of [
      { id: 0 },
      { id: 0x7ff },
      { id: 0, extended: true },
      { id: 0x1fffffff, extended: true },
      { id: 0x1000, error: true, data: new Uint8Array(8) },
    ]) {
      expect(codeOf(init)).toBeUndefined();
    }
  });

  it("a header accepted once lets no other frame through: the same id with other flags, or an id that shares its memo slot", () => {
    expect(codeOf({ id: 0x123, data: [1] })).toBeUndefined();
    expect(codeOf({ id: 0x123, data: [1], bitrateSwitch: true })).toBe("ERR_FLAGS_REQUIRE_FD");
    expect(codeOf({ id: 0x123, fd: true, data: new Uint8Array(13) })).toBe("ERR_INVALID_FD_LENGTH");
    // 0x001 and 0x1000 meet in one slot of the table of accepted headers (by the id's low bits)
    expect(codeOf({ id: 0x001 })).toBeUndefined();
    expect(codeOf({ id: 0x1000 })).toBe("ERR_ID_OUT_OF_RANGE");
    expect(codeOf({ id: 0x1000, extended: true })).toBeUndefined();
    expect(codeOf({ id: 0x001 })).toBeUndefined();
  });

  it("names what is allowed in the message", () => {
    expect(() => new Message({ id: 0x800 })).toThrow(/allowed 0\.\.=0x7ff; set extended: true/);
    expect(() => new Message({ id: 1, fd: true, data: new Uint8Array(9) })).toThrow(/0\.\.8, 12, 16, 20, 24, 32, 48, 64/);
  });
});
