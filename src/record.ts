/**
 * The packed record format frames cross the native boundary in, and
 * {@link FrameBatch}, a zero-copy view over a batch of records.
 *
 * One record is {@link RECORD_SIZE} bytes, little-endian: timestamp ns (u64)
 * at 0, id (u32) at 8, flags (u32) at 12, data length (u8) at 16, DLC code
 * (u8) at 17, channel index (u32) at 20, 64 data bytes at 24. Flag bits:
 * extended 1, remote 2, error 4, fd 8, bitrateSwitch 16, errorStateIndicator
 * 32, transmitted 64. The Rust side (`canwire_core::record`) reads the same layout.
 *
 * @module
 */

import { invalid } from "./errors.js";
import { Message, type MessageInit } from "./message.js";
import { checkType, describe } from "./options.js";

/** Bytes per record. */
export const RECORD_SIZE = 88;

/** Flag bits of a record. */
export const Flag = {
  /** 29-bit identifier. */
  EXTENDED: 1,
  /** Remote transmission request. */
  REMOTE: 2,
  /** Error frame. */
  ERROR: 4,
  /** CAN FD frame. */
  FD: 8,
  /** FD bit rate switch. */
  BRS: 16,
  /** FD error state indicator. */
  ESI: 32,
  /** Transmitted by this bus (`isRx` false). */
  TX: 64,
  /**
   * The FD frame carried SocketCAN's explicit FD mark (CANFD_FDF, set by Linux
   * 6.2+ on received FD frames; candump's `##5`). Text output keeps it.
   */
  FDF: 128,
} as const;

/** Writes one message into `view` at `offset` (data bytes past its length are zeroed). */
export function writeRecord(view: DataView, bytes: Uint8Array, offset: number, m: Message): void {
  view.setBigUint64(offset, m.timestampNs, true);
  view.setUint32(offset + 8, m.id, true);
  const flags =
    (m.extended ? Flag.EXTENDED : 0) |
    (m.remote ? Flag.REMOTE : 0) |
    (m.error ? Flag.ERROR : 0) |
    (m.fd ? Flag.FD : 0) |
    (m.bitrateSwitch ? Flag.BRS : 0) |
    (m.errorStateIndicator ? Flag.ESI : 0) |
    (m.fdf ? Flag.FDF : 0) |
    (m.isRx ? 0 : Flag.TX);
  view.setUint32(offset + 12, flags, true);
  bytes[offset + 16] = m.remote ? 0 : m.data.length;
  bytes[offset + 17] = m.dlcCode;
  bytes.fill(0, offset + 24 + m.data.length, offset + RECORD_SIZE);
  bytes.set(m.data, offset + 24);
}

/** Packs messages (or what {@link Message} is built from) into one record batch. */
export function encodeMessages(messages: ReadonlyArray<Message | MessageInit>): Buffer {
  checkType(messages, "messages", "array");
  return encodeRecords(toMessages(messages));
}

/** @internal Packs built messages into one record batch. */
export function encodeRecords(list: readonly Message[]): Buffer {
  const out = Buffer.alloc(list.length * RECORD_SIZE);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < list.length; i++) {
    writeRecord(view, out, i * RECORD_SIZE, list[i] as Message);
  }
  return out;
}

/**
 * @internal Each of `messages` as a {@link Message}; errors name the index
 * (`messages[3]`). Holes of a sparse array are visited, as missing messages.
 */
export function toMessages(messages: ReadonlyArray<Message | MessageInit>): Message[] {
  const list = new Array<Message>(messages.length);
  for (let i = 0; i < messages.length; i++) list[i] = toMessage(messages[i] as Message | MessageInit, i);
  return list;
}

/**
 * Turns anything message-like into a validated {@link Message}. Errors call
 * it `message`, or `messages[index]` when an index is given (as `map` does).
 */
export function toMessage(input: Message | MessageInit, index?: number): Message {
  if (input instanceof Message) return input;
  return Message.named(input, index === undefined ? "message" : `messages[${index}]`);
}

/**
 * A batch of received frames as delivered by the native side: one buffer,
 * read in place. Use the accessors for speed, or {@link FrameBatch.messages}
 * for {@link Message} objects.
 *
 * @example
 * ```ts
 * const batch = await bus.recvBatch({ max: 4096, timeoutMs: 100 });
 * for (let i = 0; batch && i < batch.length; i++) total += batch.id(i);
 * ```
 */
export class FrameBatch {
  /** The raw records. */
  readonly buffer: Uint8Array;
  /** Number of frames. */
  readonly length: number;
  readonly #view: DataView;
  readonly #channelName: (index: number) => string | undefined;

  /** @internal */
  constructor(buffer: Uint8Array, channelName: (index: number) => string | undefined) {
    if (!(buffer instanceof Uint8Array) || buffer.byteLength % RECORD_SIZE !== 0) {
      throw invalid(
        "ERR_INVALID_ARGUMENT",
        `a FrameBatch holds whole ${RECORD_SIZE}-byte records, got ${buffer instanceof Uint8Array ? `${buffer.byteLength} bytes` : describe(buffer)}`,
      );
    }
    this.buffer = buffer;
    this.length = buffer.byteLength / RECORD_SIZE;
    this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.#channelName = channelName;
  }

  /** Identifier of frame `i`. */
  id(i: number): number {
    return this.#view.getUint32(this.#offset(i) + 8, true);
  }

  /** Flag bits of frame `i` (see {@link Flag}). */
  flags(i: number): number {
    return this.#view.getUint32(this.#offset(i) + 12, true);
  }

  /** Timestamp of frame `i` in ns since the Unix epoch. */
  timestampNs(i: number): bigint {
    return this.#view.getBigUint64(this.#offset(i), true);
  }

  /** Data of frame `i`, a view into the batch (copy it to keep it past the batch). */
  data(i: number): Uint8Array {
    const offset = this.#offset(i);
    const len = this.buffer[offset + 16] ?? 0;
    return this.buffer.subarray(offset + 24, offset + 24 + len);
  }

  /** Channel index of frame `i`. */
  channelIndex(i: number): number {
    return this.#view.getUint32(this.#offset(i) + 20, true);
  }

  /** The byte offset of frame `i`, or an error when the batch has no frame `i`. */
  #offset(i: number): number {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) {
      throw invalid(
        "ERR_INVALID_ARGUMENT",
        `frame index ${String(i)} is out of range: the batch holds ${this.length} frame(s), 0..${this.length - 1}`,
      );
    }
    return i * RECORD_SIZE;
  }

  /** Frames `start..end` as a batch of their own (a view, no copy). */
  slice(start: number, end = this.length): FrameBatch {
    const from = Math.max(0, Math.min(start, this.length));
    const to = Math.max(from, Math.min(end, this.length));
    return new FrameBatch(this.buffer.subarray(from * RECORD_SIZE, to * RECORD_SIZE), this.#channelName);
  }

  /** The frames `keep` accepts (by index), copied into a new batch. */
  filter(keep: (i: number) => boolean): FrameBatch {
    const out = new Uint8Array(this.buffer.byteLength);
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      if (keep(i)) out.set(this.buffer.subarray(i * RECORD_SIZE, (i + 1) * RECORD_SIZE), n++ * RECORD_SIZE);
    }
    return new FrameBatch(out.subarray(0, n * RECORD_SIZE), this.#channelName);
  }

  /** Channel name of frame `i`, if known. */
  channelName(i: number): string | undefined {
    return this.#channelName(this.channelIndex(i));
  }

  /** Frame `i` as a {@link Message} (its data copied). */
  message(i: number): Message {
    return Message.trusted(() => this.#decode(i));
  }

  /** Every frame as a {@link Message}. */
  messages(): Message[] {
    return Message.trusted(() => {
      const out = new Array<Message>(this.length);
      for (let i = 0; i < this.length; i++) out[i] = this.#decode(i);
      return out;
    });
  }

  #decode(i: number): Message {
    const offset = this.#offset(i);
    const view = this.#view;
    const bytes = this.buffer;
    const flags = view.getUint32(offset + 12, true);
    const len = bytes[offset + 16] ?? 0;
    const dlcCode = bytes[offset + 17] ?? 0;
    const remote = (flags & Flag.REMOTE) !== 0;
    return new Message({
      id: view.getUint32(offset + 8, true),
      extended: (flags & Flag.EXTENDED) !== 0,
      remote,
      error: (flags & Flag.ERROR) !== 0,
      fd: (flags & Flag.FD) !== 0,
      bitrateSwitch: (flags & Flag.BRS) !== 0,
      errorStateIndicator: (flags & Flag.ESI) !== 0,
      fdf: (flags & Flag.FDF) !== 0,
      dlc: remote ? Math.min(dlcCode, 8) : len,
      dlcCode,
      data: bytes.slice(offset + 24, offset + 24 + len),
      timestampNs: view.getBigUint64(offset, true),
      channel: this.#channelName(view.getUint32(offset + 20, true)),
      isRx: (flags & Flag.TX) === 0,
    });
  }

  /** Iterates the frames as {@link Message}s. */
  *[Symbol.iterator](): IterableIterator<Message> {
    for (let i = 0; i < this.length; i++) yield this.message(i);
  }
}
