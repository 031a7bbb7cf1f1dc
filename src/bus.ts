/**
 * {@link Bus}: an open CAN bus.
 *
 * @module
 */
import { binding, type NativeBus, type NativePendingSend, type NativeStateWatch } from "./binding.js";
import { applyCanConfig, type ConfigSelection } from "./bus-config.js";
import {
  CONTROLLER_OPTION_KINDS,
  type ConfigureInterfaceOptions,
  type ControllerOptions,
  configureBeforeOpen,
  configureInterface,
  restartInterface,
  setInterfaceUp,
} from "./controller.js";
import {
  CyclicTask,
  nativeModifier,
  nativeOnError,
  type PeriodicOptions,
  periodicMessages,
  periodicOptions,
  periodicTiming,
} from "./cyclic.js";
import { canError, invalid, native, nativeAsync } from "./errors.js";
import { type CanFilter, normalizeFilters } from "./filters.js";
import type { Message, MessageInit } from "./message.js";
import { checkOptions, checkType, describe, type Shape } from "./options.js";
import { BusReader, checkTimeout, type IterateOptions, type ReaderStats, type RecvBatchOptions, type RecvOptions } from "./reader.js";
import { encodeRecords, FrameBatch, RECORD_SIZE, toMessage, toMessages, writeRecord } from "./record.js";
import { type AdvertisedSocketcandBus, detectSocketcand, openSocketcandNative } from "./socketcand.js";
import { throwIfAborted, type WaitLimits, waitUntil } from "./waker.js";
import { CanWatch, type WatchMux, type WatchOptions } from "./watch.js";

/** Opens a Jumpstarter exporter's `Can` driver off the event loop. */
function openJumpstarterBus(channel: string, options: BusOptions): Promise<NativeBus> {
  return nativeAsync(() =>
    binding.openJumpstarterBus(channel, options.fd ?? false, {
      host: options.host,
      passphrase: options.passphrase,
      insecure: options.insecure,
      tlsCa: options.tlsCa,
    }),
  );
}

/** Drops the weak reference a bus keeps to a watch collected without `close()` (its native side closed it). */
const forgetCollected = new FinalizationRegistry<() => void>((forget) => forget());

/** python-can's default udp_multicast group (IPv6). */
const UDP_MULTICAST_GROUP = "ff15:7079:7468:6f6e:6465:6d6f:6d63:6173";

/** The interfaces canwire can open. */
export type InterfaceName = "virtual" | "socketcan" | "socketcand" | "jumpstarter" | "udp_multicast";

/**
 * Options of {@link Bus.open}. Those not given come from python-can's
 * configuration when it sets them: `CAN_INTERFACE`, `CAN_CHANNEL`,
 * `CAN_CONFIG` (JSON), `~/can.conf` and `/etc/can.conf` (see {@link loadCanConfig}).
 */
export interface BusOptions extends ConfigSelection, ControllerOptions {
  /**
   * Backend. Default `"virtual"`, the in-process bus. `"udp_multicast"` is
   * python-can's bus across processes over UDP multicast (wire compatible
   * with it): no delivery or order guarantee; datagrams that are no valid
   * message are counted in `stats().rxErrors`.
   */
  interface?: InterfaceName;
  /**
   * Channel: a virtual channel name (default `"channel-0"`), an interface
   * such as `vcan0`, a Jumpstarter exporter's `Can` driver by name or
   * path (`"can"`, `"rig/can"`; default `"can"`), or a udp_multicast group
   * (default python-can's `"ff15:7079:7468:6f6e:6465:6d6f:6d63:6173"`, or
   * IPv4 `"239.74.163.2"`).
   */
  channel?: string;
  /**
   * Open for CAN FD. Default false (udp_multicast: true, as python-can): FD
   * frames are refused on send and not delivered. This is the socket's FD
   * mode; the SocketCAN controller's FD mode follows the controller options
   * instead: a data phase (`dataBitrate`, or a `BitTimingFd` timing) switches
   * it on and then opens the socket for FD unless `fd: false`
   * ({@link Bus.configureInterface} with `fd: false` switches it off).
   */
  fd?: boolean;
  /** Receive this bus's own frames too (with `isRx: false`). Default false. */
  receiveOwnMessages?: boolean;
  /** Virtual bus: keep the sender's timestamps instead of stamping at send. Default false. */
  preserveTimestamps?: boolean;
  /** SocketCAN: other sockets on this host see our frames (CAN_RAW_LOOPBACK). Default true. */
  localLoopback?: boolean;
  /**
   * SocketCAN: the error classes to receive as error frames (CAN_RAW_ERR_FILTER),
   * e.g. `0x040` for bus-off only; `0` for none. Default `0x1FFFFFFF`: all.
   */
  errorMask?: number;
  /**
   * SocketCAN: the kernel receive buffer in bytes (SO_RCVBUFFORCE with
   * CAP_NET_ADMIN, else SO_RCVBUF, which the kernel caps at
   * `net.core.rmem_max`). Default 4 MiB (about 4 000 frames; the kernel's own
   * default holds about 200 and loses frames to a short stall); `0` keeps the
   * kernel's default. {@link Bus.channelInfo} shows the size in effect.
   */
  receiveBufferSize?: number;
  /**
   * SocketCAN: use the controller's hardware receive timestamps
   * (SO_TIMESTAMPING) where the driver provides them; frames without one keep
   * the kernel's software time. Hardware clocks need not count from the Unix
   * epoch. Default false.
   */
  hardwareTimestamps?: boolean;
  /**
   * SocketCAN: the most a received frame waits so that frames travel in
   * batches, in microseconds. While traffic is sparse every frame is
   * delivered at once; once frames follow each other within this bound
   * (sustained traffic), the receive thread lets them gather for as long as
   * about 128 frames take at the rate seen, never longer than the bound:
   * fewer wake-ups, less CPU per frame. The first frame after a quiet spell
   * is always delivered at once, and a bus running a userspace ISO-TP stack
   * or watch reads every frame at once. 0 reads every frame at once.
   * 0..1 000 000; default 4000. {@link BusStats.rxCoalescingWaits} counts the waits.
   */
  rxCoalesceUs?: number;
  /** udp_multicast: the IPv6 hop limit or IPv4 TTL, 1..255. Default 1: the datagrams stay on the host's link. */
  hopLimit?: number;
  /** Initial acceptance filters (see {@link Bus.setFilters}). */
  filters?: CanFilter[];
  /** Join filters: a frame must pass all of them instead of any. Default false. */
  joinFilters?: boolean;
  /** Bound of the bus's own receive queue in frames (used by `recv` and `for await`). Default 65536. */
  rxQueueSize?: number;
  /**
   * Jumpstarter: the exporter, a Unix socket path or `host:port` (TLS unless
   * `insecure`). Default: `JUMPSTARTER_HOST`, as `jmp shell` sets it.
   * socketcand: the server's host name or address. Default `"127.0.0.1"`.
   */
  host?: string;
  /** Jumpstarter: the exporter's passphrase. Default: `JMP_GRPC_PASSPHRASE`. */
  passphrase?: string;
  /**
   * Jumpstarter: plaintext to a `host:port` instead of TLS. Default: true when
   * `JMP_GRPC_INSECURE=1` (or `JUMPSTARTER_GRPC_INSECURE=1`).
   */
  insecure?: boolean;
  /**
   * Jumpstarter: PEM text of certificates to trust besides the system roots
   * (default: the file `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` names, if any).
   */
  tlsCa?: string;
  /**
   * socketcand: the server's port. Default 29536.
   * udp_multicast: the UDP port, 1..65535. Default 43113 (python-can's).
   */
  port?: number;
  /** socketcand: how long connecting and the handshake may take, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * socketcand: where `sendPeriodic` tasks run. `"native"` (default): canwire's
   * scheduler, each frame a `send`. `"server"`: the server's BCM jobs
   * (`add`/`update`/`delete` on a second connection), paced by the server's
   * clock; one frame per task, forever, at a whole-µs period.
   */
  scheduler?: "native" | "server";
  /**
   * socketcand: where `setFilters` and `watch` filter. `"client"` (default):
   * in canwire, the server sending every frame (raw mode). `"server"`: the
   * server filters: exact-id filters (mask 0x7FF with `extended: false`, or
   * 0x1FFFFFFF; not inverted, not joined; at most 255 ids) become BCM `subscribe`s (the
   * connection in BCM mode while filters are set, raw mode when cleared), and
   * each watch a BCM job on a connection of its own (`subscribe` without a
   * change mask, `filter` with one; `throttleMs` in whole µs). What BCM
   * cannot do is `ERR_UNSUPPORTED`: other filters, and watches with
   * `timeoutMs`, `checkDlc` or `fd`.
   */
  filtering?: "client" | "server";
}

/** The JS type of each {@link BusOptions} key. */
const BUS_OPTION_KINDS: Shape = {
  ...CONTROLLER_OPTION_KINDS,
  interface: "string",
  channel: "string",
  fd: "boolean",
  receiveOwnMessages: "boolean",
  preserveTimestamps: "boolean",
  localLoopback: "boolean",
  errorMask: "number",
  receiveBufferSize: "number",
  hardwareTimestamps: "boolean",
  rxCoalesceUs: "number",
  hopLimit: "number",
  filters: "array",
  joinFilters: "boolean",
  rxQueueSize: "number",
  host: "string",
  passphrase: "string",
  insecure: "boolean",
  tlsCa: "string",
  port: "number",
  connectTimeoutMs: "number",
  scheduler: "string",
  filtering: "string",
};

/** The JS type of each {@link WatchOptions} key. */
const WATCH_OPTION_KINDS: Shape = {
  extended: "boolean",
  fd: "boolean",
  timeoutMs: "number",
  changeMask: ["Uint8Array", "array"],
  checkDlc: "boolean",
  throttleMs: "number",
  announceResume: "boolean",
  queueSize: "number",
  mux: "object",
};

/** `mux` of {@link WatchOptions} as the binding takes it, or `ERR_INVALID_ARGUMENT`. */
function muxOption(mux: WatchMux): { mask: Uint8Array; cases: { value: Uint8Array; changeMask: Uint8Array }[] } {
  const isBytes = (b: unknown): b is Uint8Array | readonly number[] =>
    b instanceof Uint8Array || (Array.isArray(b) && b.every((x) => Number.isInteger(x) && x >= 0 && x <= 255));
  if (
    !isBytes(mux.mask) ||
    !Array.isArray(mux.cases) ||
    !mux.cases.every((c) => typeof c === "object" && c !== null && isBytes(c.value) && isBytes(c.changeMask))
  ) {
    throw invalid(
      "ERR_INVALID_ARGUMENT",
      "mux must be { mask: bytes, cases: [{ value: bytes, changeMask: bytes }, ...] }, bytes being a Uint8Array or an array of 0..255",
    );
  }
  return {
    mask: Uint8Array.from(mux.mask),
    cases: mux.cases.map((c) => ({ value: Uint8Array.from(c.value), changeMask: Uint8Array.from(c.changeMask) })),
  };
}

/** The JS type of each {@link SendOptions} key. */
const SEND_OPTION_KINDS: Shape = { timeoutMs: "number" };

/** Options of {@link Bus.send}. */
export interface SendOptions {
  /**
   * How long a send may wait for room in a full transmit queue (SocketCAN
   * ENOBUFS/EAGAIN) before it fails with {@link TxBufferFullError}; the wait
   * never blocks the event loop. Default 1000; 0 fails at once. The virtual bus never waits.
   */
  timeoutMs?: number;
  /**
   * Give up waiting for room when this signal aborts: the call rejects with a
   * `DOMException` named `"AbortError"`; frames sent before stay sent, the
   * rest is not sent. Already aborted: nothing is sent.
   */
  signal?: AbortSignal;
}

/** A CAN network interface, as {@link Bus.listInterfaces} reports it. */
export interface CanInterface {
  /** Interface name, e.g. `vcan0`. */
  name: string;
  /** Kernel interface index (the channel index of frames received from it). */
  index: number;
  /** Administratively up. */
  up: boolean;
  /** The kernel's operational state: "up", "down", "unknown" (vcan), ... */
  operstate: string;
  /** MTU: 16 classic CAN, 72 CAN FD capable. */
  mtu: number;
  /** CAN FD capable (mtu 72). */
  fd: boolean;
  /*
   * What the CAN controller reports over netlink (`ip -details link show`);
   * absent for interfaces without one (vcan, vxcan).
   */
  /** Nominal bit rate in bit/s. */
  bitrate?: number;
  /** Nominal sample point as a fraction (0.875). */
  samplePoint?: number;
  /** CAN FD data-phase bit rate in bit/s. */
  dataBitrate?: number;
  /** CAN FD mode switched on. */
  fdMode?: boolean;
  /** The controller state; a bus opened on the interface starts in it. */
  controllerState?: BusState;
  /** Automatic restart delay after bus-off in ms (0: none). */
  restartMs?: number;
  /** Transmit error counter. */
  txErrorCounter?: number;
  /** Receive error counter. */
  rxErrorCounter?: number;
  /** Nominal segments (absent for fixed-rate drivers such as slcan). */
  timing?: CanSegments;
  /** CAN FD data-phase sample point as a fraction. */
  dataSamplePoint?: number;
  /** CAN FD data-phase segments. */
  dataTiming?: CanSegments;
  /** Listen-only mode switched on. */
  listenOnly?: boolean;
  /** The controller's loopback mode switched on. */
  loopback?: boolean;
  /** One-shot mode switched on. */
  oneShot?: boolean;
  /** Triple sampling switched on. */
  tripleSampling?: boolean;
  /** Every control mode switched on, as `CAN_CTRLMODE_*` bits. */
  ctrlModes?: number;
  /** The control modes the driver supports, as `CAN_CTRLMODE_*` bits (kernel 6.0 and later). */
  ctrlModesSupported?: number;
  /** The controller clock in Hz (0: the driver does not say). */
  clock?: number;
  /** Bus termination in ohms, for drivers that switch it. */
  termination?: number;
}

/** One phase's segments, as the kernel reports them. */
export interface CanSegments {
  /** Time quantum in ns. */
  tq: number;
  /** Propagation segment in tq. */
  propSeg: number;
  /** Phase segment 1 in tq. */
  phaseSeg1: number;
  /** Phase segment 2 in tq. */
  phaseSeg2: number;
  /** Synchronisation jump width in tq. */
  sjw: number;
  /** Bit-rate prescaler. */
  brp: number;
}

const DEFAULT_SEND_TIMEOUT_MS = 1000;

/** The controller state. */
export type BusState = "active" | "warning" | "passive" | "bus-off" | "unknown";

/** The protocol a bus was opened for. */
export type CanProtocol = "CAN_20" | "CAN_FD";

/** Counters of a bus. */
export interface BusStats {
  /** Frames sent. */
  txFrames: number;
  /** Send calls that failed. */
  txErrors: number;
  /** Times a send found the transmit queue full (ENOBUFS/EAGAIN) and waited for room. */
  txWaits: number;
  /** Frames received that passed the filters. */
  rxFrames: number;
  /** Frames received that the filters rejected. */
  rxFiltered: number;
  /** FD frames that reached a bus opened for classic CAN (not delivered). */
  rxDroppedFdOnClassic: number;
  /** Frames dropped by the kernel before canwire read them (SocketCAN). */
  rxDroppedKernel: number;
  /** Frames dropped because a reader's queue was full (all readers, closed ones included). */
  rxDroppedQueueFull: number;
  /**
   * SocketCAN: times the receive thread let frames gather before reading them
   * under sustained traffic (see {@link BusOptions.rxCoalesceUs}); 0 while
   * every frame was read as soon as it arrived.
   */
  rxCoalescingWaits: number;
  /** Receive calls that failed unexpectedly (SocketCAN: a `recvmmsg` error other than "no frames" or the interface going down); frames may be lost with them. */
  rxErrors: number;
  /** The message of the most recent of those. */
  lastRxError?: string;
  /** Every open reader's counters; the first is the bus's own. */
  readers: ReaderStats[];
}

const DEFAULT_CHANNEL = "channel-0";

/**
 * An open CAN bus.
 *
 * @example
 * ```ts
 * await using bus = await Bus.open({ interface: "virtual", channel: "demo" });
 * await bus.send({ id: 0x123, data: [1, 2, 3] });
 * for await (const msg of bus) console.log(msg.id, msg.data);
 * ```
 */
export class Bus implements AsyncIterable<Message>, AsyncDisposable {
  readonly #native: NativeBus;
  readonly #reader: BusReader;
  readonly #channelNames = new Map<number, string | undefined>();
  #filters: CanFilter[] = [];
  readonly #tasks = new Set<CyclicTask>();
  /** Open watches, held weakly: a watch nobody references is collected (and closed natively). */
  readonly #watches = new Set<WeakRef<CanWatch>>();
  /** One record, reused by every single-message send (the native side reads it synchronously). */
  readonly #record = Buffer.alloc(RECORD_SIZE);
  readonly #recordView = new DataView(this.#record.buffer, this.#record.byteOffset, RECORD_SIZE);
  /** The interface this bus was opened on. */
  readonly interface: InterfaceName;
  /** The channel this bus was opened on. */
  readonly channel: string;

  private constructor(nativeBus: NativeBus, options: Required<Pick<BusOptions, "interface" | "channel">>, rxQueueSize: number) {
    this.#native = nativeBus;
    this.interface = options.interface;
    this.channel = options.channel;
    this.#reader = new BusReader(nativeBus.addReader(rxQueueSize, "rxQueueSize"), this.#channelName, false);
  }

  /**
   * Opens a bus. Frames are received from this moment on into the bus's own
   * bounded queue, read with {@link Bus.recv} or `for await`. Options not
   * given are taken from python-can's configuration where it sets them
   * (environment, `can.conf`), unless `ignoreConfig`.
   *
   * @throws {@link UnsupportedError} for an unknown interface or one this platform lacks;
   *   {@link InvalidArgumentError} for bad options, or a bad configuration value (naming its source).
   */
  static async open(options?: BusOptions): Promise<Bus> {
    const explicit = typeof options === "object" && options !== null ? (options as Record<string, unknown>) : {};
    options = checkOptions<BusOptions>(applyCanConfig(options, BUS_OPTION_KINDS), "options", BUS_OPTION_KINDS);
    const iface = options.interface ?? "virtual";
    const channel =
      options.channel ??
      (iface === "virtual" ? DEFAULT_CHANNEL : iface === "jumpstarter" ? "can" : iface === "udp_multicast" ? UDP_MULTICAST_GROUP : "");
    const rxQueueSize = options.rxQueueSize ?? 65_536;
    const filters = normalizeFilters(options.filters);
    // before any remote bus too: controller options there are refused (or, from configuration, left out)
    const dataPhase = configureBeforeOpen(iface, channel, options as Record<string, unknown>, explicit);
    if (iface === "jumpstarter") {
      const nativeBus = await openJumpstarterBus(channel, options);
      return native(() => Bus.#wrap(nativeBus, iface, channel, rxQueueSize, filters, options.joinFilters ?? false));
    }
    if (iface === "socketcand") {
      const nativeBus = await openSocketcandNative(options, channel);
      return native(() => Bus.#wrap(nativeBus, iface, channel, rxQueueSize, filters, options.joinFilters ?? false));
    }
    return native(() => {
      const nativeBus = binding.NativeBus.open({
        interface: iface,
        channel,
        fd: options.fd ?? (iface === "udp_multicast" || dataPhase),
        receiveOwnMessages: options.receiveOwnMessages ?? false,
        preserveTimestamps: options.preserveTimestamps ?? false,
        localLoopback: options.localLoopback ?? true,
        errorMask: options.errorMask,
        receiveBufferSize: options.receiveBufferSize,
        hardwareTimestamps: options.hardwareTimestamps ?? false,
        rxCoalesceUs: options.rxCoalesceUs,
        port: options.port,
        hopLimit: options.hopLimit,
      });
      // a bad rxQueueSize or filter value (checked natively) leaves no bus open
      try {
        const bus = new Bus(nativeBus, { interface: iface, channel }, rxQueueSize);
        if (filters.length > 0) bus.setFilters(filters, { join: options.joinFilters ?? false });
        return bus;
      } catch (error) {
        nativeBus.close();
        throw error;
      }
    });
  }

  /** A bus around a native bus opened elsewhere; closes it if the options are refused. */
  static #wrap(
    nativeBus: NativeBus,
    iface: InterfaceName,
    channel: string,
    rxQueueSize: number,
    filters: ReturnType<typeof normalizeFilters>,
    join: boolean,
  ): Bus {
    try {
      const bus = new Bus(nativeBus, { interface: iface, channel }, rxQueueSize);
      if (filters.length > 0) bus.setFilters(filters, { join });
      return bus;
    } catch (error) {
      nativeBus.close();
      throw error;
    }
  }

  readonly #channelName = (index: number): string | undefined => {
    if (!this.#channelNames.has(index)) {
      this.#channelNames.set(index, this.#native.channelName(index) ?? undefined);
    }
    return this.#channelNames.get(index);
  };

  /**
   * Sends one message. Resolves once the frame is handed to the bus.
   *
   * @throws {@link InvalidArgumentError} if the message breaks a rule (nothing is sent);
   *   {@link BusClosedError} after {@link Bus.close}.
   */
  async send(message: Message | MessageInit, options?: SendOptions): Promise<void> {
    options = checkOptions<SendOptions>(options, "options", SEND_OPTION_KINDS);
    checkTimeout(options.timeoutMs);
    const m = toMessage(message);
    writeRecord(this.#recordView, this.#record, 0, m);
    if (this.#sendsByChannel) this.#recordView.setUint32(20, this.#channelIndexOf(m.channel), true);
    const sent = this.#sendRecords(this.#record, options);
    if (typeof sent !== "number") await sent;
  }

  /** True for a SocketCAN bus on all interfaces: each message names its interface. */
  get #sendsByChannel(): boolean {
    return this.interface === "socketcan" && this.channel === "";
  }

  readonly #channelIndexes = new Map<string, number>();

  #channelIndexOf(name: string | undefined): number {
    if (name === undefined) {
      throw invalid("ERR_INVALID_ARGUMENT", 'a bus opened on all interfaces (channel "") needs each message\'s channel, e.g. "vcan0"');
    }
    let index = this.#channelIndexes.get(name);
    if (index === undefined) {
      index = native(() => this.#native.channelIndex(name));
      this.#channelIndexes.set(name, index);
    }
    return index;
  }

  /**
   * Sends records: synchronously when the transmit queue takes them all;
   * otherwise the native side holds the rest and this waits for room through
   * the waker (never blocking the event loop) until it is sent, the timeout
   * passes or a flush discards it (`ERR_TX_BUFFER_FULL` with the count sent).
   */
  #sendRecords(records: Uint8Array, options: SendOptions): number | Promise<number> {
    throwIfAborted(options.signal);
    const timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
    const outcome = native(() => this.#native.send(records, timeoutMs));
    // a number: all sent, without a promise of its own (one send per message must stay cheap)
    return typeof outcome === "number" ? outcome : this.#sendRest(outcome, options);
  }

  /** Waits for room until the pending rest of a send is sent, the timeout passes or a flush discards it. */
  async #sendRest(pending: NativePendingSend, options: SendOptions): Promise<number> {
    // the native poll decides about the timeout: the timer only wakes it (spuriously, not past the deadline)
    const wait = { timeoutMs: pending.remainingMs + 1, signal: options.signal };
    for (;;) {
      const sent = await waitUntil(pending, wait, () => native(() => pending.poll()) ?? undefined);
      if (sent !== null) return sent;
    }
  }

  /**
   * Sends many messages in one native call, in order. Accepts messages, or a
   * {@link FrameBatch} / raw record buffer as received (forwarding without decoding).
   * If any frame is invalid nothing is sent and the error names its index.
   *
   * @returns the number of frames sent.
   */
  async sendBatch(messages: ReadonlyArray<Message | MessageInit> | FrameBatch | Uint8Array, options?: SendOptions): Promise<number> {
    options = checkOptions<SendOptions>(options, "options", SEND_OPTION_KINDS);
    checkTimeout(options.timeoutMs);
    let records: Uint8Array;
    if (messages instanceof Uint8Array) records = messages;
    else if (Array.isArray(messages)) records = this.#encode(messages);
    else if (messages instanceof FrameBatch) records = messages.buffer;
    else throw invalid("ERR_INVALID_ARGUMENT", `messages must be an array, a FrameBatch or a Uint8Array, got ${describe(messages)}`);
    if (records.byteLength % RECORD_SIZE !== 0) {
      throw invalid("ERR_INVALID_ARGUMENT", `a record buffer is a multiple of ${RECORD_SIZE} bytes, got ${records.byteLength}`);
    }
    return this.#sendRecords(records, options);
  }

  /** Encodes messages as records; on a bus opened on all interfaces each names its channel's index. */
  #encode(messages: ReadonlyArray<Message | MessageInit>): Uint8Array {
    const list = toMessages(messages);
    const encoded = encodeRecords(list);
    if (this.#sendsByChannel) {
      const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
      list.forEach((m, i) => view.setUint32(i * RECORD_SIZE + 20, this.#channelIndexOf(m.channel), true));
    }
    return encoded;
  }

  /** Receives one message from the bus's own queue; `null` when `timeoutMs` passes first. */
  recv(options: RecvOptions = {}): Promise<Message | null> {
    return this.#reader.recv(options);
  }

  /** Receives up to `max` frames in one {@link FrameBatch}; `null` on timeout or when closed and drained. */
  recvBatch(options: RecvBatchOptions = {}): Promise<FrameBatch | null> {
    return this.#reader.recvBatch(options);
  }

  /** Yields batches from the bus's own queue until the bus closes; an aborted `signal` ends it with an `AbortError`. */
  batches(options: { max?: number } & IterateOptions = {}): AsyncGenerator<FrameBatch, void, undefined> {
    return this.#reader.batches(options);
  }

  /**
   * Yields messages from the bus's own queue until the bus closes. Leaving
   * the loop keeps the queue: a later `recv` or loop continues where it stopped.
   * Same as {@link Bus.messages} without options.
   */
  [Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    return this.#reader.messages();
  }

  /**
   * Yields messages from the bus's own queue until the bus closes, like
   * `for await (const msg of bus)`; an aborted `signal` makes the pending
   * `next()` reject with a `DOMException` named `"AbortError"` (as `events.on`
   * does), so the loop throws it.
   *
   * @example
   * ```ts
   * for await (const msg of bus.messages({ signal: AbortSignal.timeout(5000) })) console.log(msg.id);
   * ```
   */
  messages(options: IterateOptions = {}): AsyncGenerator<Message, void, undefined> {
    return this.#reader.messages(options);
  }

  /**
   * Sends messages periodically (python-can's `send_periodic`, plus counts,
   * multi-rate and restartable tasks). Several messages go round-robin.
   * `scheduler: "kernel"` hands the task to SocketCAN's broadcast manager
   * (see {@link PeriodicOptions.scheduler} for how it differs).
   *
   * @throws {@link InvalidArgumentError} for an invalid message, timing or scheduler;
   *   {@link UnsupportedError} for `scheduler: "kernel"` off SocketCAN.
   */
  sendPeriodic(messages: Message | MessageInit | ReadonlyArray<Message | MessageInit>, options: PeriodicOptions): CyclicTask {
    const list = periodicMessages("sendPeriodic", messages, false);
    options = periodicOptions(options);
    const timing = periodicTiming(options);
    const scheduler = options.scheduler ?? "native";
    if (scheduler === "kernel" && this.interface !== "socketcan") {
      throw canError("ERR_UNSUPPORTED", `the kernel scheduler (BCM) needs interface 'socketcan'; this bus is '${this.interface}'`);
    }
    const encode = (m: ReadonlyArray<Message | MessageInit>): Uint8Array => this.#encode(m);
    const records = encode(list);
    const task = native(
      () =>
        new CyclicTask(
          binding.NativeCyclicTask.create(
            this.#native,
            records,
            timing,
            options.autostart ?? true,
            scheduler,
            options.onError && nativeOnError(options.onError),
            options.modifier && nativeModifier(options.modifier, encode, this.#channelName),
          ),
          options.periodMs,
          encode,
          (removed) => this.#tasks.delete(removed),
        ),
    );
    this.#tasks.add(task);
    return task;
  }

  /** Stops every periodic task of this bus (they also stop when it closes). */
  stopAllPeriodicTasks(): void {
    for (const task of this.#tasks) task.remove();
    this.#tasks.clear();
  }

  /**
   * Watches one CAN id: `"timeout"` events when it falls silent for
   * `timeoutMs`, `"changed"` events when the bits under `changeMask` change
   * (or `"received"` for every frame without a mask), throttled to one per
   * `throttleMs`. On SocketCAN the kernel's broadcast manager does the work
   * (RX_SETUP); elsewhere a native thread does the same. See {@link WatchOptions}.
   *
   * @throws {@link InvalidArgumentError} for a bad option;
   *   {@link IdOutOfRangeError} for an id its kind cannot hold.
   */
  watch(id: number, options?: WatchOptions): CanWatch {
    checkType(id, "id", "number");
    options = checkOptions<WatchOptions>(options, "options", WATCH_OPTION_KINDS);
    const mask = options.changeMask;
    if (
      mask !== undefined &&
      !(mask instanceof Uint8Array) &&
      !(Array.isArray(mask) && mask.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))
    ) {
      throw invalid("ERR_INVALID_ARGUMENT", "changeMask must be a Uint8Array or an array of bytes (0..255)");
    }
    const queueSize = options.queueSize;
    const mux = options.mux === undefined ? undefined : muxOption(options.mux);
    const watch = native(() => {
      const nativeWatch = binding.NativeWatch.open(this.#native, {
        id,
        extended: options.extended ?? false,
        fd: options.fd ?? false,
        timeoutMs: options.timeoutMs,
        changeMask: mask === undefined ? undefined : Uint8Array.from(mask),
        checkDlc: options.checkDlc ?? false,
        throttleMs: options.throttleMs,
        announceResume: options.announceResume ?? true,
        queueSize,
        mux,
      });
      return new CanWatch(nativeWatch, id, this.#channelName, () => forget());
    });
    const watches = this.#watches;
    const ref = new WeakRef(watch);
    const forget = (): void => {
      watches.delete(ref);
      forgetCollected.unregister(ref);
    };
    watches.add(ref);
    forgetCollected.register(watch, () => watches.delete(ref), ref);
    return watch;
  }

  /**
   * Adds an independent reader with its own bounded queue: it receives every
   * frame from now on, whatever other readers do. Leaving its `for await`
   * loop, or {@link BusReader.close}, detaches it.
   */
  reader(options?: { capacity?: number }): BusReader {
    const { capacity } = checkOptions<{ capacity?: number }>(options, "options", { capacity: "number" });
    return native(() => new BusReader(this.#native.addReader(capacity ?? 65_536), this.#channelName, true));
  }

  /**
   * Replaces the acceptance filters; `null` or `[]` passes everything.
   * With `join`, a frame must pass all filters (SocketCAN's CAN_RAW_JOIN_FILTERS).
   */
  setFilters(filters: readonly CanFilter[] | null, options?: { join?: boolean }): void {
    options = checkOptions<{ join?: boolean }>(options, "options", { join: "boolean" });
    const normalized = normalizeFilters(filters);
    native(() => this.#native.setFilters(normalized, options.join ?? false));
    this.#filters = normalized;
  }

  /** The current filters. */
  get filters(): readonly CanFilter[] {
    return this.#filters;
  }

  /**
   * The controller state; the virtual bus is always `"active"`. On SocketCAN
   * it follows the controller-problem, bus-off and restart error frames
   * received (so it needs the error mask to include them, the default).
   */
  get state(): BusState {
    return this.#native.state;
  }

  /**
   * Resolves the new state at the next controller state change; `null` when
   * `timeoutMs` passes first, the bus closes, or the interface reports no
   * states. An aborted `signal` rejects with a `DOMException` named
   * `"AbortError"` and leaves nothing armed.
   */
  async nextState(options: RecvOptions = {}): Promise<BusState | null> {
    checkTimeout(options.timeoutMs);
    throwIfAborted(options.signal);
    const watch = native(() => this.#native.watchState());
    if (!watch) return null;
    return nextChange(watch, options);
  }

  /**
   * Yields each controller state change from now on until the bus closes
   * (changes between two `next()` calls are not missed; if several happen
   * while the consumer is busy, it sees the latest). An aborted `signal`
   * ends it with an `AbortError`.
   */
  async *stateChanges(options: IterateOptions = {}): AsyncGenerator<BusState, void, undefined> {
    throwIfAborted(options.signal);
    const watch = native(() => this.#native.watchState());
    if (!watch) return;
    for (;;) {
      const state = await nextChange(watch, { signal: options.signal });
      if (state === null) return;
      yield state;
    }
  }

  /** The protocol the bus was opened for. */
  get protocol(): CanProtocol {
    return this.#native.protocol;
  }

  /** A description of the channel. */
  get channelInfo(): string {
    return this.#native.channelInfo;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#native.closed;
  }

  /**
   * Discards frames waiting to be sent: a send waiting for room in a full
   * transmit queue ends at once with {@link TxBufferFullError} (its message
   * says flushTxBuffer() discarded the rest and how many frames were sent).
   * Frames the kernel already queued on the interface cannot be recalled by
   * a socket. Nothing waits on the virtual bus, which never blocks a sender.
   */
  async flushTxBuffer(): Promise<void> {
    native(() => this.#native.flushTxBuffer());
  }

  /** Counters: frames in and out, drops by reason, per-reader queues. */
  stats(): BusStats {
    return native(() => this.#native.stats());
  }

  /**
   * Closes the bus: stops its backend, ends every reader's iteration once
   * drained. Idempotent. Frames already queued can still be read.
   */
  async close(): Promise<void> {
    this.stopAllPeriodicTasks();
    for (const ref of [...this.#watches]) ref.deref()?.close();
    native(() => this.#native.close());
  }

  /** Alias of {@link Bus.close}, for parity with python-can and the Jumpstarter API. */
  shutdown(): Promise<void> {
    return this.close();
  }

  /** Closes the bus at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Listens for socketcand beacons; see {@link detectSocketcand}. */
  static detectSocketcand(options?: { timeoutMs?: number }): Promise<AdvertisedSocketcandBus[]> {
    return detectSocketcand(options);
  }

  /** @internal The native bus, for stacks built on top of it (ISO-TP). */
  static nativeOf(bus: Bus): NativeBus {
    return bus.#native;
  }

  /**
   * Configures the controller of SocketCAN interface `name` without opening
   * a bus, as `ip link set NAME type can ...` does: brings the link down if
   * it is up, sets what `options` give, brings it up again unless
   * `leaveDown`. Needs CAP_NET_ADMIN.
   *
   * @throws `ERR_INVALID_ARGUMENT` for a bad value (checked before anything
   *   is touched) or one the kernel rejects, naming the option;
   *   `ERR_UNSUPPORTED` for an interface without a controller (vcan) or an
   *   option its driver refuses; `ERR_PERMISSION_DENIED` without
   *   CAP_NET_ADMIN; `ERR_UNKNOWN_INTERFACE` for an unknown name.
   */
  static configureInterface(name: string, options: ConfigureInterfaceOptions): void {
    configureInterface(name, options);
  }

  /** Sets SocketCAN interface `name` up or down, as `ip link set NAME up|down`; needs CAP_NET_ADMIN. */
  static setInterfaceUp(name: string, up: boolean): void {
    setInterfaceUp(name, up);
  }

  /** Restarts the bus-off controller of `name`, as `ip link set NAME type can restart` (needs CAP_NET_ADMIN and restartMs 0). */
  static restartInterface(name: string): void {
    restartInterface(name);
  }

  /**
   * The CAN interfaces of this host (link type CAN in /sys/class/net) with
   * their link state; empty outside Linux.
   */
  static listInterfaces(): CanInterface[] {
    return native(() => binding.listInterfaces()) as CanInterface[]; // controllerState holds BusState strings
  }

  /** Names of the virtual channels with an open bus in this process. */
  static virtualChannels(): string[] {
    return native(() => binding.virtualChannels());
  }
}

/** The state after the next change `watch` sees; `null` on timeout or when the bus closes. */
function nextChange(watch: NativeStateWatch, limits: WaitLimits): Promise<BusState | null> {
  return waitUntil(watch, limits, () => (native(() => watch.take()) as BusState | null) ?? (watch.closed ? null : undefined));
}
