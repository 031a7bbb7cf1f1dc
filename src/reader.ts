/**
 * {@link BusReader}: one consumer of a bus with its own bounded queue.
 *
 * @module
 */
import type { NativeReader } from "./binding.js";
import { BusClosedError, invalid, native } from "./errors.js";
import type { Message } from "./message.js";
import { checkOptions, type Shape } from "./options.js";
import { FrameBatch } from "./record.js";
import { type TakeOrArmSource, takeOrWake, takeWhenReady, throwIfAborted } from "./waker.js";

/** Options of a receive call. */
export interface RecvOptions {
  /** Give up after this many milliseconds (resolving `null`); omit to wait as long as it takes. */
  timeoutMs?: number;
  /**
   * Give up when this signal aborts: the call rejects with a `DOMException`
   * named `"AbortError"` (as `fetch` does; its `cause` is the signal's
   * reason) and leaves nothing armed. Frames stay queued for the next call.
   */
  signal?: AbortSignal;
}

/** Options of a batch receive call. */
export interface RecvBatchOptions extends RecvOptions {
  /** Most frames in one batch. Default 4096. */
  max?: number;
}

/** Options of an iteration ({@link BusReader.messages}, {@link BusReader.batches}). */
export interface IterateOptions {
  /**
   * End the iteration when this signal aborts: the pending `next()` rejects
   * with a `DOMException` named `"AbortError"`, so a `for await` loop throws
   * it (as `events.on` does).
   */
  signal?: AbortSignal;
}

/** Counters of one reader. */
export interface ReaderStats {
  /** The queue bound in frames. */
  capacity: number;
  /** Frames waiting in the native queue. */
  queued: number;
  /** Frames accepted into the queue. */
  delivered: number;
  /** Frames not queued because the queue was full. */
  overflow: number;
}

const DEFAULT_BATCH = 4096;

/**
 * A consumer of a bus: it receives every frame that passes the bus filters
 * from its creation on, through its own bounded queue (overflow is counted in
 * {@link BusReader.stats}, never blocking the sender). Several readers of one
 * bus each get every frame (python-can's Notifier and Listener role).
 *
 * Iterating with `for await` yields messages until the reader or its bus
 * closes; leaving the loop (break, return, throw) closes an extra reader.
 * {@link BusReader.messages} and {@link BusReader.batches} take an
 * `AbortSignal`. A reader nothing references any more is closed when it is
 * garbage-collected: it stops receiving.
 *
 * @example
 * ```ts
 * const logger = bus.reader({ capacity: 1_000_000 });
 * for await (const msg of logger.messages({ signal: AbortSignal.timeout(60_000) })) write(msg);
 * ```
 */
export class BusReader implements AsyncIterable<Message>, AsyncDisposable {
  readonly #native: NativeReader;
  readonly #closeOnExit: boolean;
  /** A batch taken from the native queue but not yet fully handed out. */
  #pending: FrameBatch | null = null;
  #pos = 0;

  /** Most frames the next read takes. */
  #max = DEFAULT_BATCH;
  /** The native queue as a wait source: a record batch, or a wake-up armed. */
  readonly #source: TakeOrArmSource<FrameBatch>;

  /** @internal */
  constructor(nativeReader: NativeReader, channelName: (index: number) => string | undefined, closeOnExit: boolean) {
    this.#native = nativeReader;
    this.#closeOnExit = closeOnExit;
    const reader = nativeReader;
    this.#source = {
      takeOrArm: (waker, token, keepAlive) => {
        const taken = reader.readOrArm(this.#max, waker, token, keepAlive);
        return typeof taken === "boolean" ? taken : new FrameBatch(taken, channelName);
      },
      take: () => {
        const buffer = reader.tryRead(this.#max);
        return buffer ? new FrameBatch(buffer, channelName) : null;
      },
      disarm: (token) => reader.disarm(token),
    };
  }

  /** True once the reader or its bus is closed (queued frames can still be read). */
  get closed(): boolean {
    return this.#native.closed;
  }

  /**
   * Waits for the next batch of up to `max` frames. Resolves `null` on
   * timeout, or when the reader is closed and drained. One native call per
   * wait (`readOrArm`: the frames queued, or a wake-up armed); the receiving
   * thread wakes the wait directly (one thread hop, see `waker.ts`).
   */
  #nextBatch(max: number, options: RecvOptions): Promise<FrameBatch | null> {
    this.#max = max;
    return takeWhenReady(this.#source, options);
  }

  /**
   * The next batch of up to `max` frames for an iterator: the batch when one
   * is queued (no promise), `null` once the reader is closed and drained, or
   * a promise to await before asking again.
   */
  #stepBatch(max: number, signal: AbortSignal | undefined): FrameBatch | null | Promise<boolean> {
    this.#max = max;
    return this.#takePending() ?? takeOrWake(this.#source, signal);
  }

  /**
   * Receives one message. Resolves `null` when `timeoutMs` passes first.
   * Rejects with {@link BusClosedError} when the reader is closed and drained.
   */
  async recv(options?: RecvOptions): Promise<Message | null> {
    options = checkOptions<RecvOptions>(options, "options", RECV_KINDS);
    checkTimeout(options.timeoutMs);
    throwIfAborted(options.signal);
    if (this.#pending) return this.#shift(this.#pending);
    const batch = await this.#nextBatch(DEFAULT_BATCH, options);
    if (!batch) {
      if (this.#native.closed) throw new BusClosedError("the reader is closed and has no more frames");
      return null;
    }
    this.#pending = batch;
    this.#pos = 0;
    return this.#shift(batch);
  }

  #shift(batch: FrameBatch): Message {
    const m = batch.message(this.#pos++);
    if (this.#pos === batch.length) this.#pending = null;
    return m;
  }

  /** Hands out the unread rest of a partly consumed batch, if any. */
  #takePending(): FrameBatch | null {
    const batch = this.#pending;
    if (!batch) return null;
    this.#pending = null;
    return batch.slice(this.#pos);
  }

  /**
   * Receives a batch of up to `max` frames as one buffer (the fast path).
   * Resolves `null` on timeout or when the reader is closed and drained.
   */
  async recvBatch(options?: RecvBatchOptions): Promise<FrameBatch | null> {
    options = checkOptions<RecvBatchOptions>(options, "options", RECV_KINDS);
    checkTimeout(options.timeoutMs);
    const max = checkBatchMax(options.max);
    throwIfAborted(options.signal);
    return this.#takePending() ?? this.#nextBatch(max, options);
  }

  /**
   * Yields batches until the reader closes. Leaving the loop closes an extra
   * reader; an aborted `signal` ends it with an `AbortError`.
   */
  async *batches(options?: { max?: number } & IterateOptions): AsyncGenerator<FrameBatch, void, undefined> {
    const checked = checkOptions<{ max?: number } & IterateOptions>(options, "options", RECV_KINDS);
    const max = checkBatchMax(checked.max);
    const signal = checked.signal;
    try {
      for (;;) {
        const step = this.#stepBatch(max, signal);
        if (step instanceof Promise) {
          await step;
          continue;
        }
        if (!step) return;
        yield step;
      }
    } finally {
      if (this.#closeOnExit) this.close();
    }
  }

  /** Yields messages until the reader closes (same as {@link BusReader.messages} without options). */
  [Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    return this.messages();
  }

  /**
   * Yields messages until the reader closes. Leaving the loop closes an
   * extra reader; an aborted `signal` ends it with an `AbortError`.
   */
  async *messages(options: IterateOptions = {}): AsyncGenerator<Message, void, undefined> {
    const signal = options.signal;
    try {
      for (;;) {
        while (this.#pending) {
          throwIfAborted(signal);
          yield this.#shift(this.#pending);
        }
        const step = this.#stepBatch(DEFAULT_BATCH, signal);
        if (step instanceof Promise) {
          await step;
          continue;
        }
        if (!step) return;
        this.#pending = step;
        this.#pos = 0;
      }
    } finally {
      if (this.#closeOnExit) this.close();
    }
  }

  /** This reader's counters. */
  stats(): ReaderStats {
    return native(() => this.#native.stats());
  }

  /** Detaches the reader from its bus. Idempotent. */
  close(): void {
    native(() => this.#native.close());
  }

  /** Same as {@link BusReader.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as {@link BusReader.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/** The JS type of each receive option. */
const RECV_KINDS: Shape = { timeoutMs: "number", max: "number", signal: "object" };

/** The largest `max` of a batch: what the native reader's u32 holds. */
const MAX_BATCH = 0xffffffff;

/** `max` (default {@link DEFAULT_BATCH}) when it is an integer 1..2^32-1; never wrapped. */
function checkBatchMax(max: number | undefined): number {
  if (max === undefined) return DEFAULT_BATCH;
  if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) {
    throw invalid("ERR_INVALID_ARGUMENT", `max must be an integer 1..${MAX_BATCH}, got ${String(max)}`);
  }
  return max;
}

/** Throws unless `timeoutMs` is undefined or a number >= 0. */
export function checkTimeout(timeoutMs: number | undefined): void {
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs) || timeoutMs < 0)) {
    throw invalid("ERR_INVALID_ARGUMENT", `timeoutMs must be a number >= 0, got ${String(timeoutMs)}`);
  }
}
