import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { type CanError, Message, type MessageEqualsOptions, type MessageInit } from "../src/index.js";
import { fixed6 } from "../src/message-text.js";
import { skipWithoutPythonPeers } from "./peers/index.js";
import { runPythonCan } from "./python-can.js";

/** The keyword arguments of python-can's `Message` for the same message. */
function pythonKwargs(m: Message): Record<string, unknown> {
  return {
    timestamp: m.timestamp,
    arbitration_id: m.id,
    is_extended_id: m.extended,
    is_remote_frame: m.remote,
    is_error_frame: m.error,
    is_fd: m.fd,
    bitrate_switch: m.bitrateSwitch,
    error_state_indicator: m.errorStateIndicator,
    dlc: m.dlc,
    data: Array.from(m.data),
    channel: m.channel ?? null,
    is_rx: m.isRx,
  };
}

/** python-can 4.6's `str(Message)` of each message. */
function pythonStrings(messages: Message[]): string[] {
  return runPythonCan("import can\nresult = [str(can.Message(**kw)) for kw in data]", messages.map(pythonKwargs)) as string[];
}

/** python-can 4.6's `a.equals(b, ...)` for each case. */
function pythonEquals(cases: [Message, Message, MessageEqualsOptions][]): boolean[] {
  const input = cases.map(([a, b, options]) => ({
    a: pythonKwargs(a),
    b: pythonKwargs(b),
    options: {
      timestamp_delta:
        options.timestampDeltaNs === null ? null : options.timestampDeltaNs === undefined ? 1e-6 : Number(options.timestampDeltaNs) / 1e9,
      check_channel: options.checkChannel ?? true,
      check_direction: options.checkDirection ?? true,
    },
  }));
  return runPythonCan(
    "import can\nresult = [can.Message(**c['a']).equals(can.Message(**c['b']), **c['options']) for c in data]",
    input,
  ) as boolean[];
}

const EPOCH_NS = 1_700_000_000_000_000_000n;

const shown: MessageInit[] = [
  { timestamp: 1700000000.123456, id: 0x123, data: [1, 2, 3], channel: "vcan0" },
  { id: 0x1abcdef, extended: true, isRx: false },
  { id: 0x5, extended: true, data: [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 0xff], channel: "can1" },
  { id: 0x7, remote: true, dlc: 4 },
  { id: 0x7ff, data: [0x61, 0x62, 0x63, 0x31], channel: "3" },
  { id: 0x7ff, data: [0x61, 0x62, 0x20, 0x31] },
  { id: 0x42, data: Array.from("ABCDEFGH", (c) => c.charCodeAt(0)) },
  { id: 0x7, fd: true, bitrateSwitch: true, errorStateIndicator: true, data: Array.from({ length: 20 }, (_, i) => i), channel: "can 0 " },
  { id: 0x18daf110, extended: true, fd: true, data: Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff), isRx: false },
  // a tie at the sixth decimal: Python rounds the exact value half to even (0.007812), JS's toFixed up
  { timestamp: 0.0078125, id: 0x80, extended: true, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] },
  { timestampNs: EPOCH_NS + 999_999_500n, id: 0x100, data: [0x10], channel: "vcan0\x1f" },
  { timestampNs: 123_456_789_012_345_678n, id: 0x0, fd: true, channel: "" },
];

describe.skipIf(skipWithoutPythonPeers())("a message's text, against python-can 4.6's str(Message)", () => {
  it("is python-can's line for the same message, character for character", () => {
    const messages = shown.map((init) => new Message(init));
    const python = pythonStrings(messages);
    expect(messages.map(String)).toEqual(python);
    // spot-check the layout the peer produced, so a broken peer cannot pass this either
    expect(python[0]).toBe(
      "Timestamp: 1700000000.123456    ID:      123    S Rx                DL:  3    01 02 03                    Channel: vcan0",
    );
    expect(python[9]).toBe("Timestamp:        0.007812    ID: 00000080    X Rx E              DL:  8    00 00 00 00 00 00 00 00");
  });

  it("is what toString, template strings, util.inspect and console.log show", () => {
    const m = new Message(shown[4]!);
    const line =
      "Timestamp:        0.000000    ID:      7ff    S Rx                DL:  4    61 62 63 31                 'abc1'    Channel: 3";
    expect(m.toString()).toBe(line);
    expect(`${m}`).toBe(line);
    expect(inspect(m)).toBe(line);
    expect(inspect({ m }, { breakLength: Infinity })).toBe(`{ m: ${line} }`);
  });
});

describe.skipIf(skipWithoutPythonPeers())("message.equals, against python-can 4.6's Message.equals", () => {
  const base: MessageInit = { timestampNs: EPOCH_NS, id: 0x123, data: [1, 2, 3], channel: "vcan0" };
  const m = (change: Partial<MessageInit> = {}) => new Message({ ...base, ...change });
  const cases: [string, Message, Message, MessageEqualsOptions][] = [
    ["a copy", m(), m(), {}],
    ["0.5 µs apart (within the default 1 µs)", m(), m({ timestampNs: EPOCH_NS + 500n }), {}],
    ["2 µs apart", m(), m({ timestampNs: EPOCH_NS + 2000n }), {}],
    ["2 µs apart, timestamps ignored", m(), m({ timestampNs: EPOCH_NS + 2000n }), { timestampDeltaNs: null }],
    ["2 µs apart, a 5 µs delta", m(), m({ timestampNs: EPOCH_NS + 2000n }), { timestampDeltaNs: 5000n }],
    ["another channel", m(), m({ channel: "vcan1" }), {}],
    ["another channel, channels ignored", m(), m({ channel: "vcan1" }), { checkChannel: false }],
    ["the other direction", m(), m({ isRx: false }), {}],
    ["the other direction, directions ignored", m(), m({ isRx: false }), { checkDirection: false }],
    ["other data", m(), m({ data: [1, 2, 4] }), {}],
    ["shorter data", m(), m({ data: [1, 2] }), {}],
    ["an extended id", m(), m({ extended: true }), {}],
    ["another id", m(), m({ id: 0x124 }), {}],
    ["FD", m(), m({ fd: true }), {}],
    ["FD with BRS", m({ fd: true }), m({ fd: true, bitrateSwitch: true }), {}],
    ["FD with ESI", m({ fd: true }), m({ fd: true, errorStateIndicator: true }), {}],
    ["remote frames of other lengths", m({ remote: true, data: [], dlc: 2 }), m({ remote: true, data: [], dlc: 3 }), {}],
    ["an error frame", m(), m({ error: true }), {}],
  ];

  it("decides as python-can for every case", () => {
    const ours = cases.map(([, a, b, options]) => a.equals(b, options));
    const python = pythonEquals(cases.map(([, a, b, options]) => [a, b, options]));
    expect(cases.map(([name], i) => [name, ours[i]])).toEqual(cases.map(([name], i) => [name, python[i]]));
    // and the peer decided what python-can's docs say, so the comparison is not vacuous
    expect(python.filter(Boolean).length).toBe(6);
  });
});

describe("message.equals", () => {
  const a = new Message({ timestampNs: 1_000_000_000n, id: 1 });

  it("takes timestamps exactly 1 µs apart as equal by default, 1 ns more as different (nanoseconds, no float rounding)", () => {
    expect(a.equals(new Message({ timestampNs: 1_000_001_000n, id: 1 }))).toBe(true);
    expect(a.equals(new Message({ timestampNs: 1_000_001_001n, id: 1 }))).toBe(false);
    expect(a.equals(new Message({ timestampNs: 1_000_000_000n, id: 1 }), { timestampDeltaNs: 0 })).toBe(true);
  });

  it("compares the raw DLC code of classic frames with 8 bytes (python-can's dlc 9..15)", () => {
    const eight = Array.from({ length: 8 }, () => 0);
    const plain = new Message({ id: 1, data: eight });
    expect(plain.equals(new Message({ id: 1, data: eight, dlcCode: 15 }))).toBe(false);
    expect(plain.equals(new Message({ id: 1, data: eight, dlcCode: 8 }))).toBe(true);
  });

  it.each([
    [{ timestampDeltaNs: -1 }, "options.timestampDeltaNs must be an integer >= 0 (nanoseconds) or null to ignore timestamps, got -1"],
    [{ timestampDeltaNs: 1.5 }, "options.timestampDeltaNs must be an integer >= 0 (nanoseconds) or null to ignore timestamps, got 1.5"],
    [{ timestampDeltaNs: "1" }, "options.timestampDeltaNs must be a bigint or a number, got string"],
    [{ checkChannel: "no" }, "options.checkChannel must be a boolean, got string"],
  ])("refuses bad options %j", (options, message) => {
    expect(() => a.equals(a, options as MessageEqualsOptions)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message }) as unknown as CanError,
    );
  });

  it("refuses to compare with something that is not a message", () => {
    expect(() => a.equals(null as unknown as Message)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: "equals compares with a Message, got null" }) as unknown as CanError,
    );
  });
});

describe("fixed6", () => {
  it.each([
    [0, "0.000000"],
    [0.0078125, "0.007812"],
    [0.0234375, "0.023438"],
    [1.5, "1.500000"],
    [1700000000.123456, "1700000000.123456"],
    [2 ** 60, "1152921504606846976.000000"],
    [5e-324, "0.000000"],
  ])("formats %d as Python's f'{x:.6f}': %s", (x, text) => {
    expect(fixed6(x)).toBe(text);
  });
});
