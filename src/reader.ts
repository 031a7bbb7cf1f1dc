/**
 * {@link BusReader}: one consumer of a bus with its own bounded queue.
 *
 * @module
 */
import type { NativeReader } from "./binding.js";
import { BusClosedError, invalid, native } from "./errors.js";
import { type Message } from "./message.js";
import { FrameBatch } from "./record.js";
import { checkOptions, type Shape } from "./options.js";

/** Options of a receive call. */
export interface RecvOptions {
  /** Give up after this many milliseconds (resolving `null`); omit to wait as long as it takes. */
  timeoutMs?: number;
}

/** Options of a batch receive call. */
export interface RecvBatchOptions extends RecvOptions {
  /** Most frames in one batch. Default 4096. */
  max?: number;
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
/** Longest delay setTimeout takes (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Readers with a pending wait: kept reachable until the native side wakes them. */
const waiting = new Set<BusReader>();

/**
 * A consumer of a bus: it receives every frame that passes the bus filters
 * from its creation on, through its own bounded queue (overflow is counted in
 * {@link BusReader.stats}, never blocking the sender). Several readers of one
 * bus each get every frame (python-can's Notifier and Listener role).
 *
 * Iterating with `for await` yields messages until the reader or its bus
 * closes; leaving the loop (break, return, throw) closes an extra reader.
 *
 * @example
 * ```ts
 * const logger = bus.reader({ capacity: 1_000_000 });
 * for await (const msg of logger) write(msg);
 * ```
 */
export class BusReader implements AsyncIterable<Message> {
  readonly #native: NativeReader;
  readonly #channelName: (index: number) => string | undefined;
  readonly #closeOnExit: boolean;
  /** A batch taken from the native queue but not yet fully handed out. */
  #pending: FrameBatch | null = null;
  #pos = 0;
  /** Calls waiting for frames; the native waker resolves them all at once. */
  #waiters: Array<() => void> = [];

  /** @internal */
  constructor(nativeReader: NativeReader, channelName: (index: number) => string | undefined, closeOnExit: boolean) {
    this.#native = nativeReader;
    this.#channelName = channelName;
    this.#closeOnExit = closeOnExit;
    // Weak, so the native side never keeps an abandoned reader alive; `waiting` holds it while it waits.
    const self = new WeakRef(this);
    native(() =>
      nativeReader.setWaker(() => {
        const reader = self.deref();
        if (reader) reader.#wake();
      }),
    );
  }

  /** Runs on the JS thread when frames arrive or the reader closes while armed. */
  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    waiting.delete(this);
    for (const resolve of waiters) resolve();
  }

  /**
   * Resolves true once the armed native side calls the waker (frames queued
   * or the reader closed; possibly spurious, callers re-check), false when
   * `timeoutMs` passes first.
   */
  #woken(timeoutMs: number | undefined): Promise<boolean> {
    waiting.add(this);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const woken = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(woken);
      if (timeoutMs === undefined) return;
      timer = setTimeout(
        () => {
          this.#waiters = this.#waiters.filter((w) => w !== woken);
          if (this.#waiters.length === 0) {
            waiting.delete(this);
            native(() => this.#native.disarm());
          }
          // past setTimeout's range: report a spurious wake so the caller waits on
          resolve(timeoutMs > MAX_TIMER_MS);
        },
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
    });
  }

  /** True once the reader or its bus is closed (queued frames can still be read). */
  get closed(): boolean {
    return this.#native.closed;
  }

  /**
   * Takes whatever is queued now; `null` if nothing is. With `arm`, an empty
   * open reader also arms the native waker (see {@link BusReader.#woken}).
   */
  #take(max: number, arm = false): FrameBatch | null {
    const buffer = native(() => this.#native.tryRead(max, arm));
    return buffer ? new FrameBatch(buffer, this.#channelName) : null;
  }

  /**
   * Waits for the next batch. Resolves `null` on timeout, or when the reader
   * is closed and drained. The receiving thread wakes the wait directly, one
   * thread hop; the clock is read only when a wait has a timeout and must wait.
   */
  async #nextBatch(max: number, timeoutMs: number | undefined): Promise<FrameBatch | null> {
    let deadline: number | undefined;
    for (;;) {
      const batch = this.#take(max, timeoutMs !== 0);
      if (batch) return batch;
      if (timeoutMs === 0 || this.#native.closed) return null;
      let remaining: number | undefined;
      if (timeoutMs !== undefined) {
        deadline ??= performance.now() + timeoutMs;
        remaining = Math.max(0, deadline - performance.now());
      }
      if (!(await this.#woken(remaining))) return null;
    }
  }

  /**
   * Receives one message. Resolves `null` when `timeoutMs` passes first.
   * Rejects with {@link BusClosedError} when the reader is closed and drained.
   */
  async recv(options?: RecvOptions): Promise<Message | null> {
    options = checkOptions<RecvOptions>(options, "options", RECV_KINDS);
    checkTimeout(options.timeoutMs);
    if (this.#pending) return this.#shift(this.#pending);
    const batch = await this.#nextBatch(DEFAULT_BATCH, options.timeoutMs);
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
    return this.#takePending() ?? this.#nextBatch(max, options.timeoutMs);
  }

  /** Yields batches until the reader closes. Leaving the loop closes an extra reader. */
  async *batches(options?: { max?: number }): AsyncGenerator<FrameBatch, void, undefined> {
    const max = checkBatchMax(checkOptions<{ max?: number }>(options, "options", RECV_KINDS).max);
    try {
      for (;;) {
        const batch = this.#takePending() ?? (await this.#nextBatch(max, undefined));
        if (!batch) return;
        yield batch;
      }
    } finally {
      if (this.#closeOnExit) this.close();
    }
  }

  /** Yields messages until the reader closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    try {
      for (;;) {
        while (this.#pending) yield this.#shift(this.#pending);
        const batch = await this.#nextBatch(DEFAULT_BATCH, undefined);
        if (!batch) return;
        this.#pending = batch;
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
}

/** The JS type of each receive option. */
const RECV_KINDS: Shape = { timeoutMs: "number", max: "number" };

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
