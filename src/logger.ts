/**
 * {@link Logger}: a bus reader that writes everything it receives to log
 * files, with rotation and a periodic flush.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { Bus } from "./bus.js";
import { invalid } from "./errors.js";
import { checkWriterOptions, LOG_WRITER_OPTION_KINDS, LogWriter, type LogWriterOptions } from "./logfile.js";
import { checkType, describe, type Shape } from "./options.js";
import type { BusReader } from "./reader.js";

/** Options of {@link Logger.start}. */
export interface LoggerOptions extends LogWriterOptions {
  /** Start a new file once the current one reaches this many bytes. */
  rotateSizeBytes?: number;
  /** Start a new file after this many ms. */
  rotateIntervalMs?: number;
  /** Bound of the logger's own receive queue in frames, an integer 1..{@link MAX_QUEUE_SIZE}. Default 1 048 576. */
  queueSize?: number;
}

/** Counters of a logger. */
export interface LoggerStats {
  /** Frames written. */
  frames: number;
  /** Files written, the current one included. */
  files: string[];
  /** Frames dropped because the logger's queue was full (never silent). */
  dropped: number;
}

/** The JS type of each {@link LoggerOptions} key. */
const LOGGER_OPTION_KINDS: Shape = {
  ...LOG_WRITER_OPTION_KINDS,
  rotateSizeBytes: "number",
  rotateIntervalMs: "number",
  queueSize: "number",
};

/** The largest {@link LoggerOptions.queueSize} (and {@link PlayerOptions.queueSize}): 16 Mi frames. */
export const MAX_QUEUE_SIZE = 1 << 24;

/** With rotation, file `n` is `<stem>_<yyyymmddThhmmss>_#<nnn><ext>` next to `path`. */
export function rotatedName(path: string, n: number, now = new Date()): string {
  checkType(path, "path", "string");
  if (!Number.isSafeInteger(n) || n < 0)
    throw invalid("ERR_INVALID_ARGUMENT", `n must be an integer >= 0, got ${typeof n === "number" ? String(n) : describe(n)}`);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw invalid("ERR_INVALID_ARGUMENT", `now must be a valid Date, got ${now instanceof Date ? "Invalid Date" : describe(now)}`);
  }
  const ext = path.endsWith(".gz") ? `${extname(path.slice(0, -3))}.gz` : extname(path);
  const stem = basename(path, ext);
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  return join(dirname(path), `${stem}_${stamp}_#${String(n).padStart(3, "0")}${ext}`);
}

/**
 * Throws unless `bus` is a {@link Bus}.
 *
 * @internal
 */
export function checkBus(bus: unknown): void {
  if (!(bus instanceof Bus)) throw invalid("ERR_INVALID_ARGUMENT", `bus must be a Bus (from Bus.open), got ${describe(bus)}`);
}

/**
 * Logs a bus to files in the background. Each file is flushed every
 * `flushIntervalMs` (default 1 s), so a killed logger loses at most that much.
 *
 * @example
 * ```ts
 * const logger = Logger.start(bus, "drive.blf", { rotateSizeBytes: 100e6 });
 * // ...
 * await logger.stop();
 * ```
 */
export class Logger implements AsyncDisposable {
  readonly #reader: BusReader;
  readonly #options: LoggerOptions;
  readonly #path: string;
  readonly #rotating: boolean;
  #writer: LogWriter;
  #fileStarted = Date.now();
  #frames = 0;
  readonly #files: string[] = [];
  readonly #done: Promise<void>;
  #dropped: number | undefined;

  private constructor(bus: Bus, path: string, options: LoggerOptions) {
    for (const key of ["rotateSizeBytes", "rotateIntervalMs"] as const) {
      const v = options[key];
      if (v !== undefined && !(v > 0)) {
        throw invalid("ERR_INVALID_ARGUMENT", `options.${key} must be a number > 0, got ${String(v)}`);
      }
    }
    const queueSize = options.queueSize ?? 1 << 20;
    if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > MAX_QUEUE_SIZE) {
      throw invalid("ERR_INVALID_ARGUMENT", `options.queueSize must be an integer 1..${MAX_QUEUE_SIZE}, got ${String(queueSize)}`);
    }
    this.#options = options;
    this.#path = path;
    this.#rotating = options.rotateSizeBytes !== undefined || options.rotateIntervalMs !== undefined;
    // The file first: a path or option the writer refuses leaves no reader on the bus.
    this.#writer = this.#open();
    try {
      this.#reader = bus.reader({ capacity: queueSize });
    } catch (error) {
      void this.#writer.close().catch(() => undefined);
      throw error;
    }
    this.#done = this.#run();
  }

  /**
   * Starts logging `bus` to `path` (format by extension).
   *
   * @throws {@link CanError} `ERR_INVALID_ARGUMENT` for a `bus` that is not a
   *   {@link Bus}, a `path` that is not a string or an option of the wrong
   *   type or out of range; the errors of {@link LogWriter.create}.
   */
  static start(bus: Bus, path: string, options?: LoggerOptions): Logger {
    checkBus(bus);
    checkType(path, "path", "string");
    return new Logger(bus, path, checkWriterOptions<LoggerOptions>(options, LOGGER_OPTION_KINDS));
  }

  #open(): LogWriter {
    const file = this.#rotating ? rotatedName(this.#path, this.#files.length) : this.#path;
    this.#files.push(file);
    this.#fileStarted = Date.now();
    return LogWriter.create(file, this.#options);
  }

  async #shouldRotate(): Promise<boolean> {
    if (!this.#rotating) return false;
    const { rotateIntervalMs, rotateSizeBytes } = this.#options;
    if (rotateIntervalMs !== undefined && Date.now() - this.#fileStarted >= rotateIntervalMs) return true;
    if (rotateSizeBytes !== undefined) {
      // A text writer's buffer is flushed (one write call); a BLF or MF4 writer is not, as
      // that would cut a container or block per batch: its size on disk lags by at most one.
      if (this.#writer.format !== "blf" && this.#writer.format !== "mf4") await this.#writer.flush();
      const size = (await stat(this.#files.at(-1) as string)).size;
      return size >= rotateSizeBytes;
    }
    return false;
  }

  async #run(): Promise<void> {
    try {
      for await (const batch of this.#reader.batches({ max: 16_384 })) {
        await this.#writer.write(batch);
        this.#frames += batch.length;
        if (await this.#shouldRotate()) {
          await this.#writer.close();
          this.#writer = this.#open();
        }
      }
    } finally {
      await this.#writer.close();
    }
  }

  /** Counters. */
  stats(): LoggerStats {
    return { frames: this.#frames, files: [...this.#files], dropped: this.#reader.stats().overflow };
  }

  /** Stops logging: writes what is queued, closes the file. Idempotent. */
  async stop(): Promise<LoggerStats> {
    this.#dropped ??= this.#reader.stats().overflow;
    this.#reader.close();
    await this.#done;
    return { ...this.stats(), dropped: this.#dropped };
  }

  /** The same as {@link Logger.stop}, for code that closes every resource the same way. */
  async close(): Promise<void> {
    await this.stop();
  }

  /** Stops logging at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
