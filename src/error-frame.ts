/**
 * Decoded SocketCAN error frames: what {@link Message.errorInfo} returns.
 *
 * @module
 */
import { binding } from "./binding.js";

/** Controller problems (error class `0x004`, data byte 1). */
export interface ControllerProblems {
  rxOverflow: boolean;
  txOverflow: boolean;
  /** RX error counter at or above the warning level (96). */
  rxWarning: boolean;
  /** TX error counter at or above the warning level (96). */
  txWarning: boolean;
  /** RX error counter at or above the error-passive level (128). */
  rxPassive: boolean;
  /** TX error counter at or above the error-passive level (128). */
  txPassive: boolean;
  /** Back to error active. */
  active: boolean;
}

/** A protocol violation (error class `0x008`, data bytes 2 and 3). */
export interface ProtocolViolation {
  /** Violation kinds: "bit", "form", "stuff", "bit0", "bit1", "overload", "active", "tx"; empty when unspecified. */
  kinds: string[];
  /** Where in the frame: "sof", "id28-21", ..., "ack-slot", "eof", "intermission", "unspecified", "unknown". */
  location: string;
}

/** Everything a SocketCAN error frame reports (`linux/can/error.h`). */
export interface ErrorFrameInfo {
  /** The raw error class bits (the frame's id). */
  class: number;
  /** The controller state the frame reports, if any: "active", "warning", "passive" or "bus-off". */
  state: "active" | "warning" | "passive" | "bus-off" | undefined;
  txTimeout: boolean;
  /** Bit position where arbitration was lost (0 = unspecified). */
  lostArbitrationBit: number | undefined;
  controller: ControllerProblems | undefined;
  protocol: ProtocolViolation | undefined;
  /** Transceiver status, e.g. "canh-no-wire", "canl-short-to-gnd", "unspecified". */
  transceiver: string | undefined;
  /** No ACK on transmission. */
  noAck: boolean;
  busOff: boolean;
  busError: boolean;
  /** The controller restarted. */
  restarted: boolean;
  txErrorCount: number | undefined;
  rxErrorCount: number | undefined;
}

/** Decodes an error frame's class bits and data (done natively by canwire-core). */
export function decodeErrorFrame(classBits: number, data: Uint8Array): ErrorFrameInfo {
  const raw = binding.decodeErrorFrame(classBits, data);
  return {
    class: raw.class,
    state: (raw.state ?? undefined) as ErrorFrameInfo["state"],
    txTimeout: raw.txTimeout,
    lostArbitrationBit: raw.lostArbitrationBit ?? undefined,
    controller: raw.controller ?? undefined,
    protocol: raw.protocol ?? undefined,
    transceiver: raw.transceiver ?? undefined,
    noAck: raw.noAck,
    busOff: raw.busOff,
    busError: raw.busError,
    restarted: raw.restarted,
    txErrorCount: raw.txErrorCount ?? undefined,
    rxErrorCount: raw.rxErrorCount ?? undefined,
  };
}
