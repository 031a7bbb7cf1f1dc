/**
 * {@link Player}: replays a log file onto a bus with its original timing,
 * timed by a native thread (never by JS timers).
 *
 * @module
 */
import { binding, type NativePlayback } from "./binding.js";
import { Bus } from "./bus.js";
import { invalid, native } from "./errors.js";
import { LogReader } from "./logfile.js";
import { checkBus, MAX_QUEUE_SIZE } from "./logger.js";
import { checkOptions, checkType, type Shape } from "./options.js";
import type { FrameBatch } from "./record.js";
import { type WakeSource, waitUntil } from "./waker.js";

/** Options of {@link Player.start}. */
export interface PlayerOptions {
  /** Smallest gap between two frames in ms, 0..{@link MAX_PLAYER_MS}. Default 0.1 (python-can's 1e-4 s). */
  gapMs?: number;
  /** Longer pauses in the file are cut to this many ms, 0..{@link MAX_PLAYER_MS}. Default 60 000. */
  skipMs?: number;
  /** Send at `gapMs` intervals, ignoring the file's timestamps. */
  ignoreTimestamps?: boolean;
  /** Play the file this many times (`true`: until stopped). Default 1. */
  loop?: number | true;
  /** Frames queued ahead of time on the native side, an integer 1..{@link MAX_QUEUE_SIZE}. Default 65 536. */
  queueSize?: number;
}

/** The JS type of each {@link PlayerOptions} key. */
const PLAYER_OPTION_KINDS: Shape = {
  gapMs: "number",
  skipMs: "number",
  ignoreTimestamps: "boolean",
  loop: ["number", "boolean"],
  queueSize: "number",
};

/** The largest `gapMs` and `skipMs`: one day. */
export const MAX_PLAYER_MS = 86_400_000;

/** Counters of a replay. */
export interface PlayerStats {
  /** Frames sent. */
  sent: number;
  /** Frames the bus refused (e.g. FD frames on a classic bus). */
  sendErrors: number;
  /** Passes over the file started. */
  passes: number;
}

/**
 * A replay in progress.
 *
 * @example
 * ```ts
 * const player = Player.start(bus, "drive.blf", { loop: 2 });
 * const stats = await player.finished;
 * ```
 */
export class Player implements AsyncDisposable {
  readonly #native: NativePlayback;
  #passes = 0;
  #stopped = false;
  /** The file of the pass in progress (the first one is opened by the constructor). */
  #reader: LogReader | undefined;
  /** Resolves with the counters once the replay ends (or is stopped). */
  readonly finished: Promise<PlayerStats>;
  /** Wakes a push waiting for room in the native queue (through the one waker). */
  readonly #room: WakeSource = {
    arm: (waker, token) => this.#native.armRoom(waker, token),
    disarm: (token) => this.#native.disarm(token),
  };
  /** Wakes the wait for the replay's end. */
  readonly #finished: WakeSource = {
    arm: (waker, token) => this.#native.armFinished(waker, token),
    disarm: (token) => this.#native.disarm(token),
  };

  private constructor(bus: Bus, path: string, options: PlayerOptions) {
    const gapMs = options.gapMs ?? 0.1;
    const skipMs = options.skipMs ?? 60_000;
    const queueSize = options.queueSize ?? 65_536;
    const loop = options.loop ?? 1;
    if (loop !== true && (typeof loop !== "number" || !Number.isSafeInteger(loop) || loop < 1)) {
      throw invalid("ERR_INVALID_ARGUMENT", `options.loop must be a positive integer or true, got ${String(loop)}`);
    }
    // The values are checked natively before the file is opened; a missing or
    // unknown file fails now with a typed error, and the first pass reads it.
    this.#native = native(() => binding.NativePlayback.start(Bus.nativeOf(bus), queueSize, gapMs, skipMs));
    try {
      this.#reader = LogReader.open(path);
    } catch (error) {
      native(() => this.#native.stop());
      throw error;
    }
    this.finished = this.#run(path, gapMs * 1e6, skipMs * 1e6, options.ignoreTimestamps ?? false, loop);
  }

  /**
   * Starts replaying `path` onto `bus`.
   *
   * @throws {@link CanError} `ERR_INVALID_ARGUMENT` for a `bus` that is not a
   *   {@link Bus}, a `path` that is not a string or an option of the wrong
   *   type or out of range; the errors of {@link LogReader.open}.
   */
  static start(bus: Bus, path: string, options?: PlayerOptions): Player {
    checkBus(bus);
    checkType(path, "path", "string");
    return new Player(bus, path, checkOptions<PlayerOptions>(options, "options", PLAYER_OPTION_KINDS));
  }

  async #push(batch: FrameBatch, offsets: Float64Array): Promise<void> {
    let done = 0;
    while (done < batch.length && !this.#stopped) {
      const records = batch.slice(done).buffer;
      const accepted = native(() => this.#native.push(records, offsets.subarray(done)));
      done += accepted;
      if (done < batch.length) await waitUntil(this.#room, {}, () => (this.#native.hasRoom ? true : undefined));
    }
  }

  async #run(path: string, gapNs: number, skipNs: number, ignoreTimestamps: boolean, loop: number | true): Promise<PlayerStats> {
    let offset = -gapNs;
    try {
      while ((loop === true || this.#passes < loop) && !this.#stopped) {
        this.#passes++;
        let previous: bigint | undefined;
        this.#reader ??= LogReader.open(path);
        const reader = this.#reader;
        for await (const batch of reader.batches()) {
          const offsets = new Float64Array(batch.length);
          for (let i = 0; i < batch.length; i++) {
            const ts = batch.timestampNs(i);
            let delta = gapNs;
            if (!ignoreTimestamps && previous !== undefined) {
              delta = Math.max(gapNs, Math.min(skipNs, Number(ts - previous)));
            }
            previous = ts;
            offset += delta;
            offsets[i] = offset;
          }
          await this.#push(batch, offsets);
          if (this.#stopped) break;
        }
        this.#reader = undefined;
      }
      native(() => this.#native.endInput());
      await waitUntil(this.#finished, {}, () => (this.#native.finished ? true : undefined));
    } catch (error) {
      // A push racing stop() finds the replay closed; that is the stop, not a failure.
      if (!this.#stopped) throw error;
    } finally {
      native(() => this.#native.stop());
      await this.#reader?.close();
      this.#reader = undefined;
    }
    return this.stats();
  }

  /** Counters so far. */
  stats(): PlayerStats {
    return { ...(native(() => this.#native.stats()) as Omit<PlayerStats, "passes">), passes: this.#passes };
  }

  /** Stops the replay; what is queued is dropped. Idempotent. */
  async stop(): Promise<PlayerStats> {
    this.#stopped = true;
    native(() => this.#native.stop());
    return this.finished;
  }

  /** Stops the replay and closes its file (as {@link Player.stop}). */
  async close(): Promise<void> {
    await this.stop();
  }

  /** Stops the replay at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
