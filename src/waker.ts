/**
 * The one waker behind every wait: reader `recv`/`recvBatch`/iterators,
 * `IsoTp.send`/`recv`, `watch.next`, `nextState` and a send waiting for
 * transmit room.
 *
 * A wait arms a native source under a fresh token; the native thread that
 * changes the source calls one JS function with that token (one thread hop),
 * and the wait resolves. A timeout or an `AbortSignal` disarms the source, so
 * an ended wait leaves nothing armed. Node is kept alive exactly while some
 * wait is armed.
 *
 * @module
 * @internal
 */
import { binding, type NativeWaker } from "./binding.js";
import { InvalidArgumentError, native } from "./errors.js";
import { describe } from "./options.js";

/** A native object a wait can arm under a token (see `crates/canwire-node/src/waker.rs`). */
export interface WakeSource {
  /** Leaves a wake-up under `token`; false when the condition holds already (look again). */
  arm(waker: NativeWaker, token: number): boolean;
  /** Drops the wake-up under `token` if it has not run. */
  disarm(token: number): void;
}

/** How long one wait may last: a timeout and a cancellation signal, both optional. */
export interface WaitLimits {
  /** Give up after this many milliseconds; omit to wait as long as it takes. */
  timeoutMs?: number | undefined;
  /** Give up when this signal aborts, rejecting with an `AbortError`. */
  signal?: AbortSignal | undefined;
}

/** Longest delay setTimeout takes (about 24.8 days); longer waits wake spuriously and re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_TOKEN = 0xffff_ffff;

/** Armed waits by token: the only references the native side leads to. */
const armed = new Map<number, () => void>();
let lastToken = 0;
let theWaker: NativeWaker | undefined;

function waker(): NativeWaker {
  theWaker ??= native(() => new binding.NativeWaker(dispatch));
  return theWaker;
}

/** Runs on the JS thread when a native source calls the waker with `token`. */
function dispatch(token: number): void {
  const wake = armed.get(token);
  if (!wake) return; // disarmed (timeout, abort) while the call was on its way
  forget(token);
  wake();
}

/** Whether the waker keeps Node alive now: exactly while some wait is armed. */
let keptAlive = false;

function remember(token: number, wake: () => void): void {
  armed.set(token, wake);
  if (!keptAlive) {
    native(() => waker().keepAlive(true));
    keptAlive = true;
  }
}

function forget(token: number): boolean {
  if (!armed.delete(token)) return false;
  if (armed.size === 0 && keptAlive) {
    native(() => waker().keepAlive(false));
    keptAlive = false;
  }
  return true;
}

function nextToken(): number {
  lastToken = lastToken >= MAX_TOKEN ? 1 : lastToken + 1;
  return lastToken;
}

/**
 * The error an aborted wait rejects with: a `DOMException` named
 * `"AbortError"` (what `fetch` and `events.once` reject with), whose `cause`
 * is the signal's reason.
 */
export function abortError(signal: AbortSignal): DOMException {
  return new DOMException("The operation was aborted", { name: "AbortError", cause: signal.reason });
}

/** Throws {@link abortError} if `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  checkSignal(signal);
  if (signal?.aborted) throw abortError(signal);
}

/** Throws unless `signal` is absent or an `AbortSignal` (anything else would fail only once a wait is armed). */
function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("ERR_INVALID_ARGUMENT", `options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
}

/** Number of waits armed now (tests check that ended waits leave none). */
export function armedWaits(): number {
  return armed.size;
}

/**
 * Waits once for `source`. Resolves true when the source calls (the caller
 * looks again: a wake may be spurious), or at once when the condition holds
 * already; false when `limits.timeoutMs` passes first; rejects with an
 * `AbortError` when `limits.signal` aborts. Whatever ends the wait, nothing
 * stays armed.
 */
export function wakeOf(source: WakeSource, limits: WaitLimits = {}): Promise<boolean> {
  const { timeoutMs, signal } = limits;
  try {
    throwIfAborted(signal);
  } catch (error) {
    return Promise.reject(error);
  }
  if (timeoutMs !== undefined && timeoutMs <= 0) return Promise.resolve(false);
  const token = nextToken();
  if (!native(() => source.arm(waker(), token))) return Promise.resolve(true);
  return armedWait(source, token, timeoutMs, signal);
}

/**
 * Waits for the wake-up `source` armed under `token`: resolves true when it
 * runs, false when `timeoutMs` passes first (disarming it); rejects with an
 * `AbortError` when `signal` aborts (disarming it).
 */
function armedWait(
  source: Pick<WakeSource, "disarm">,
  token: number,
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const end = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const cancel = (): void => {
      forget(token);
      native(() => source.disarm(token));
      end();
    };
    const onAbort = (): void => {
      cancel();
      reject(abortError(signal as AbortSignal));
    };
    remember(token, () => {
      end();
      resolve(true);
    });
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      timer = setTimeout(
        () => {
          cancel();
          // past setTimeout's range: report a spurious wake so the caller waits on
          resolve(timeoutMs > MAX_TIMER_MS);
        },
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits for the wake-up armed under `token`, with no time limit and no signal: resolves true when it runs. */
function plainWait(token: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => remember(token, () => resolve(true)));
}

/**
 * Runs `attempt` until it returns a value other than `undefined`, waiting on
 * `source` in between; resolves `null` when `timeoutMs` passes first. The
 * clock is read only when a wait has a timeout and must wait.
 */
export async function waitUntil<T>(source: WakeSource, limits: WaitLimits, attempt: () => T | undefined): Promise<T | null> {
  throwIfAborted(limits.signal);
  let deadline: number | undefined;
  for (;;) {
    const value = attempt();
    if (value !== undefined) return value;
    let timeoutMs = limits.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      deadline ??= performance.now() + timeoutMs;
      timeoutMs = Math.max(0, deadline - performance.now());
    }
    if (!(await wakeOf(source, { timeoutMs, signal: limits.signal }))) return null;
  }
}

/**
 * A native source that takes what is ready and, when nothing is, arms a
 * wake-up in the same call: one native call per wait instead of a look and
 * an arm (readers: `NativeReader.readOrArm`).
 */
export interface TakeOrArmSource<T> {
  /**
   * What is ready now; else `true` after arming a wake-up under `token`
   * (and, when `keepAlive`, turning the waker's keep-alive on in the same
   * call), or `false` (nothing armed) when nothing ever will be.
   */
  takeOrArm(waker: NativeWaker, token: number, keepAlive: boolean): T | boolean;
  /** What is ready now, or `null`, arming nothing (a wait without time left). */
  take(): T | null;
  /** Drops the wake-up under `token` if it has not run. */
  disarm(token: number): void;
}

/**
 * Takes from `source` as soon as something is ready; resolves `null` when
 * `limits.timeoutMs` passes first or the source says nothing will come;
 * rejects with an `AbortError` when `limits.signal` aborts. Whatever ends the
 * wait, nothing stays armed.
 */
export async function takeWhenReady<T>(source: TakeOrArmSource<T>, limits: WaitLimits): Promise<T | null> {
  const signal = limits.signal;
  let deadline: number | undefined;
  for (;;) {
    throwIfAborted(signal);
    let timeoutMs = limits.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      deadline ??= performance.now() + timeoutMs;
      timeoutMs = Math.max(0, deadline - performance.now());
    }
    if (timeoutMs !== undefined && timeoutMs <= 0) return native(() => source.take());
    const token = nextToken();
    const taken = takeOrArm(source, token);
    if (taken === false) return null;
    if (taken !== true) return taken;
    const woken = timeoutMs === undefined && signal === undefined ? plainWait(token) : armedWait(source, token, timeoutMs, signal);
    if (!(await woken)) return null;
  }
}

/**
 * `source.takeOrArm` under `token`; when it arms the first wait, it turns
 * the keep-alive on in the same native call (one call fewer per wake).
 */
function takeOrArm<T>(source: TakeOrArmSource<T>, token: number): T | boolean {
  const keepAlive = !keptAlive;
  const taken = native(() => source.takeOrArm(waker(), token, keepAlive));
  if (taken === true) keptAlive = true;
  return taken;
}

/**
 * One step of an iteration over `source`, with no time limit: what is ready
 * now; `null` when the source says nothing will come; or, with nothing
 * ready, a promise that resolves once the source calls (step again) and
 * rejects with an `AbortError` when `signal` aborts, leaving nothing armed.
 * An iterator that steps synchronously while frames are queued pays for a
 * promise only when it has to wait. `T` must not be a promise.
 */
export function takeOrWake<T>(source: TakeOrArmSource<T>, signal: AbortSignal | undefined): T | null | Promise<boolean> {
  throwIfAborted(signal);
  const token = nextToken();
  const taken = takeOrArm(source, token);
  if (taken === false) return null;
  if (taken !== true) return taken;
  return signal === undefined ? plainWait(token) : armedWait(source, token, undefined, signal);
}
