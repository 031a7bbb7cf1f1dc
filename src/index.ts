/**
 * canwire: a CAN bus toolkit for Node.js on a Rust core.
 *
 * @example
 * ```ts
 * import { Bus } from "canwire";
 *
 * await using bus = await Bus.open({ interface: "virtual", channel: "demo" });
 * await bus.send({ id: 0x123, data: [1, 2, 3] });
 * const msg = await bus.recv({ timeoutMs: 100 });
 * ```
 *
 * @module canwire
 */
export { Bus, type BusOptions, type BusState, type CanInterface, type BusStats, type CanProtocol, type InterfaceName, type SendOptions } from "./bus.js";
export { CyclicTask, type CyclicModifier, type CyclicScheduler, type CyclicTaskStats, type PeriodicOptions } from "./cyclic.js";
export { CanWatch, type WatchEvent, type WatchOptions } from "./watch.js";
export { BusReader, type ReaderStats, type RecvBatchOptions, type RecvOptions } from "./reader.js";
export { Message, type MessageInit } from "./message.js";
export { type ErrorFrameInfo, type ControllerProblems, type ProtocolViolation } from "./error-frame.js";
export { FrameBatch, Flag, RECORD_SIZE, encodeMessages } from "./record.js";
export { type CanFilter, filtersMatch } from "./filters.js";
export { parseFrame, formatFrame, formatLogLines } from "./frame-text.js";
export { IsoTp, type IsoTpOptions, type IsoTpSendOptions, type IsoTpRecvOptions, type IsoTpProtocolError, type IsoTpStats } from "./isotp.js";
export { type IsoTpAddress, type IsoTpAddressConfig, type IsoTpAddressingMode, type IsoTpParams, type KernelIsoTpOptions } from "./isotp-config.js";
export { openExport, openExports, type ExportEntry, type ExportedObject } from "./jumpstarter-export.js";
export { LogReader, LogWriter, MAX_READ_BATCH, convertLog, type LogDamage, type LogFormat, type LogReadStats, type LogTruncation, type LogWriterOptions } from "./logfile.js";
export { Logger, MAX_QUEUE_SIZE, rotatedName, type LoggerOptions, type LoggerStats } from "./logger.js";
export { MAX_PLAYER_MS, Player, type PlayerOptions, type PlayerStats } from "./player.js";
export { FD_LENGTHS, fdLengthToDlc, fdDlcToLength } from "./dlc.js";
export {
  CanError,
  type CanErrorCode,
  INVALID_INPUT_CODES,
  InvalidArgumentError,
  BusClosedError,
  CanTimeoutError,
  UnsupportedError,
  CanOsError,
  TxBufferFullError,
  InternalError,
  IsoTpError,
  type IsoTpErrorCode,
  ISOTP_ERROR_CODES,
} from "./errors.js";
