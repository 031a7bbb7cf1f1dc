import { describe, expect, it } from "vitest";
import { binding } from "../src/binding.js";
import {
  Bus,
  CanError,
  encodeMessages,
  FrameBatch,
  filtersMatch,
  formatFrame,
  IsoTp,
  Message,
  openExport,
  parseFrame,
  RECORD_SIZE,
} from "../src/index.js";
import { armedWaits } from "../src/waker.js";
import { uniqueChannel } from "./helpers.js";

const virtualChannelsInUse = () => binding.virtualChannels();

/** The CanError `run` throws or rejects with. */
async function failure(run: () => unknown): Promise<CanError> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CanError);
  return error as CanError;
}

/** Asserts `run` fails with exactly `code` and `message`. */
async function expectFailure(run: () => unknown, code: string, message?: string | RegExp) {
  const error = await failure(run);
  expect(error.code).toBe(code);
  if (typeof message === "string") expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
}

describe("Bus.open: wrong types are ERR_INVALID_ARGUMENT naming the option", () => {
  const open = (options: unknown) => () => Bus.open(options as never);

  it("options themselves", async () => {
    await expectFailure(open(null), "ERR_INVALID_ARGUMENT", "options must be an object, got null");
    await expectFailure(open(5), "ERR_INVALID_ARGUMENT", "options must be an object, got number");
    await expectFailure(open([]), "ERR_INVALID_ARGUMENT", "options must be an object, got array");
  });

  it("each option's type", async () => {
    await expectFailure(open({ fd: "yes" }), "ERR_INVALID_ARGUMENT", "options.fd must be a boolean, got string");
    await expectFailure(open({ channel: 5 }), "ERR_INVALID_ARGUMENT", "options.channel must be a string, got number");
    await expectFailure(open({ interface: null }), "ERR_INVALID_ARGUMENT", "options.interface must be a string, got null");
    await expectFailure(
      open({ receiveOwnMessages: 1 }),
      "ERR_INVALID_ARGUMENT",
      "options.receiveOwnMessages must be a boolean, got number",
    );
    await expectFailure(open({ errorMask: "1" }), "ERR_INVALID_ARGUMENT", "options.errorMask must be a number, got string");
    await expectFailure(open({ filters: {} }), "ERR_INVALID_ARGUMENT", "options.filters must be an array, got object");
    await expectFailure(open({ rxQueueSize: 10n }), "ERR_INVALID_ARGUMENT", "options.rxQueueSize must be a number, got bigint");
  });
});

describe("messages: a CanError for every bad input, lengths checked before allocating", () => {
  it("new Message with a wrong shape or type", async () => {
    await expectFailure(() => new Message(null as never), "ERR_INVALID_ARGUMENT", "message must be an object, got null");
    await expectFailure(() => new Message({ id: "1" } as never), "ERR_INVALID_ARGUMENT", "message.id must be a number, got string");
    await expectFailure(
      () => new Message({ id: 1, channel: 5 } as never),
      "ERR_INVALID_ARGUMENT",
      "message.channel must be a string, got number",
    );
    await expectFailure(
      () => new Message({ id: 1, extended: "yes" } as never),
      "ERR_INVALID_ARGUMENT",
      "message.extended must be a boolean, got string",
    );
    await expectFailure(
      () => new Message({ id: 1, extended: 2 } as never),
      "ERR_INVALID_ARGUMENT",
      "message.extended must be a boolean, got number",
    );
    await expectFailure(
      () => new Message({ id: 1, data: "ab" } as never),
      "ERR_INVALID_ARGUMENT",
      "message.data must be a Uint8Array, an array or an object, got string",
    );
  });

  it("data lengths are checked before anything is allocated", async () => {
    await expectFailure(
      () => new Message({ id: 1, data: { length: -1 } }),
      "ERR_INVALID_ARGUMENT",
      "message.data.length must be an integer >= 0, got -1",
    );
    await expectFailure(
      () => new Message({ id: 1, data: { length: 1.5 } }),
      "ERR_INVALID_ARGUMENT",
      "message.data.length must be an integer >= 0, got 1.5",
    );
    await expectFailure(
      () => new Message({ id: 1, data: { length: 2 ** 31 } }),
      "ERR_DATA_TOO_LONG",
      "a classic frame carries at most 8 bytes, got 2147483648; set fd: true for up to 64",
    );
    await expectFailure(() => new Message({ id: 1, fd: true, data: { length: 2 ** 32 } }), "ERR_DATA_TOO_LONG");
  });

  it("timestamps whose nanoseconds do not fit 64 bits are refused, not wrapped", async () => {
    await expectFailure(() => new Message({ id: 1, timestamp: 1e20 }), "ERR_INVALID_TIMESTAMP", /got 100000000000000000000$/);
    await expectFailure(() => new Message({ id: 1, timestamp: 18446744074 }), "ERR_INVALID_TIMESTAMP");
    expect(new Message({ id: 1, timestamp: 18446744073 }).timestampNs).toBe(18_446_744_073_000_000_000n);
  });

  it("flags given as 0 or 1 are stored as booleans", () => {
    const m = new Message({ id: 1, extended: 1 as never, isRx: 0 as never });
    expect(m.extended).toBe(true);
    expect(m.isRx).toBe(false);
  });

  it("send and sendBatch with a wrong shape", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    try {
      await expectFailure(() => bus.send(null as never), "ERR_INVALID_ARGUMENT", "message must be an object, got null");
      await expectFailure(
        () => bus.sendBatch(5 as never),
        "ERR_INVALID_ARGUMENT",
        "messages must be an array, a FrameBatch or a Uint8Array, got number",
      );
      await expectFailure(
        () => bus.sendBatch([{ id: 1 }, null] as never),
        "ERR_INVALID_ARGUMENT",
        "messages[1] must be an object, got null",
      );
      await expectFailure(() => bus.send({ id: 1 }, null as never), "ERR_INVALID_ARGUMENT", "options must be an object, got null");
      await expectFailure(
        () => bus.send({ id: 1 }, { timeoutMs: "x" } as never),
        "ERR_INVALID_ARGUMENT",
        "options.timeoutMs must be a number, got string",
      );
      expect(bus.stats().txFrames).toBe(0);
    } finally {
      await bus.close();
    }
  });

  it("encodeMessages takes messages or inits and names a bad one by index", async () => {
    expect(encodeMessages([{ id: 1 }]).byteLength).toBe(RECORD_SIZE);
    await expectFailure(() => encodeMessages(null as never), "ERR_INVALID_ARGUMENT", "messages must be an array, got null");
    await expectFailure(() => encodeMessages([{ id: 1 }, { id: 0x800 }]), "ERR_ID_OUT_OF_RANGE");
  });

  it("FrameBatch accessors refuse an index the batch does not hold", async () => {
    const batch = new FrameBatch(encodeMessages([{ id: 1 }]), () => undefined);
    const message = "frame index 5 is out of range: the batch holds 1 frame(s), 0..0";
    await expectFailure(() => batch.id(5), "ERR_INVALID_ARGUMENT", message);
    await expectFailure(() => batch.data(5), "ERR_INVALID_ARGUMENT", message);
    await expectFailure(() => batch.flags(5), "ERR_INVALID_ARGUMENT", message);
    await expectFailure(() => batch.timestampNs(5), "ERR_INVALID_ARGUMENT", message);
    await expectFailure(() => batch.channelIndex(5), "ERR_INVALID_ARGUMENT", message);
    await expectFailure(() => batch.message(-1), "ERR_INVALID_ARGUMENT");
    await expectFailure(() => batch.id(0.5), "ERR_INVALID_ARGUMENT");
    expect(batch.id(0)).toBe(1);
  });
});

describe("filters: types in TS, values in Rust", () => {
  it("setFilters and filtersMatch", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    try {
      await expectFailure(
        () => bus.setFilters([{ id: 1, mask: 1, extended: "yes" }] as never),
        "ERR_INVALID_ARGUMENT",
        "filters[0].extended must be a boolean, got string",
      );
      await expectFailure(() => bus.setFilters([null] as never), "ERR_INVALID_ARGUMENT", "filters[0] must be an object, got null");
      await expectFailure(
        () => bus.setFilters({} as never),
        "ERR_INVALID_ARGUMENT",
        "filters must be an array of { id, mask, extended?, inverted? }, got object",
      );
      await expectFailure(
        () => bus.setFilters([{ id: 2 ** 32, mask: 1 }]),
        "ERR_INVALID_ARGUMENT",
        "filters[0].id must be an integer 0..=0x1fffffff, got 4294967296",
      );
      await expectFailure(
        () => bus.setFilters([{ id: 1, mask: -1 }]),
        "ERR_INVALID_ARGUMENT",
        "filters[0].mask must be an integer 0..=0x1fffffff, got -1",
      );
    } finally {
      await bus.close();
    }
    await expectFailure(() => filtersMatch(null as never, 1, false), "ERR_INVALID_ARGUMENT", "filters must be an array, got null");
    await expectFailure(() => filtersMatch([], "1" as never, false), "ERR_INVALID_ARGUMENT", "id must be a number, got string");
    await expectFailure(
      () => filtersMatch([], 2 ** 32, false),
      "ERR_INVALID_ARGUMENT",
      "id must be an integer 0..=0x1fffffff, got 4294967296",
    );
  });

  it("a bad filter in Bus.open leaves no bus open", async () => {
    const channel = uniqueChannel();
    await expectFailure(() => Bus.open({ channel, filters: [{ id: -1, mask: 0 }] }), "ERR_INVALID_ARGUMENT");
    expect(virtualChannelsInUse()).not.toContain(channel);
  });
});

describe("frame text (can-utils rules)", () => {
  it("9..15 and 17 bytes after ## are an FD length no DLC encodes", async () => {
    for (const n of [9, 15, 17]) {
      await expectFailure(
        () => parseFrame(`123##1${"AA".repeat(n)}`),
        "ERR_INVALID_FD_LENGTH",
        `an FD frame cannot carry ${n} bytes: allowed lengths are 0..8, 12, 16, 20, 24, 32, 48, 64`,
      );
    }
  });

  it("at most one '.' between bytes, as cansend", async () => {
    await expectFailure(() => parseFrame("123#DE..AD"), "ERR_INVALID_FRAME_SYNTAX");
    expect(Array.from(parseFrame("123#DE.AD").data)).toEqual([0xde, 0xad]);
  });

  it("the FD marker ##5 survives a Message", () => {
    const m = parseFrame("123##5");
    expect(m.fdf).toBe(true);
    expect(formatFrame(m)).toBe("123##5");
    expect(formatFrame(parseFrame("123##511"))).toBe("123##511");
    expect(formatFrame(parseFrame("123##1"))).toBe("123##1");
  });

  it("wrong types", async () => {
    await expectFailure(() => parseFrame(5 as never), "ERR_INVALID_ARGUMENT", "text must be a string, got number");
    await expectFailure(() => formatFrame(null as never), "ERR_INVALID_ARGUMENT", "message must be an object, got null");
    await expectFailure(() => new Message({ id: 1, fdf: true }), "ERR_FLAGS_REQUIRE_FD");
  });
});

describe("IsoTp.open and send: types in TS, values in Rust, lengths before allocating", () => {
  it("options of the wrong shape or type", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    const address = { txid: 1, rxid: 2 };
    try {
      await expectFailure(() => IsoTp.open(null as never), "ERR_INVALID_ARGUMENT", "options must be an object, got null");
      await expectFailure(
        () => IsoTp.open({ bus: {}, address } as never),
        "ERR_INVALID_ARGUMENT",
        "options.bus must be a Bus (from Bus.open), got object",
      );
      await expectFailure(
        () => IsoTp.open({ bus, address, params: { stmin: "5" } } as never),
        "ERR_INVALID_ARGUMENT",
        "params.stmin must be a number, got string",
      );
      await expectFailure(
        () => IsoTp.open({ bus, address: { txid: "1", rxid: 2 } } as never),
        "ERR_INVALID_ARGUMENT",
        "address.txid must be a number, got string",
      );
      await expectFailure(
        () => IsoTp.open({ bus, address: null } as never),
        "ERR_INVALID_ARGUMENT",
        "options.address must be an object, got null",
      );
      await expectFailure(
        () => IsoTp.open({ bus, address, rxQueueSize: "9" } as never),
        "ERR_INVALID_ARGUMENT",
        "options.rxQueueSize must be a number, got string",
      );
    } finally {
      await bus.close();
    }
  });

  it("ids and sizes that would wrap are refused", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    try {
      await expectFailure(
        () => IsoTp.open({ bus, address: { txid: 2 ** 32, rxid: 1 } }),
        "ERR_INVALID_ARGUMENT",
        "address.txid must be an integer 0..=4294967295, got 4294967296",
      );
      await expectFailure(
        () => IsoTp.open({ bus, address: { txid: Number.NaN, rxid: 1 } }),
        "ERR_INVALID_ARGUMENT",
        "address.txid must be an integer 0..=4294967295, got NaN",
      );
      await expectFailure(
        () => IsoTp.open({ bus, address: { txid: 1, rxid: 2 }, rxQueueSize: 2 ** 32 }),
        "ERR_INVALID_ARGUMENT",
        "rxQueueSize must be an integer 1..=16777216, got 4294967296",
      );
      await expectFailure(
        () => IsoTp.open({ bus, address: { txid: 1, rxid: 2 }, params: { stmin: 256 } }),
        "ERR_INVALID_ARGUMENT",
        "params.stmin must be an integer 0..=255, got 256",
      );
      const tp = await IsoTp.open({ bus, address: { txid: 1, rxid: 2 } });
      try {
        await expectFailure(
          () => tp.send({ length: 2 ** 32 }),
          "ERR_INVALID_ARGUMENT",
          "data.length must be an integer 0..4294967295 (an ISO-TP payload), got 4294967296",
        );
        await expectFailure(
          () => tp.send({ length: 2 ** 31 }),
          "ERR_INVALID_ARGUMENT",
          "data[2147483647] is undefined: bytes are integers 0..255",
        );
        await expectFailure(() => tp.send(null as never), "ERR_INVALID_ARGUMENT");
      } finally {
        await tp.close();
      }
    } finally {
      await bus.close();
    }
  });
});

describe("openExport: YAML errors and alias bombs are typed", () => {
  it("syntax errors", async () => {
    await expectFailure(() => openExport("a: [", "a"), "ERR_INVALID_ARGUMENT", /^the exporter configuration is not valid YAML: /);
    await expectFailure(() => openExport(5 as never, "a"), "ERR_INVALID_ARGUMENT", "source must be YAML text or an object, got number");
    await expectFailure(
      () => openExport("export: {a: {type: x.Can}}", 5 as never),
      "ERR_INVALID_ARGUMENT",
      "name must be a string, got number",
    );
    await expectFailure(
      () => openExport("export: {a: {type: x.Can, config: 5}}", "a"),
      "ERR_INVALID_ARGUMENT",
      "export 'a' config must be an object, got number",
    );
    await expectFailure(() => openExport("export: {a: {type: x.Can}}", "toString"), "ERR_INVALID_ARGUMENT", /^no export named 'toString'/);
  });

  it("an alias bomb", async () => {
    const rows = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    await expectFailure(() => openExport(rows.join("\n"), "h"), "ERR_INVALID_ARGUMENT", /alias/i);
  });
});

describe("watch, readers and receive options: no value wraps modulo 2^32", () => {
  it("watch", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    try {
      await expectFailure(() => bus.watch(2 ** 32), "ERR_INVALID_ARGUMENT", "id must be an integer 0..=0x1fffffff, got 4294967296");
      await expectFailure(() => bus.watch("1" as never), "ERR_INVALID_ARGUMENT", "id must be a number, got string");
      await expectFailure(() => bus.watch(0x800), "ERR_ID_OUT_OF_RANGE");
      await expectFailure(() => bus.watch(1, null as never), "ERR_INVALID_ARGUMENT", "options must be an object, got null");
      await expectFailure(
        () => bus.watch(1, { timeoutMs: "5" } as never),
        "ERR_INVALID_ARGUMENT",
        "options.timeoutMs must be a number, got string",
      );
      for (const queueSize of [-1, Number.NaN, 2 ** 53, 2 ** 32]) {
        await expectFailure(
          () => bus.watch(1, { queueSize }),
          "ERR_INVALID_ARGUMENT",
          `queueSize must be an integer 1..=1048576, got ${String(queueSize)}`,
        );
      }
      await expectFailure(
        () => bus.watch(1, { timeoutMs: 1e300 }),
        "ERR_INVALID_ARGUMENT",
        /^timeoutMs must be a number of milliseconds > 0 and <= 1000000000000, got 1e300$/,
      );
      expect(bus.stats().readers.length).toBe(1);
    } finally {
      await bus.close();
    }
  });

  it("recv, recvBatch, batches, reader and rxQueueSize", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    try {
      await expectFailure(
        () => bus.recvBatch({ max: 2 ** 32 }),
        "ERR_INVALID_ARGUMENT",
        "max must be an integer 1..4294967295, got 4294967296",
      );
      await expectFailure(() => bus.recvBatch({ max: -1 }), "ERR_INVALID_ARGUMENT", "max must be an integer 1..4294967295, got -1");
      await expectFailure(() => bus.recvBatch(null as never), "ERR_INVALID_ARGUMENT", "options must be an object, got null");
      await expectFailure(
        () => bus.recv({ timeoutMs: "1" } as never),
        "ERR_INVALID_ARGUMENT",
        "options.timeoutMs must be a number, got string",
      );
      await expectFailure(() => bus.batches({ max: -1 }).next(), "ERR_INVALID_ARGUMENT", "max must be an integer 1..4294967295, got -1");
      for (const capacity of [-1, Number.NaN, 2 ** 53, 2 ** 32]) {
        await expectFailure(
          () => bus.reader({ capacity }),
          "ERR_INVALID_ARGUMENT",
          `capacity must be an integer 1..=16777216, got ${String(capacity)}`,
        );
      }
      expect(bus.stats().readers.length).toBe(1);
    } finally {
      await bus.close();
    }
    const channel = uniqueChannel();
    await expectFailure(
      () => Bus.open({ channel, rxQueueSize: 2 ** 32 }),
      "ERR_INVALID_ARGUMENT",
      "rxQueueSize must be an integer 1..=16777216, got 4294967296",
    );
    expect(virtualChannelsInUse()).not.toContain(channel);
  });
});

describe("Message rules are the native Frame::validate (one validator)", () => {
  it("new Message reports the same text as a send of the same record", async () => {
    await expectFailure(
      () => new Message({ id: 1, data: [1, 2], dlcCode: 9 }),
      "ERR_DLC_MISMATCH",
      "DLC 9 does not match 2 data bytes: allowed DLC 2",
    );
    await expectFailure(
      () => new Message({ id: 0x800 }),
      "ERR_ID_OUT_OF_RANGE",
      "id 0x800 does not fit an 11-bit identifier: allowed 0..=0x7ff; set extended: true for a 29-bit id",
    );
    await expectFailure(
      () => new Message({ id: 0x20000000, extended: true }),
      "ERR_ID_OUT_OF_RANGE",
      "id 0x20000000 does not fit a 29-bit identifier: allowed 0..=0x1fffffff",
    );
    await expectFailure(
      () => new Message({ id: 1, data: new Uint8Array(8), dlcCode: 16 }),
      "ERR_INVALID_DLC",
      "DLC code 16 is out of range: allowed 0..=15",
    );
    await expectFailure(
      () => new Message({ id: 1, remote: true, data: [1] }),
      "ERR_DLC_MISMATCH",
      "a remote frame carries no data, got 1 bytes",
    );
  });
});

describe("hostile shapes found by trying the API as a user", () => {
  it("a signal that is not an AbortSignal is refused before anything is armed", async () => {
    await using bus = await Bus.open({ channel: uniqueChannel() });
    const notASignal = {} as AbortSignal;
    await expectFailure(
      () => bus.recv({ signal: notASignal, timeoutMs: 10 }),
      "ERR_INVALID_ARGUMENT",
      "options.signal must be an AbortSignal, got object",
    );
    await expectFailure(
      () => bus.recvBatch({ signal: notASignal, timeoutMs: 10 }),
      "ERR_INVALID_ARGUMENT",
      "options.signal must be an AbortSignal, got object",
    );
    // nothing armed was left behind to fire later
    expect(armedWaits()).toBe(0);
  });

  it("holes of a sparse array are named like any missing message", async () => {
    await using bus = await Bus.open({ channel: uniqueChannel() });
    // biome-ignore lint/suspicious/noSparseArray: the hostile input under test
    const sparse = [, { id: 1 }] as unknown as MessageInitList;
    await expectFailure(() => bus.sendBatch(sparse), "ERR_INVALID_ARGUMENT", "messages[0] must be an object, got undefined");
    await expectFailure(() => encodeMessages(sparse), "ERR_INVALID_ARGUMENT", "messages[0] must be an object, got undefined");
  });

  it("a FrameBatch holds whole records", async () => {
    await expectFailure(
      () => new FrameBatch(new Uint8Array(RECORD_SIZE + 5), () => undefined),
      "ERR_INVALID_ARGUMENT",
      `a FrameBatch holds whole ${RECORD_SIZE}-byte records, got ${RECORD_SIZE + 5} bytes`,
    );
  });
});

type MessageInitList = Parameters<typeof encodeMessages>[0];
