/**
 * Log files: {@link LogReader}, {@link LogWriter} and {@link convertLog} for
 * BLF, ASC, candump `.log`, TRC and CSV (text formats also as `.gz`),
 * python-can's SQLite table (`.db`) and ASAM MDF 4 bus logs (`.mf4`), the
 * format chosen by extension. Reading and writing run off the JS thread.
 *
 * MF4 (`.mf4`) has python-can's and asammdf's layout (channel groups
 * `CAN_DataFrame`, `CAN_ErrorFrame`, `CAN_RemoteFrame`); every frame field
 * is kept, the channel as a byte (0..255), timestamps to the nanosecond
 * (python-can's reader keeps what a float of Unix seconds can). Written as it
 * comes, in blocks cut at each flush: a killed writer leaves a file canwire
 * reads up to the last flush (asammdf wants it finished).
 *
 * SQLite (`.db`) has python-can's columns `ts, arbitration_id, extended,
 * remote, error, dlc, data` and nothing more: timestamps are doubles (µs kept),
 * there is no FD, BRS, ESI, channel or direction column, so an FD frame of
 * more than 8 bytes reads back as FD without BRS/ESI, one of 8 bytes or less
 * as a classic frame, and every frame as channel 0, received. Writes are
 * batched: each flush (every `flushIntervalMs`, on `flush()` and `close()`,
 * and every 8192 frames) commits one transaction, so a crash loses only what
 * came after the last flush.
 *
 * @module
 */
import { binding, type NativeLogReader, type NativeLogWriter } from "./binding.js";
import { invalid, native, nativeAsync } from "./errors.js";
import type { Message, MessageInit } from "./message.js";
import { checkOptions, checkType, describe, type Shape } from "./options.js";
import { FrameBatch, RECORD_SIZE, toMessage, writeRecord } from "./record.js";

/** The formats, by their usual extension. */
export type LogFormat = "blf" | "asc" | "log" | "trc" | "csv" | "db" | "mf4";

/** Where a file ended before its regular end (every frame before it was read). */
export interface LogTruncation {
  /** The line the input stopped in (text formats). */
  line: number | null;
  /** The byte offset (BLF). */
  byteOffset: number | null;
  /** What was found. */
  reason: string;
}

/** A stretch of a damaged BLF file that was skipped. */
export interface LogDamage {
  /** Byte offset of the damaged object (inside a container: the container's). */
  byteOffset: number;
  /** Bytes skipped (file bytes, or decompressed bytes inside a container). */
  skippedBytes: number;
  /** What was wrong. */
  reason: string;
}

/** Counters of a reader. */
export interface LogReadStats {
  /** Lines (text) or objects (BLF) read. */
  lines: number;
  /** Frames read. */
  frames: number;
  /** Records skipped on purpose (statistics, status, J1939, unknown BLF objects). */
  skipped: number;
  /** Lines that did not parse, counted, never fatal. */
  unknown: number;
  /** The first few skipped and unknown lines with their line number. */
  issues: Array<{ line: number; skipped: boolean; reason: string }>;
  /** Set when the file was cut short (damage is counted in `damaged`). */
  truncated: LogTruncation | null;
  /** Damaged stretches of a BLF file skipped (reading went on after each). */
  damaged: number;
  /** Bytes skipped over all damaged stretches. */
  damagedBytes: number;
  /** The first few damaged stretches, in file order. */
  damage: LogDamage[];
}

/** The most frames one {@link LogReader.readBatch} returns. */
export const MAX_READ_BATCH = 1 << 20;

/** Options of {@link LogReader.open}. */
export interface LogReaderOptions {
  /** SQLite (`.db`): the table to read, python-can's `"messages"` by default (other formats: `ERR_INVALID_ARGUMENT`). */
  sqliteTable?: string;
}

const LOG_READER_OPTION_KINDS: Shape = { sqliteTable: "string" };

/** Channel names of a reader: the file's table, or the 0-based index as text. */
function channelNamer(names: string[]): (index: number) => string {
  return (index) => names[index] ?? String(index);
}

/**
 * Reads a log file with constant memory. The file is closed when the reader
 * reaches its end, on an error, on {@link LogReader.close}, when a `for await`
 * loop over it ends early, and at the end of an `await using` block.
 *
 * A damaged BLF file gives every frame outside the damage first; then the
 * read rejects with `ERR_CORRUPT_FILE` naming the first damaged byte offset,
 * and {@link LogReader.stats} lists what was skipped.
 *
 * @example
 * ```ts
 * const log = LogReader.open("drive.blf");
 * for await (const msg of log) console.log(msg.timestampNs, msg.id);
 * console.log(log.stats());
 * ```
 */
export class LogReader implements AsyncIterable<Message>, AsyncDisposable {
  readonly #native: NativeLogReader;
  /** The path read. */
  readonly path: string;

  private constructor(nativeReader: NativeLogReader, path: string) {
    this.#native = nativeReader;
    this.path = path;
  }

  /**
   * Opens a file; the format comes from the extension.
   *
   * @throws {@link CanError} `ERR_OS` for a missing file, `ERR_INVALID_ARGUMENT`
   *   for an unknown extension, `ERR_CORRUPT_FILE` for a bad BLF header, or
   *   a `.db` file that is no SQLite database or lacks the table.
   */
  static open(path: string, options?: LogReaderOptions): LogReader {
    checkType(path, "path", "string");
    const { sqliteTable } = checkOptions<LogReaderOptions>(options, "options", LOG_READER_OPTION_KINDS);
    return new LogReader(
      native(() => binding.NativeLogReader.open(path, sqliteTable)),
      path,
    );
  }

  /** The format. */
  get format(): LogFormat {
    return this.#native.format as LogFormat;
  }

  /** Channel names by index (candump `.log` names; numbered formats give none). */
  get channelNames(): string[] {
    return native(() => this.#native.channelNames());
  }

  /** The file's start time (ns since the epoch), where the format records one. */
  get startTimeNs(): bigint | null {
    return native(() => this.#native.startTimeNs()) ?? null;
  }

  /** Whether the file is still open (false after the end, an error or `close()`). */
  get isOpen(): boolean {
    return native(() => this.#native.isOpen);
  }

  /**
   * Reads up to `max` frames (an integer 1..{@link MAX_READ_BATCH}, default
   * 4096); `null` at the end of the file. After `close()` before the end it
   * rejects with `ERR_CLOSED`.
   */
  async readBatch(max = 4096): Promise<FrameBatch | null> {
    checkType(max, "max", "number");
    const buffer = await nativeAsync(() => this.#native.readBatch(max));
    return buffer ? new FrameBatch(buffer, channelNamer(this.channelNames)) : null;
  }

  /**
   * Yields batches of up to `max` frames to the end of the file (a bad `max`
   * rejects the first step); ending the loop early closes the file.
   */
  async *batches(max = 4096): AsyncGenerator<FrameBatch, void, undefined> {
    // A bad max rejects here, before the loop whose end closes the file.
    let batch = await this.readBatch(max);
    try {
      for (; batch; batch = await this.readBatch(max)) yield batch;
    } finally {
      await this.close();
    }
  }

  /** Yields every message to the end of the file; ending the loop early closes the file. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Closes the file. Idempotent; counters and names stay readable. */
  async close(): Promise<void> {
    await nativeAsync(() => this.#native.close());
  }

  /** Closes the file at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Counters, the first problem lines, damage and truncation. */
  stats(): LogReadStats {
    return native(() => this.#native.stats()) as LogReadStats;
  }
}

/** Options of {@link LogWriter.create}. */
export interface LogWriterOptions {
  /** Channel names by index (written by candump `.log`; numbered formats write index + 1). */
  channels?: string[];
  /** CSV columns: `"canwire"` (default, lossless) or `"python-can"`. */
  csvFlavor?: "canwire" | "python-can";
  /** gzip level 0..9 for `.gz` files. */
  gzipLevel?: number;
  /** BLF zlib level 0..9 (default 6). */
  compressionLevel?: number;
  /** Add to an existing `.blf`, uncompressed `.log` or `.db` file instead of truncating it (other formats: `ERR_UNSUPPORTED`). */
  append?: boolean;
  /** SQLite (`.db`): the table to write (letters, digits, `_`), python-can's `"messages"` by default. */
  sqliteTable?: string;
  /**
   * MF4 (`.mf4`): python-can's `compression_level`: 0 plain blocks, 1
   * deflate, 2 (default) transposed deflate, the smallest files.
   */
  mf4Compression?: number;
  /**
   * MF4 (`.mf4`): the unit of each record's time. `"ns"` (default) keeps
   * every timestamp exact; `"us"` stores whole microseconds (rounded to the
   * nearest, ties to even; read back as ns multiples of 1000), coarser than
   * python-can's float seconds (about 0.24 µs today) and, on periodic
   * traffic, files as small as asammdf's.
   */
  mf4TimeResolution?: "ns" | "us";
  /**
   * Flush at least this often (BLF: close the open container), so a killed
   * process loses at most this much, 0..2^31-1 (Node's longest timer).
   * Default 1000; 0 turns it off.
   */
  flushIntervalMs?: number;
}

/**
 * The JS type of each {@link LogWriterOptions} key.
 *
 * @internal
 */
export const LOG_WRITER_OPTION_KINDS: Shape = {
  channels: "array",
  csvFlavor: "string",
  gzipLevel: "number",
  compressionLevel: "number",
  append: "boolean",
  flushIntervalMs: "number",
  sqliteTable: "string",
  mf4Compression: "number",
  mf4TimeResolution: "string",
};

/** The longest {@link LogWriterOptions.flushIntervalMs}: Node's longest timer (about 24.8 days). */
const MAX_FLUSH_INTERVAL_MS = 2 ** 31 - 1;

/**
 * Checks the types of `options` against `shape` (which holds the
 * {@link LogWriterOptions} keys) and of each channel name.
 *
 * @internal
 */
export function checkWriterOptions<T extends LogWriterOptions>(options: unknown, shape: Shape): T {
  const checked = checkOptions<T>(options, "options", shape);
  checked.channels?.forEach((name, i) => checkType(name, `options.channels[${i}]`, "string"));
  return checked;
}

/**
 * Writes a log file. Messages' `channel` names map to channel indexes: a
 * name that is a number is that index, other names get indexes in the order
 * they first appear (after `channels`).
 *
 * @example
 * ```ts
 * await using out = LogWriter.create("capture.blf");
 * for await (const batch of bus.batches()) await out.write(batch);
 * ```
 */
export class LogWriter implements AsyncDisposable {
  readonly #native: NativeLogWriter;
  readonly #channels = new Map<string, number>();
  #nextChannel: number;
  readonly #flushTimer: NodeJS.Timeout | undefined;
  /** The path written. */
  readonly path: string;

  private constructor(nativeWriter: NativeLogWriter, path: string, channels: string[], flushIntervalMs: number) {
    this.#native = nativeWriter;
    this.path = path;
    channels.forEach((name, i) => this.#channels.set(name, i));
    this.#nextChannel = channels.length;
    if (flushIntervalMs > 0) {
      this.#flushTimer = setInterval(() => void this.flush().catch(() => undefined), flushIntervalMs);
      this.#flushTimer.unref();
    }
  }

  /**
   * Creates (truncates) a file; the format comes from the extension.
   *
   * @throws {@link CanError} `ERR_INVALID_ARGUMENT` for a path that is not a
   *   string or an option of the wrong type or out of range, `ERR_UNSUPPORTED`
   *   for an unknown extension, `ERR_OS` when the file cannot be created.
   */
  static create(path: string, options?: LogWriterOptions): LogWriter {
    checkType(path, "path", "string");
    options = checkWriterOptions<LogWriterOptions>(options, LOG_WRITER_OPTION_KINDS);
    const channels = options.channels ?? [];
    const flushIntervalMs = options.flushIntervalMs ?? 1000;
    if (!(flushIntervalMs >= 0 && flushIntervalMs <= MAX_FLUSH_INTERVAL_MS)) {
      throw invalid(
        "ERR_INVALID_ARGUMENT",
        `options.flushIntervalMs must be a number 0..${MAX_FLUSH_INTERVAL_MS}, got ${String(flushIntervalMs)}`,
      );
    }
    const nativeOptions: Parameters<typeof binding.NativeLogWriter.create>[1] = { channelNames: channels };
    if (options.csvFlavor !== undefined) nativeOptions.csvFlavor = options.csvFlavor;
    if (options.gzipLevel !== undefined) nativeOptions.gzipLevel = options.gzipLevel;
    if (options.compressionLevel !== undefined) nativeOptions.compressionLevel = options.compressionLevel;
    if (options.append !== undefined) nativeOptions.append = options.append;
    if (options.sqliteTable !== undefined) nativeOptions.sqliteTable = options.sqliteTable;
    if (options.mf4Compression !== undefined) nativeOptions.mf4Compression = options.mf4Compression;
    if (options.mf4TimeResolution !== undefined) nativeOptions.mf4TimeResolution = options.mf4TimeResolution;
    return new LogWriter(
      native(() => binding.NativeLogWriter.create(path, nativeOptions)),
      path,
      channels,
      flushIntervalMs,
    );
  }

  /** The format. */
  get format(): LogFormat {
    return this.#native.format as LogFormat;
  }

  #channelIndex(name: string | undefined): number {
    if (name === undefined) return 0;
    const known = this.#channels.get(name);
    if (known !== undefined) return known;
    const index = /^\d+$/.test(name) ? Number(name) : this.#nextChannel++;
    this.#channels.set(name, index);
    native(() => this.#native.nameChannel(index, name));
    return index;
  }

  /**
   * Writes messages, or a received {@link FrameBatch} as it is (its channels
   * named as the batch names them). A message the format cannot hold rejects
   * with a typed error; what was written before stays.
   */
  async write(messages: Message | MessageInit | ReadonlyArray<Message | MessageInit> | FrameBatch): Promise<void> {
    let records: Uint8Array;
    if (messages instanceof FrameBatch) {
      records = Buffer.from(messages.buffer);
      const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
      for (let i = 0; i < messages.length; i++) {
        view.setUint32(i * RECORD_SIZE + 20, this.#channelIndex(messages.channelName(i)), true);
      }
    } else {
      const given: unknown[] = Array.isArray(messages) ? messages : [messages];
      given.forEach((m, i) => {
        if (m === null || typeof m !== "object") {
          const what = Array.isArray(messages) ? `messages[${i}]` : "messages";
          throw invalid(
            "ERR_INVALID_ARGUMENT",
            `${what} must be a Message, a MessageInit object, an array of them or a FrameBatch, got ${describe(m)}`,
          );
        }
      });
      const list = (given as Array<Message | MessageInit>).map(toMessage);
      const out = Buffer.alloc(list.length * RECORD_SIZE);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      list.forEach((m, i) => {
        writeRecord(view, out, i * RECORD_SIZE, m);
        view.setUint32(i * RECORD_SIZE + 20, this.#channelIndex(m.channel), true);
      });
      records = out;
    }
    await nativeAsync(() => this.#native.writeBatch(records));
  }

  /** Pushes buffered data to the file (BLF: cuts the open container). */
  async flush(): Promise<void> {
    await nativeAsync(() => this.#native.flush());
  }

  /** Writes the trailer and closes the file. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.#flushTimer);
    await nativeAsync(() => this.#native.finish());
  }

  /** Closes the file at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The JS type of each {@link convertLog} option. */
const CONVERT_OPTION_KINDS: Shape = { ...LOG_WRITER_OPTION_KINDS, onProgress: "function" };

/**
 * Converts a log file into another format (chosen by extension), with
 * constant memory. `onProgress` gets the frames converted so far.
 *
 * @returns the reader's counters (frames, skipped and unknown lines, truncation).
 * @throws {@link CanError} `ERR_CORRUPT_FILE` for a damaged BLF input, once
 *   every readable frame is converted and the output is closed.
 */
export async function convertLog(
  input: string,
  output: string,
  options?: LogWriterOptions & { onProgress?: (frames: number) => void },
): Promise<LogReadStats> {
  checkType(input, "input", "string");
  checkType(output, "output", "string");
  options = checkWriterOptions<LogWriterOptions & { onProgress?: (frames: number) => void }>(options, CONVERT_OPTION_KINDS);
  const reader = LogReader.open(input);
  let writer: LogWriter;
  try {
    writer = LogWriter.create(output, { channels: reader.channelNames, ...options });
  } catch (error) {
    await reader.close();
    throw error;
  }
  try {
    let frames = 0;
    for await (const batch of reader.batches(16_384)) {
      await writer.write(batch);
      frames += batch.length;
      options.onProgress?.(frames);
    }
  } finally {
    await writer.close();
  }
  return reader.stats();
}
