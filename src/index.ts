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
export {
  BitTiming,
  BitTimingFd,
  type BitTimingFdFromBitrateOptions,
  type BitTimingFdInit,
  type BitTimingFdSamplePointOptions,
  type BitTimingFromBitrateOptions,
  type BitTimingInit,
  type BitTimingRegisters,
  type BitTimingSamplePointOptions,
  type OscillatorToleranceOptions,
} from "./bit-timing.js";
export {
  Bus,
  type BusOptions,
  type BusState,
  type BusStats,
  type CanInterface,
  type CanProtocol,
  type CanSegments,
  type InterfaceName,
  type SendOptions,
} from "./bus.js";
export type { ConfigSelection } from "./bus-config.js";
export { type CanConfigSources, type ConfigEntry, defaultConfigFiles, loadCanConfig } from "./config-files.js";
export type { ConfigureInterfaceOptions, ControllerOptions } from "./controller.js";
export { type CyclicModifier, type CyclicScheduler, CyclicTask, type CyclicTaskStats, type PeriodicOptions } from "./cyclic.js";
export { FD_LENGTHS, fdDlcToLength, fdLengthToDlc } from "./dlc.js";
export type { ControllerProblems, ErrorFrameInfo, ProtocolViolation } from "./error-frame.js";
export {
  BusClosedError,
  CanError,
  type CanErrorCode,
  CanOsError,
  CanTimeoutError,
  INVALID_INPUT_CODES,
  InternalError,
  InvalidArgumentError,
  ISOTP_ERROR_CODES,
  IsoTpError,
  type IsoTpErrorCode,
  TxBufferFullError,
  UnsupportedError,
} from "./errors.js";
export { Exporter, type ServeExporterOptions, serveExporter } from "./exporter.js";
export { type CanFilter, filtersMatch } from "./filters.js";
export { formatFrame, formatLogLines, parseFrame } from "./frame-text.js";
export {
  IsoTp,
  type IsoTpOptions,
  type IsoTpProtocolError,
  type IsoTpRecvOptions,
  type IsoTpSendOptions,
  type IsoTpStats,
} from "./isotp.js";
export type { IsoTpAddress, IsoTpAddressConfig, IsoTpAddressingMode, IsoTpParams, KernelIsoTpOptions } from "./isotp-config.js";
export { type ExportEntry, type ExportedObject, openExport, openExports } from "./jumpstarter-export.js";
export {
  convertLog,
  type LogDamage,
  type LogFormat,
  LogReader,
  type LogReaderOptions,
  type LogReadStats,
  type LogTruncation,
  LogWriter,
  type LogWriterOptions,
  MAX_READ_BATCH,
} from "./logfile.js";
export { Logger, type LoggerOptions, type LoggerStats, MAX_QUEUE_SIZE, rotatedName } from "./logger.js";
export { Message, type MessageInit } from "./message.js";
export type { MessageEqualsOptions } from "./message-text.js";
export { MAX_PLAYER_MS, Player, type PlayerOptions, type PlayerStats } from "./player.js";
export { BusReader, type ReaderStats, type RecvBatchOptions, type RecvOptions } from "./reader.js";
export { encodeMessages, Flag, FrameBatch, RECORD_SIZE } from "./record.js";
export {
  type AdvertisedSocketcandBus,
  detectSocketcand,
  type SocketcandAddress,
  type SocketcandBuses,
  SocketcandServer,
  type SocketcandServerOptions,
  type SocketcandServerStats,
  serveSocketcand,
} from "./socketcand.js";
export { CanWatch, type WatchEvent, type WatchMux, type WatchOptions } from "./watch.js";
