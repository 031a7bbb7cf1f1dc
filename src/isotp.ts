/**
 * {@link IsoTp}: ISO 15765-2 transport on any bus, after the seed's
 * `IsoTpClient` (python-can-isotp's TransportLayer API).
 *
 * @module
 */
import { binding, type NativeIsoTp } from "./binding.js";
import { Bus, type InterfaceName } from "./bus.js";
import {
  type CanErrorCode,
  CanTimeoutError,
  canError,
  type IsoTpError,
  type IsoTpErrorCode,
  invalid,
  native,
  nativeAsync,
} from "./errors.js";
import {
  checkOpenOptions,
  type IsoTpAddress,
  type IsoTpParams,
  type KernelIsoTpOptions,
  normalizeAddress,
  normalizeKernelOptions,
  normalizeParams,
} from "./isotp-config.js";
import { checkTimeout } from "./reader.js";
import { throwIfAborted, waitUntil } from "./waker.js";

/** Options of {@link IsoTp.open}. */
export interface IsoTpOptions {
  /** Run on this open bus (it stays open when the stack closes). Otherwise a bus is opened from `interface`/`channel`. */
  bus?: Bus;
  /** Interface of the bus to open. Default `"virtual"`. */
  interface?: InterfaceName;
  /** Channel of the bus to open. */
  channel?: string;
  /** The ISO-TP address (required, except on interface `"jumpstarter"`, whose exporter config holds it). */
  address?: IsoTpAddress;
  /** Protocol parameters. */
  params?: IsoTpParams;
  /**
   * `"userspace"` (default): canwire's stack on a native thread, on any bus.
   * `"kernel"`: the Linux can-isotp socket (Linux 5.10+ with the can-isotp
   * module) on the SocketCAN interface `channel`; `ERR_UNSUPPORTED`
   * elsewhere. How each parameter maps to it is in {@link IsoTpParams}.
   * What the kernel's interface rules out: N_Bs and N_Cr are fixed at 1 s,
   * no rate limiter, a transfer in progress cannot be aborted
   * (`stopSending` drops queued payloads, `stopReceiving` does nothing, and
   * `close` returns while the kernel finishes such a transfer), and the
   * kernel reports errors of both directions through one slot per socket,
   * so two at the same instant may be attributed to the wrong side.
   */
  stack?: "userspace" | "kernel";
  /** Settings of the kernel socket only (`stack: "kernel"`). */
  kernel?: KernelIsoTpOptions;
  /** Received payloads kept unread before new ones are counted as overflow. Default 1024. */
  rxQueueSize?: number;
  /** Jumpstarter (`interface: "jumpstarter"`): the exporter, as {@link BusOptions.host}. */
  host?: string;
  /** Jumpstarter: the exporter's passphrase, as {@link BusOptions.passphrase}. */
  passphrase?: string;
  /** Jumpstarter: plaintext to `host:port`, as {@link BusOptions.insecure}. */
  insecure?: boolean;
  /** Jumpstarter: PEM roots to trust, as {@link BusOptions.tlsCa}. */
  tlsCa?: string;
}

/** Options of {@link IsoTp.send}. */
export interface IsoTpSendOptions {
  /** Physical (default from params) or functional (single frame payloads only). */
  targetAddressType?: "physical" | "functional";
  /** With a blocking send: fail with `ERR_TIMEOUT` (and abort the transfer) after this many ms. */
  sendTimeoutMs?: number;
  /** Wait for the transfer to complete; defaults to the `blockingSend` parameter. */
  blocking?: boolean;
  /**
   * Give up when this signal aborts: the call rejects with a `DOMException`
   * named `"AbortError"`; a blocking send's transfer is aborted as on a
   * timeout. Already aborted: nothing is sent.
   */
  signal?: AbortSignal;
}

/** Options of {@link IsoTp.recv}. */
export interface IsoTpRecvOptions {
  /** Wait for a payload (default true); false returns at once. */
  block?: boolean;
  /** With `block`: resolve `null` after this many ms; omit to wait as long as it takes. */
  timeoutMs?: number;
  /**
   * Give up when this signal aborts: the call rejects with a `DOMException`
   * named `"AbortError"` and leaves nothing armed; payloads stay queued.
   */
  signal?: AbortSignal;
}

/** A protocol error the stack reported. */
export interface IsoTpProtocolError {
  /** The stable code. */
  code: IsoTpErrorCode;
  /** What happened. */
  message: string;
}

/** Counters of a stack. */
export interface IsoTpStats {
  /** Payloads received. */
  rxPayloads: number;
  /** Payloads dropped because the receive queue was full. */
  rxOverflow: number;
  /** Transfers completed. */
  txComplete: number;
  /** Transfers failed. */
  txFailed: number;
  /** CAN frames the bus refused. */
  txFrameErrors: number;
  /** Operating-system errors (kernel stack: a failed write, or e.g. `ENETDOWN` while receiving). */
  osErrors: number;
  /** The message of the most recent of those. */
  lastOsError?: string | null;
  /** Protocol errors by code. */
  errors: Array<{ code: IsoTpErrorCode; count: number }>;
}

const isByte = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;

/** The largest payload ISO-TP can announce (a 32-bit FF_DL). */
const MAX_PAYLOAD = 0xffffffff;

function toBytes(data: ArrayLike<number>): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (!data || typeof data.length !== "number") throw invalid("ERR_INVALID_ARGUMENT", "data must be a Uint8Array or an array of bytes");
  // lengths are checked before anything is allocated for them
  if (!Number.isInteger(data.length) || data.length < 0 || data.length > MAX_PAYLOAD) {
    throw invalid(
      "ERR_INVALID_ARGUMENT",
      `data.length must be an integer 0..${MAX_PAYLOAD} (an ISO-TP payload), got ${String(data.length)}`,
    );
  }
  const last = data.length - 1;
  if (last >= 0 && !isByte(data[last]))
    throw invalid("ERR_INVALID_ARGUMENT", `data[${last}] is ${String(data[last])}: bytes are integers 0..255`);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!isByte(v)) throw invalid("ERR_INVALID_ARGUMENT", `data[${i}] is ${String(v)}: bytes are integers 0..255`);
    out[i] = v;
  }
  return out;
}

/**
 * An ISO-TP endpoint. Payloads of any size up to 4 GiB are segmented into
 * single, first, consecutive and flow-control frames; consecutive frames are
 * timed on a native thread, never earlier than STmin. With `stack: "kernel"`
 * the Linux can-isotp socket does the protocol instead (same API, same error
 * codes, its limits listed at {@link IsoTpOptions.stack}).
 *
 * @example
 * ```ts
 * await using tp = await IsoTp.open({
 *   interface: "virtual", channel: "diag",
 *   address: { txid: 0x7e0, rxid: 0x7e8 },
 *   params: { stmin: 0, blocksize: 8, blockingSend: true },
 * });
 * await tp.send([0x22, 0xf1, 0x90]);
 * const response = await tp.recv({ timeoutMs: 1000 });
 * ```
 */
export class IsoTp implements AsyncIterable<Uint8Array>, AsyncDisposable {
  readonly #native: NativeIsoTp;
  readonly #ownedBus: Bus | undefined;
  readonly #blockingSend: boolean;

  private constructor(nativeStack: NativeIsoTp, ownedBus: Bus | undefined, blockingSend: boolean) {
    this.#native = nativeStack;
    this.#ownedBus = ownedBus;
    this.#blockingSend = blockingSend;
  }

  /** @internal The native stack behind `isotp`, for an exporter serving it. */
  static nativeOf(isotp: IsoTp): NativeIsoTp {
    return isotp.#native;
  }

  /**
   * Opens a stack and starts it.
   *
   * @throws {@link InvalidArgumentError} for a bad address or parameter (the message names it);
   *   {@link UnsupportedError} for `stack: "kernel"` where unavailable (not Linux, no SocketCAN or
   *   no can-isotp module) or for a parameter the kernel cannot honour.
   */
  static async open(options: IsoTpOptions): Promise<IsoTp> {
    checkOpenOptions(options);
    if (options.interface === "jumpstarter") return IsoTp.#openJumpstarter(options);
    const params = normalizeParams(options.params);
    const address = normalizeAddress(options.address);
    if (options.stack !== undefined && options.stack !== "userspace" && options.stack !== "kernel") {
      throw invalid("ERR_INVALID_ARGUMENT", `stack must be 'userspace' or 'kernel', got '${String(options.stack)}'`);
    }
    const rxQueueSize = options.rxQueueSize;
    if (options.stack === "kernel") return IsoTp.#openKernel(options, address, params, rxQueueSize);
    if (options.kernel !== undefined) throw invalid("ERR_INVALID_ARGUMENT", "kernel options need stack: 'kernel'");
    let bus = options.bus;
    let owned: Bus | undefined;
    if (!bus) {
      const busOptions: Parameters<typeof Bus.open>[0] = { interface: options.interface ?? "virtual", fd: params.canFd ?? false };
      if (options.channel !== undefined) busOptions.channel = options.channel;
      owned = bus = await Bus.open(busOptions);
    }
    try {
      const nativeStack = native(() => binding.NativeIsoTp.open(Bus.nativeOf(bus), address, params, rxQueueSize));
      return new IsoTp(nativeStack, owned, params.blockingSend ?? false);
    } catch (error) {
      await owned?.close();
      throw error;
    }
  }

  /**
   * Opens an exporter's ISO-TP driver (`channel`, default `"isotp"`) and
   * starts it. The exporter's config holds its address and parameters; an
   * `address` given here is applied with `setAddress`, and of the parameters
   * only `blockingSend` (a client-side choice) is taken.
   */
  static async #openJumpstarter(options: IsoTpOptions): Promise<IsoTp> {
    if (options.bus || options.stack !== undefined || options.kernel !== undefined) {
      throw invalid(
        "ERR_INVALID_ARGUMENT",
        "interface 'jumpstarter' runs the exporter's own ISO-TP driver: bus, stack and kernel do not apply",
      );
    }
    const params = normalizeParams(options.params);
    const exporterParams = Object.keys(params).filter((key) => key !== "blockingSend");
    if (exporterParams.length > 0) {
      throw invalid(
        "ERR_INVALID_ARGUMENT",
        `the exporter's config sets the ISO-TP parameters of interface 'jumpstarter'; only blockingSend applies here, got ${exporterParams.join(", ")}`,
      );
    }
    const address = options.address === undefined ? undefined : normalizeAddress(options.address);
    const nativeStack = await nativeAsync(() =>
      binding.openJumpstarterIsoTp(options.channel ?? "isotp", options.rxQueueSize, {
        host: options.host,
        passphrase: options.passphrase,
        insecure: options.insecure,
        tlsCa: options.tlsCa,
      }),
    );
    const stack = new IsoTp(nativeStack, undefined, params.blockingSend ?? false);
    if (address) {
      try {
        native(() => nativeStack.setAddress(address));
      } catch (error) {
        await stack.close();
        throw error;
      }
    }
    return stack;
  }

  static #openKernel(
    options: IsoTpOptions,
    address: ReturnType<typeof normalizeAddress>,
    params: IsoTpParams,
    rxQueueSize: number | undefined,
  ): IsoTp {
    if (options.bus) {
      throw invalid(
        "ERR_INVALID_ARGUMENT",
        "stack 'kernel' opens its own can-isotp socket: give interface 'socketcan' and a channel instead of bus",
      );
    }
    const iface = options.interface ?? "socketcan";
    if (iface !== "socketcan") {
      throw invalid("ERR_INVALID_ARGUMENT", `stack 'kernel' runs on SocketCAN only (interface: 'socketcan'), got interface '${iface}'`);
    }
    if (!options.channel) {
      throw invalid("ERR_INVALID_ARGUMENT", "stack 'kernel' needs the interface to bind to, e.g. channel: 'vcan0'");
    }
    const kernel = normalizeKernelOptions(options.kernel);
    const channel = options.channel;
    const nativeStack = native(() => binding.NativeIsoTp.openKernel(channel, address, params, kernel, rxQueueSize));
    return new IsoTp(nativeStack, undefined, params.blockingSend ?? false);
  }

  /**
   * Sends a payload. Without a blocking send it resolves once the payload is
   * queued; with one (`blockingSend` or `{ blocking: true }`) once every frame
   * went out, rejecting with an {@link IsoTpError} (e.g. `ERR_ISOTP_N_BS_TIMEOUT`)
   * if the transfer fails, or a {@link CanTimeoutError} after `sendTimeoutMs`.
   */
  async send(data: ArrayLike<number>, options: IsoTpSendOptions = {}): Promise<void> {
    checkTimeout(options.sendTimeoutMs);
    const bytes = toBytes(data);
    const blocking = options.blocking ?? this.#blockingSend;
    throwIfAborted(options.signal);
    const id = native(() => this.#native.send(bytes, options.targetAddressType, blocking));
    if (!blocking) return;
    const stack = this.#native;
    const transfer = { arm: stack.armTransfer.bind(stack, id), disarm: stack.disarm.bind(stack) };
    const result = await waitUntil(transfer, { timeoutMs: options.sendTimeoutMs, signal: options.signal }, () => {
      const status = native(() => stack.transferStatus(id));
      if (status.status !== "pending") return status;
      if (stack.closed) throw canError("ERR_CLOSED", "the ISO-TP stack closed before the transfer ended");
      return undefined;
    }).catch((error: unknown) => {
      if (error instanceof DOMException && error.name === "AbortError") this.#abortTransfer(id);
      throw error;
    });
    if (result?.status === "complete") return;
    if (result?.status === "failed") {
      throw canError(result.code as CanErrorCode, result.message ?? "the transfer failed");
    }
    this.#abortTransfer(id);
    throw new CanTimeoutError(`the transfer did not complete within ${options.sendTimeoutMs} ms and was aborted`);
  }

  /** Gives up a tracked transfer that is still being sent. */
  #abortTransfer(id: number): void {
    native(() => {
      this.#native.forget(id);
      this.#native.stopSending();
    });
  }

  /**
   * Receives one payload. Resolves `null` when nothing arrives in time (or at
   * once with `block: false`); rejects with `ERR_CLOSED` once closed and drained.
   */
  async recv(options: IsoTpRecvOptions = {}): Promise<Uint8Array | null> {
    checkTimeout(options.timeoutMs);
    const block = options.block ?? true;
    const stack = this.#native;
    const payloads = { arm: stack.armRecv.bind(stack), disarm: stack.disarm.bind(stack) };
    const limits = { timeoutMs: block ? options.timeoutMs : 0, signal: options.signal };
    const payload = await waitUntil(payloads, limits, () => {
      const payload = native(() => stack.tryRecv());
      if (payload) return payload;
      if (stack.closed) throw canError("ERR_CLOSED", "the ISO-TP stack is closed");
      return undefined;
    });
    return payload?.data ?? null;
  }

  /** Yields received payloads until the stack closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      try {
        const payload = await this.recv();
        if (payload) yield payload;
      } catch (error) {
        if ((error as IsoTpError).code === "ERR_CLOSED") return;
        throw error;
      }
    }
  }

  /** True if a received payload is waiting. */
  available(): boolean {
    return this.#native.available;
  }

  /** True while a transfer is being sent or queued. */
  transmitting(): boolean {
    return this.#native.transmitting;
  }

  /** Changes the address; ongoing transfers are aborted. */
  setAddress(address: IsoTpAddress): void {
    const normalized = normalizeAddress(address);
    native(() => this.#native.setAddress(normalized));
  }

  /** Aborts the current and queued transfers (a blocking send rejects with `ERR_ISOTP_SEND_STOPPED`). */
  stopSending(): void {
    native(() => this.#native.stopSending());
  }

  /** Drops the reception in progress. */
  stopReceiving(): void {
    native(() => this.#native.stopReceiving());
  }

  /** Resumes after {@link IsoTp.stop}. Stacks start running when opened. */
  start(): void {
    native(() => this.#native.start());
  }

  /** Pauses: aborts transfers and ignores arriving frames until {@link IsoTp.start}. */
  stop(): void {
    native(() => this.#native.stop());
  }

  /** True unless stopped or closed. */
  get running(): boolean {
    return this.#native.running;
  }

  /** Takes the protocol errors reported since the last call (the most recent 256 are kept). */
  takeErrors(): IsoTpProtocolError[] {
    return native(() => this.#native.takeErrors()) as IsoTpProtocolError[];
  }

  /** Counters. */
  stats(): IsoTpStats {
    return native(() => this.#native.stats()) as IsoTpStats;
  }

  /** Stops the stack (and the bus it opened itself). Idempotent. */
  async close(): Promise<void> {
    native(() => this.#native.close());
    await this.#ownedBus?.close();
  }

  /** Closes the stack at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
