/**
 * {@link CyclicTask}: messages sent periodically by the native scheduler.
 *
 * @module
 */
import { type NativeCyclicTask } from "./binding.js";
import { native } from "./errors.js";
import { type Message, type MessageInit } from "./message.js";
import { encodeMessages, FrameBatch, toMessage } from "./record.js";

/** Options of {@link Bus.sendPeriodic}. */
export interface PeriodicOptions {
  /** Interval between frames in ms; fractions allowed (0.5 = 500 µs). */
  periodMs: number;
  /** Stop after this many ms (frames due at or after it are not sent). */
  durationMs?: number;
  /** Stop after this many frames (the initial phase included). */
  count?: number;
  /** Multi-rate: the first `initialCount` frames go `initialPeriodMs` apart, then `periodMs`. */
  initialPeriodMs?: number;
  /** See `initialPeriodMs`. */
  initialCount?: number;
  /** Start at once (default true); otherwise call {@link CyclicTask.start}. */
  autostart?: boolean;
  /**
   * `"native"` (default): canwire's scheduler thread, on every interface.
   * `"kernel"`: SocketCAN's broadcast manager (BCM).
   */
  scheduler?: "native" | "kernel";
}

/** Counters of a task. */
export interface CyclicTaskStats {
  /** Frames handed to the bus. */
  sent: number;
  /** Slots skipped because the scheduler woke more than a period late (never sent as a burst). */
  missed: number;
  /** Sends the bus refused. */
  sendErrors: number;
  /** The last refusal's message. */
  lastError: string | null;
  /** True while the task runs. */
  running: boolean;
}

/**
 * A periodic task. Frames go out round-robin at absolute deadlines
 * (`start + n * period`) from a native thread, whatever the JS event loop
 * does; a slot missed by more than a period is skipped and counted, never
 * sent late as a burst. The task stops when its bus closes.
 *
 * @example
 * ```ts
 * const task = bus.sendPeriodic([{ id: 0x100, data: [0, 0] }], { periodMs: 10 });
 * task.modifyData([{ id: 0x100, data: [1, 0] }]);
 * task.stop();
 * ```
 */
export class CyclicTask {
  readonly #native: NativeCyclicTask;
  /** The period in ms. */
  readonly period: number;

  /** @internal */
  constructor(nativeTask: NativeCyclicTask, periodMs: number) {
    this.#native = nativeTask;
    this.period = periodMs;
  }

  /** The messages, in round-robin order. */
  get messages(): Message[] {
    return new FrameBatch(native(() => this.#native.frames()), () => undefined).messages();
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

  /** (Re)starts the task; the first frame goes now and the phase restarts. */
  start(): void {
    native(() => this.#native.start());
  }

  /** Stops the task. */
  stop(): void {
    native(() => this.#native.stop());
  }

  /**
   * Replaces the messages' data, atomically and keeping the phase: the next
   * frame due carries the new data. Takes as many messages as the task has.
   */
  modifyData(messages: ReadonlyArray<Message | MessageInit>): void {
    const records = encodeMessages(messages.map(toMessage));
    native(() => this.#native.modify(records));
  }

  /** Counters. */
  stats(): CyclicTaskStats {
    return native(() => this.#native.stats()) as CyclicTaskStats;
  }

  /** Stops the task and removes it from the scheduler. */
  remove(): void {
    native(() => this.#native.remove());
  }
}
