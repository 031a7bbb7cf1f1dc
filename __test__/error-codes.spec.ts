import { describe, expect, it } from "vitest";
import { binding } from "../src/binding.js";
import {
  CAN_ERROR_CODES,
  CanError,
  CanOsError,
  fromNative,
  INVALID_INPUT_CODES,
  InternalError,
  InvalidArgumentError,
  ISOTP_ERROR_CODES,
  TxBufferFullError,
} from "../src/errors.js";
import { Bus, LogReader, UnsupportedError } from "../src/index.js";

const sorted = (codes: readonly string[]) => [...codes].sort();

describe("error codes: the facade knows every code Rust has", () => {
  const native = binding.errorCodes();

  it("CanErrorCode lists exactly ErrorCode::ALL and the ISO-TP codes", () => {
    expect(new Set(CAN_ERROR_CODES).size).toBe(CAN_ERROR_CODES.length);
    expect(sorted(CAN_ERROR_CODES)).toEqual(sorted(native.all));
  });

  it("INVALID_INPUT_CODES are Rust's invalid-input codes", () => {
    expect(sorted(INVALID_INPUT_CODES)).toEqual(sorted(native.invalidInput));
  });

  it("ISOTP_ERROR_CODES are Rust's IsoTpErrorCode::ALL", () => {
    expect(sorted(ISOTP_ERROR_CODES)).toEqual(sorted(native.isoTp));
  });
});

describe("errors cross napi with their fields", () => {
  it("code and message arrive as fields, not as text to parse", async () => {
    const error = await Bus.open({ interface: "nope" as "virtual" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error).toMatchObject({
      code: "ERR_UNKNOWN_INTERFACE",
      message: "unknown interface 'nope': available are 'virtual', 'socketcan' (Linux), 'jumpstarter' and 'udp_multicast'",
    });
  });

  it("an OS error carries its errno as a field", async () => {
    const error = await (async () => LogReader.open("/nonexistent-canwire-dir/x.asc"))().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CanOsError);
    expect((error as CanOsError).errno).toBe("ENOENT");
  });

  it("the envelope's errno and sent become fields of the typed error", () => {
    const envelope = JSON.stringify({ canwire: 1, code: "ERR_TX_BUFFER_FULL", message: "full (ENOBUFS)", errno: "ENOBUFS", sent: 3 });
    const error = fromNative(new Error(envelope));
    expect(error).toBeInstanceOf(TxBufferFullError);
    expect(error).toMatchObject({ code: "ERR_TX_BUFFER_FULL", message: "full (ENOBUFS)", errno: "ENOBUFS", sent: 3 });
  });

  it("a code the facade does not know keeps its code instead of becoming ERR_INTERNAL", () => {
    const error = fromNative(new Error(JSON.stringify({ canwire: 1, code: "ERR_FROM_THE_FUTURE", message: "m" })));
    expect(error).toBeInstanceOf(CanError);
    expect(error).not.toBeInstanceOf(InternalError);
    expect(error.code).toBe("ERR_FROM_THE_FUTURE");
  });

  it("old 'ERR_X: text' messages are not parsed any more", () => {
    const error = fromNative(new Error("ERR_TIMEOUT: too slow"));
    expect(error).toBeInstanceOf(InternalError);
  });

  it("a wrong JS type napi-rs refuses is the caller's ERR_INVALID_ARGUMENT", () => {
    const napiError = Object.assign(new Error("Failed to convert napi value String into rust type `bool`"), { code: "BooleanExpected" });
    const error = fromNative(napiError);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe("ERR_INVALID_ARGUMENT");
  });

  it("every getter and function catches panics (debugPanic is a test-build export)", () => {
    expect(typeof (binding as Record<string, unknown>).debugPanic).toBe("function");
  });
});
