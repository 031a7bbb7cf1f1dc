/**
 * {@link CyclicTask}: messages sent periodically by the native scheduler or
 * by SocketCAN's broadcast manager.
 *
 * @module
 */
import type { binding, NativeCyclicTask } from "./binding.js";
import { CanError, canError, fromNative, invalid, native, toEnvelope } from "./errors.js";
import type { Message, MessageInit } from "./message.js";
import { checkObject, checkShape, checkType, type Shape } from "./options.js";
import { FrameBatch } from "./record.js";

/**
 * A per-send modifier: gets the message that just went and its send number
 * (0 at the start; slots skipped by a late scheduler count too), returns the
 * next content of that message (a message, or its data alone), or nothing to
 * keep it.
 */
export type CyclicModifier = (message: Message, index: number) => Message | MessageInit | Uint8Array | void;

/** Which scheduler runs a task. */
export type CyclicScheduler = "native" | "kernel";

/** Options of {@link Bus.sendPeriodic}. */
export interface PeriodicOptions {
  /** Interval between frames in ms; fractions allowed (0.5 = 500 µs). */
  periodMs: number;
  /** Stop after this many ms (frames due at or after it are not sent). */
  durationMs?: number;
  /**
   * Stop after exactly this many frames (the initial phase included). A
   * counted task never skips: when the native scheduler comes back a whole
   * period or more late (a stalled machine), the frame due goes then, late
   * (counted in `stats().late`), and the schedule resumes at the next instant
   * of its grid, never as a burst: the task ends later by as much. Frames the
   * bus refused (`sendErrors`) are part of the count.
   */
  count?: number;
  /**
   * Multi-rate: the first `initialCount` frames (a frame count, as `count`)
   * go `initialPeriodMs` apart, then `periodMs`.
   */
  initialPeriodMs?: number;
  /** See `initialPeriodMs`. */
  initialCount?: number;
  /** Start at once (default true); otherwise call {@link CyclicTask.start}. */
  autostart?: boolean;
  /**
   * `"native"` (default): canwire's scheduler thread, on every interface:
   * absolute deadlines; after a stall at most one frame per task goes late,
   * then the grid resumes: an endless or time-bounded task skips the slots
   * that passed (counted in `missed`), a counted task sends every frame.
   *
   * `"kernel"` (SocketCAN only): the kernel's broadcast manager (BCM) sends,
   * from one BCM socket per bus; tasks on the same CAN id are independent.
   * It differs in that: the kernel arms each frame relative to the previous
   * timer run, so its latency accumulates as drift, and nothing is skipped
   * (`missed` stays 0); intervals are whole microseconds (rounded), up to 400
   * days; a task takes 1 to 256 messages, all classic or all FD; `durationMs`
   * becomes the count of frames due before it; `modifyData` updates the live
   * kernel job (no restart, same round-robin position; with several messages
   * one cycle may mix old and new ones); `sent` is the kernel's own counter
   * (/proc/net/can-bcm), `sendErrors` counts the errors it reports (interface
   * down), not single failed sends; the frames reach this bus's own readers
   * (`isRx` false) whatever `receiveOwnMessages` says.
   */
  scheduler?: CyclicScheduler;
  /**
   * Called (on the event loop, without blocking the schedule) with a
   * {@link CanError} each time a send fails, e.g. `ERR_TX_BUFFER_FULL` or
   * `ERR_OS` with `ENETDOWN`, or a modifier fails. On the kernel scheduler:
   * the errors the kernel reports (interface down).
   */
  onError?: (error: CanError) => void;
  /**
   * Native scheduler only. Called after each send to produce that message's
   * next content (see {@link CyclicModifier}); with several messages each is
   * modified for its own next turn. It costs a round trip to the JS event
   * loop per send and never holds the schedule: if it has not answered when
   * the message is due again, the previous content goes and
   * `stats().lateModifier` counts it. A task has one question open at a
   * time: sends while it is open ask nothing, and only a send after the
   * answer came and the event loop went round once asks again (about that
   * latest message), so a slow modifier costs late turns, never the event
   * loop's timers and I/O. An invalid answer or an exception is reported to
   * `onError` and counted in `stats().modifierErrors`; the content then stays.
   */
  modifier?: CyclicModifier;
}

/** Counters of a task. */
export interface CyclicTaskStats {
  /** Frames handed to the bus (kernel scheduler: frames the kernel sent). */
  sent: number;
  /**
   * Slots skipped because the scheduler woke a whole period or more late
   * (never sent as a burst): endless and time-bounded tasks only, never a
   * task's first slot; always 0 on the kernel scheduler.
   */
  missed: number;
  /**
   * Frames sent a whole interval or more after their instant, after which
   * the grid resumed: a counted task's frames after a stall, and the first
   * frame of any task first served that late; always 0 on the kernel scheduler.
   */
  late: number;
  /** The lateness of the `late` frames added up, in ms. */
  latenessMs: number;
  /** The largest lateness of a `late` frame, in ms. */
  maxLatenessMs: number;
  /** Sends the bus refused (kernel scheduler: socket errors the kernel reported). */
  sendErrors: number;
  /** The last refusal's message. */
  lastError: string | null;
  /** True while the task runs. */
  running: boolean;
  /** Turns that went with their previous content because the modifier had not answered in time. */
  lateModifier: number;
  /** Modifier answers that were invalid, or modifier exceptions. */
  modifierErrors: number;
  /**
   * How `sent` was obtained: `"frames"`, each frame counted; `"schedule"`, an
   * estimate from the schedule (the intervals elapsed since the task started),
   * for tasks a socketcand server runs (`scheduler: "server"`), which does
   * not report its sends.
   */
  sentCounted: "frames" | "schedule";
}

/**
 * The messages of `sendPeriodic` or `modifyData` as a list: one message
 * object or an array of them (`many`: an array only).
 */
export function periodicMessages(what: string, messages: unknown, many: boolean): ReadonlyArray<Message | MessageInit> {
  if (many) checkType(messages, `${what}'s messages`, "array");
  const list = Array.isArray(messages) ? (messages as unknown[]) : [messages];
  if (list.length === 0) throw invalid("ERR_INVALID_ARGUMENT", `${what} needs at least one message`);
  list.forEach((m, i) => checkType(m, Array.isArray(messages) ? `${what}'s message ${i}` : `${what}'s message`, "object"));
  return list as ReadonlyArray<Message | MessageInit>;
}

/** The timing the native side takes. */
type NativeCyclicTiming = Parameters<typeof binding.NativeCyclicTask.create>[2];

/** The JS type of each {@link PeriodicOptions} key. */
const PERIODIC_OPTION_KINDS: Shape = {
  periodMs: "number",
  durationMs: "number",
  count: "number",
  initialPeriodMs: "number",
  initialCount: "number",
  autostart: "boolean",
  scheduler: "string",
};

/**
 * The options of `sendPeriodic`, type-checked (a wrong type names the
 * option); the native side checks their values.
 */
export function periodicOptions(options: unknown): PeriodicOptions {
  const o = checkShape<PeriodicOptions>(checkObject(options, "options"), "options", PERIODIC_OPTION_KINDS);
  if (o.periodMs === undefined) throw invalid("ERR_INVALID_ARGUMENT", "options.periodMs is required");
  const scheduler: unknown = o.scheduler;
  if (scheduler !== undefined && scheduler !== "native" && scheduler !== "kernel") {
    throw invalid("ERR_INVALID_ARGUMENT", `options.scheduler must be "native" or "kernel", got ${JSON.stringify(scheduler)}`);
  }
  for (const name of ["onError", "modifier"] as const) {
    if (o[name] !== undefined && typeof o[name] !== "function") throw invalid("ERR_INVALID_ARGUMENT", `${name} must be a function`);
  }
  return o;
}

/** The timing part of checked options, as the native side takes it. */
export function periodicTiming(o: PeriodicOptions): NativeCyclicTiming {
  const timing: NativeCyclicTiming = { periodMs: o.periodMs };
  if (o.durationMs !== undefined) timing.durationMs = o.durationMs;
  if (o.count !== undefined) timing.count = o.count;
  if (o.initialPeriodMs !== undefined) timing.initialPeriodMs = o.initialPeriodMs;
  if (o.initialCount !== undefined) timing.initialCount = o.initialCount;
  return timing;
}

/** The native side of a {@link CyclicModifier}: records in, a record or null out; errors thrown as the binding's error envelope. */
export function nativeModifier(
  modifier: CyclicModifier,
  encode: (messages: ReadonlyArray<Message | MessageInit>) => Uint8Array,
  channelName: (index: number) => string | undefined,
): (record: Uint8Array, index: number) => Uint8Array | null {
  return (record, index) => {
    try {
      const sent = new FrameBatch(record, channelName).message(0);
      const out = modifier(sent, index);
      if (out === undefined || out === null) return null;
      if (out instanceof Uint8Array) {
        const { id, extended, fd, bitrateSwitch, errorStateIndicator, channel } = sent;
        return encode([{ id, extended, fd, bitrateSwitch, errorStateIndicator, channel, data: out }]);
      }
      return encode([out]);
    } catch (error) {
      const e =
        error instanceof CanError
          ? error
          : canError("ERR_INVALID_ARGUMENT", `the modifier threw: ${String((error as Error)?.message ?? error)}`);
      throw new Error(toEnvelope(e));
    }
  };
}

/** The native side of an `onError` callback. */
export function nativeOnError(onError: (error: CanError) => void): (message: string) => void {
  return (message) => onError(fromNative(message));
}

/**
 * A periodic task. On the native scheduler, frames go out round-robin at
 * absolute deadlines (`start + n * period`) from a native thread, whatever
 * the JS event loop does; never a burst after a stall: a counted task sends
 * the frame due late and resumes its grid, an endless or time-bounded one skips
 * the slots that passed (counted in `missed`). On the kernel scheduler the broadcast
 * manager sends them (see {@link PeriodicOptions.scheduler}). The task stops
 * when its bus closes.
 *
 * @example
 * ```ts
 * const task = bus.sendPeriodic([{ id: 0x100, data: [0, 0] }], { periodMs: 10 });
 * task.modifyData([{ id: 0x100, data: [1, 0] }]);
 * task.stop();
 * ```
 */
export class CyclicTask implements AsyncDisposable {
  readonly #native: NativeCyclicTask;
  readonly #encode: (messages: ReadonlyArray<Message | MessageInit>) => Uint8Array;
  readonly #onRemove: (task: CyclicTask) => void;
  /** The period in ms. */
  readonly period: number;
  /** The scheduler running the task. */
  readonly scheduler: CyclicScheduler;

  /** @internal */
  constructor(
    nativeTask: NativeCyclicTask,
    periodMs: number,
    encode: (messages: ReadonlyArray<Message | MessageInit>) => Uint8Array,
    onRemove: (task: CyclicTask) => void = () => {},
  ) {
    this.#native = nativeTask;
    this.#encode = encode;
    this.#onRemove = onRemove;
    this.period = periodMs;
    this.scheduler = nativeTask.scheduler;
  }

  /** The messages, in round-robin order. */
  get messages(): Message[] {
    return new FrameBatch(
      native(() => this.#native.frames()),
      () => undefined,
    ).messages();
  }

  /** Frames sent so far. */
  get sent(): number {
    return this.stats().sent;
  }

  /** Slots skipped so far. */
  get missed(): number {
    return this.stats().missed;
  }

  /** True while running. */
  get running(): boolean {
    return this.stats().running;
  }

  /** (Re)starts the task; the first frame goes at once (on the native scheduler: at its next 100 µs grid point) and the phase restarts. */
  start(): void {
    native(() => this.#native.start());
  }

  /** Stops the task. */
  stop(): void {
    native(() => this.#native.stop());
  }

  /**
   * Replaces the messages' data keeping the phase, without restarting: the
   * next frame due carries the new data. Takes as many messages as the task
   * has. Atomic on the native scheduler; see {@link PeriodicOptions.scheduler}
   * for the kernel's.
   */
  modifyData(messages: ReadonlyArray<Message | MessageInit>): void {
    const records = this.#encode(periodicMessages("modifyData", messages, true));
    native(() => this.#native.modify(records));
  }

  /** Counters. */
  stats(): CyclicTaskStats {
    const stats = native(() => this.#native.stats());
    const sentCounted = stats.sentCounted === "schedule" ? "schedule" : "frames";
    return { ...stats, lastError: stats.lastError ?? null, sentCounted };
  }

  /**
   * Stops the task and removes it from the scheduler and from its bus (it no
   * longer holds memory there). Idempotent; later calls other than `remove`
   * and `close` throw `ERR_CLOSED`.
   */
  remove(): void {
    native(() => this.#native.remove());
    this.#onRemove(this);
  }

  /** As {@link CyclicTask.remove}, in the form every closable canwire object has. */
  async close(): Promise<void> {
    this.remove();
  }

  /** `await using task = bus.sendPeriodic(...)` removes the task at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
