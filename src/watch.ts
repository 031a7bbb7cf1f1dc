/**
 * {@link CanWatch}: change and timeout events on one CAN id (`bus.watch`).
 *
 * @module
 */
import type { NativeWatch } from "./binding.js";
import { native } from "./errors.js";
import type { Message } from "./message.js";
import { checkTimeout, type IterateOptions, type ReaderStats, type RecvOptions } from "./reader.js";
import { FrameBatch } from "./record.js";
import { waitUntil } from "./waker.js";

/** Options of {@link Bus.watch}. */
export interface WatchOptions {
  /** The id is a 29-bit one (default false). */
  extended?: boolean;
  /** Watch FD frames of the id (default false: classic frames). */
  fd?: boolean;
  /**
   * Report a `"timeout"` event when no frame of the id comes for this many ms,
   * counted from the start and from each frame. One event per silence: the
   * next comes only after a frame re-arms it.
   */
  timeoutMs?: number;
  /**
   * The data bits to compare (bytes, up to 8 for classic and 64 for FD frames).
   * With a mask, the first frame and then each frame whose masked bits differ
   * from the last reported one are `"changed"` events; without one, every
   * frame of the id is a `"received"` event.
   */
  changeMask?: Uint8Array | readonly number[];
  /** With a mask, a change of length is a change too (default false). */
  checkDlc?: boolean;
  /**
   * Hold back events closer than this many ms to the previous one; when that
   * time has passed the latest held-back frame is reported.
   */
  throttleMs?: number;
  /** After a timeout, report the next frame whatever its data (default true). */
  announceResume?: boolean;
  /** Bound of the event queue (default 1024); what does not fit is counted in `stats().overflow`. */
  queueSize?: number;
  /**
   * A multiplexed id (classic frames, instead of `changeMask`): `"changed"`
   * events per multiplexer value. Only a socketcand bus opened with
   * `filtering: "server"` runs it (socketcand's `muxfilter`); other buses
   * throw `ERR_UNSUPPORTED`.
   */
  mux?: WatchMux;
}

/** The multiplexer of a watch (`WatchOptions.mux`); byte lists are at most 8 long, missing bytes 0. */
export interface WatchMux {
  /** The data bits that hold the multiplexer value. */
  mask: Uint8Array | readonly number[];
  /** 1 to 256 watched values; frames with another multiplexer value are not reported. */
  cases: ReadonlyArray<{
    /** The multiplexer value (its bits under `mask`). */
    value: Uint8Array | readonly number[];
    /** The data bits (outside `mask`) whose changes are reported for this value. */
    changeMask: Uint8Array | readonly number[];
  }>;
}

/** One event of a watch. */
export interface WatchEvent {
  /** `"timeout"`: no frame for `timeoutMs`; `"changed"`: masked data changed; `"received"`: a frame (no mask). */
  type: "timeout" | "changed" | "received";
  /** The frame, for `"changed"` and `"received"`. */
  message?: Message;
  /** ns since the epoch: the frame's receive time, or when the timeout was detected. */
  timestampNs: bigint;
}

/**
 * A watch on one CAN id: a bounded queue of {@link WatchEvent}s. On SocketCAN
 * the kernel's broadcast manager runs it (RX_SETUP, one BCM socket per watch:
 * it sees every frame of the interface, this host's own included, whatever
 * the bus's filters; frames from this host read as `isRx` false only on
 * kernels whose BCM flags them, not 6.1; timeouts and throttling count in
 * whole microseconds); on other buses a native thread runs the same logic
 * (canwire-core's `Watcher`) on a reader of the bus.
 *
 * @example
 * ```ts
 * await using watch = bus.watch(0x123, { timeoutMs: 100, changeMask: [0xff, 0x0f] });
 * for await (const event of watch) console.log(event.type, event.message?.data);
 * ```
 */
export class CanWatch implements AsyncIterable<WatchEvent>, AsyncDisposable {
  readonly #native: NativeWatch;
  readonly #channelName: (index: number) => string | undefined;
  readonly #onClose: (watch: CanWatch) => void;
  /** The CAN id watched. */
  readonly id: number;

  /** @internal */
  constructor(
    nativeWatch: NativeWatch,
    id: number,
    channelName: (index: number) => string | undefined,
    onClose: (watch: CanWatch) => void,
  ) {
    this.#native = nativeWatch;
    this.id = id;
    this.#channelName = channelName;
    this.#onClose = onClose;
  }

  /** `"kernel"` when SocketCAN's broadcast manager runs the watch, `"native"` otherwise. */
  get backend(): "kernel" | "native" {
    return this.#native.backend;
  }

  /** True once the watch or its bus is closed (queued events stay readable). */
  get closed(): boolean {
    return this.#native.closed;
  }

  #take(): WatchEvent | null {
    const [event] = native(() => this.#native.take(1));
    if (!event) return null;
    const out: WatchEvent = { type: event.kind as WatchEvent["type"], timestampNs: event.timestampNs };
    if (event.record) out.message = new FrameBatch(event.record, this.#channelName).message(0);
    return out;
  }

  /**
   * The next event; `null` when `timeoutMs` passes first, or when the watch is
   * closed and drained. An aborted `signal` rejects with a `DOMException`
   * named `"AbortError"` and leaves nothing armed.
   */
  async next(options: RecvOptions = {}): Promise<WatchEvent | null> {
    checkTimeout(options.timeoutMs);
    return waitUntil(this.#native, options, () => this.#take() ?? (this.#native.closed ? null : undefined));
  }

  /** Yields events until the watch closes (same as {@link CanWatch.events} without options). */
  [Symbol.asyncIterator](): AsyncGenerator<WatchEvent, void, undefined> {
    return this.events();
  }

  /**
   * Yields events until the watch closes; leaving the loop closes it. An
   * aborted `signal` ends it with an `AbortError` (and closes the watch).
   */
  async *events(options: IterateOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    const wait = { signal: options.signal };
    try {
      for (let event = await this.next(wait); event; event = await this.next(wait)) yield event;
    } finally {
      this.close();
    }
  }

  /** Counters of the event queue. */
  stats(): ReaderStats {
    return native(() => this.#native.stats());
  }

  /** Stops watching (queued events stay readable). Idempotent. */
  close(): void {
    native(() => this.#native.close());
    this.#onClose(this);
  }

  /** Same as {@link CanWatch.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
