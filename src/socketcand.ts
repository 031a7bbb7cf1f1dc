/**
 * socketcand, both sides: {@link serveSocketcand} serves canwire buses to
 * python-can, SavvyCAN, Kayak or socketcandcl byte for byte as socketcand
 * does; `Bus.open({ interface: "socketcand", host, port, channel })` opens
 * a bus on any socketcand server.
 *
 * @example
 * ```ts
 * await using bus = await Bus.open({ interface: "virtual", channel: "rig" });
 * await using server = await serveSocketcand({ vcan0: bus });
 * // python: can.Bus(interface="socketcand", host="127.0.0.1", port=server.address.port, channel="vcan0")
 * ```
 *
 * @module
 */
import { binding, type NativeBus, type NativeSocketcandServer } from "./binding.js";
import { Bus, type BusOptions } from "./bus.js";
import { invalid, native, nativeAsync } from "./errors.js";
import { checkObject, checkOptions, describe, type Shape } from "./options.js";

/** @internal Connects the native side of `Bus.open({ interface: "socketcand" })`. */
export async function openSocketcandNative(options: BusOptions, channel: string): Promise<NativeBus> {
  if (channel === "") {
    throw invalid("ERR_INVALID_ARGUMENT", 'a socketcand bus needs a channel: the bus name on the server, e.g. "vcan0"');
  }
  if (options.scheduler !== undefined && options.scheduler !== "native" && options.scheduler !== "server") {
    throw invalid("ERR_INVALID_ARGUMENT", `scheduler must be "native" or "server", got '${options.scheduler}'`);
  }
  if (options.filtering !== undefined && options.filtering !== "client" && options.filtering !== "server") {
    throw invalid("ERR_INVALID_ARGUMENT", `filtering must be "client" or "server", got '${options.filtering}'`);
  }
  return nativeAsync(() =>
    binding.openSocketcand({
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 29536,
      channel,
      fd: options.fd ?? false,
      connectTimeoutMs: options.connectTimeoutMs,
      serverCyclic: options.scheduler === "server",
      serverFiltering: options.filtering === "server",
    }),
  );
}

/** Options of {@link serveSocketcand}. Defaults follow the security baseline: loopback, bounded, no beacon. */
export interface SocketcandServerOptions {
  /** Address to listen on. Default `"127.0.0.1"`; any other address logs a warning (socketcand has no authentication or encryption). */
  host?: string;
  /** TCP port. Default 29536 (socketcand's); 0 picks a free one (see {@link SocketcandServer.address}). */
  port?: number;
  /** Listen on this Unix socket path instead of TCP (created with mode 0600; removed on close). */
  unixPath?: string;
  /** TCP clients allowed to connect: addresses or ranges (`"192.168.1.0/24"`). Default: any. */
  allowedClients?: string[];
  /** Clients served at once; more are answered `< error too many clients >` and closed. Default 32. */
  maxClients?: number;
  /** Refuse every transmitting command (`send`, `sendfd`, `add`, `update`, `sendpdu`) with `< error read-only server >`. Default false. */
  readOnly?: boolean;
  /**
   * Apply socketcand's bus configuration commands (`< BUS B … >` bit timing,
   * `< BUS C … >` listen-only/loopback/triple sampling) to a SocketCAN bus's
   * controller (the server needs CAP_NET_ADMIN); a bus without a controller
   * answers `< configuration operation not supported B|C >`. Default false:
   * refused, as always on a read-only server.
   */
  allowReconfigure?: boolean;
  /** Raw mode: deliver error frames as `< error CLASS SEC.USEC >` (socketcand's `-e`). Default false. */
  errorFrames?: boolean;
  /** Raw mode: CAN FD with the `fdframe`/`sendfd` syntax of socketcand's FD branch. Default false. */
  fd?: boolean;
  /** Frames queued per client before a slow client loses the newest (counted in `droppedFrames`). Default 4096. */
  outputQueueSize?: number;
  /** Time from connect to a successful `< open >`, in ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Close a client that sent nothing for this long, in ms. Default: never (python-can clients that only receive send nothing). */
  idleTimeoutMs?: number;
  /** Cyclic jobs plus subscriptions per client. Default 256. */
  maxJobs?: number;
  /**
   * Broadcast socketcand's discovery beacon (UDP 42000, every 3 s) advertising
   * the bound address and the bus names. Default false. Needs a specific IPv4
   * address (not 0.0.0.0); on loopback it goes to 127.255.255.255.
   */
  beacon?: boolean;
}

const SERVER_OPTION_KINDS: Shape = {
  host: "string",
  port: "number",
  unixPath: "string",
  allowedClients: "array",
  maxClients: "number",
  readOnly: "boolean",
  allowReconfigure: "boolean",
  errorFrames: "boolean",
  fd: "boolean",
  outputQueueSize: "number",
  handshakeTimeoutMs: "number",
  idleTimeoutMs: "number",
  maxJobs: "number",
  beacon: "boolean",
};

/** Where a server listens: `host` and `port` for TCP, `path` for a Unix socket. */
export interface SocketcandAddress {
  host?: string;
  port?: number;
  path?: string;
}

/** Counters of a {@link SocketcandServer}: nothing it refuses, skips or loses passes unseen. */
export interface SocketcandServerStats {
  /** Connections open now. */
  clients: number;
  /** Connections accepted since the start. */
  connections: number;
  /** Connections refused (address not allowed, too many clients). */
  refused: number;
  /** Connections closed by the handshake or idle timeout. */
  timedOut: number;
  /** Known commands with wrong fields (socketcand answers nothing to them). */
  malformed: number;
  /** Elements over 8290 bytes, discarded. */
  oversize: number;
  /** Unknown commands, answered `< error unknown command >`. */
  unknown: number;
  /** Commands refused by read-only mode or the jobs bound. */
  refusedCommands: number;
  /** Client sends the bus refused. */
  sendErrors: number;
  /** Frames slow clients lost to a full output queue. */
  droppedFrames: number;
  /** Frames socketcand cannot show a client (remote frames; error frames without `errorFrames`). */
  skippedFrames: number;
}

/**
 * A running socketcand server; close it with {@link SocketcandServer.close}
 * or `await using`. Like a `net.Server`, it keeps Node running until closed.
 */
export class SocketcandServer {
  /** Where the server listens. */
  readonly address: SocketcandAddress;
  /** What the configuration deserves a warning for (also emitted as process warnings). */
  readonly warnings: readonly string[];
  readonly #native: NativeSocketcandServer;
  readonly #owned: Bus[];
  readonly #keepAlive = setInterval(() => {}, 2 ** 30);
  #closed = false;

  /** @internal */
  constructor(nativeServer: NativeSocketcandServer, owned: Bus[]) {
    this.#native = nativeServer;
    this.#owned = owned;
    const address = nativeServer.address();
    this.address = address.path != null ? { path: address.path } : { host: address.host ?? undefined, port: address.port ?? undefined };
    this.warnings = nativeServer.warnings();
  }

  /** Counters. */
  stats(): SocketcandServerStats {
    return native(() => this.#native.stats()) as SocketcandServerStats;
  }

  /** Stops serving (every client is disconnected, its cyclic jobs end) and closes the buses the server opened itself. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    native(() => this.#native.close());
    await Promise.all(this.#owned.map((bus) => bus.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The buses to serve: name (what clients `< open >`) → an open {@link Bus}, or the options to open one. */
export type SocketcandBuses = Record<string, Bus | BusOptions> | Map<string, Bus | BusOptions>;

/**
 * Serves buses over the socketcand protocol. Buses given open stay open
 * after {@link SocketcandServer.close}; buses given as options are opened
 * here and closed with the server.
 *
 * @throws {@link InvalidArgumentError} for a bad name or option; {@link CanOsError} when the address cannot be bound.
 */
export async function serveSocketcand(buses: SocketcandBuses, options?: SocketcandServerOptions): Promise<SocketcandServer> {
  const opts = checkOptions<SocketcandServerOptions>(options, "options", SERVER_OPTION_KINDS);
  const entries = buses instanceof Map ? [...buses.entries()] : Object.entries(checkObject(buses, "buses"));
  const owned: Bus[] = [];
  try {
    const exports = new binding.NativeSocketcandExports();
    for (const [name, value] of entries) {
      if (typeof value !== "object" || value === null) {
        throw invalid("ERR_INVALID_ARGUMENT", `buses.${name} must be a Bus or bus options, got ${describe(value)}`);
      }
      let bus: Bus;
      if (value instanceof Bus) {
        bus = value;
      } else {
        bus = await Bus.open(value as BusOptions);
        owned.push(bus);
      }
      native(() => exports.add(name, Bus.nativeOf(bus)));
    }
    const nativeServer = native(() =>
      exports.start({
        host: opts.host,
        port: opts.port,
        unixPath: opts.unixPath,
        allowedClients: opts.allowedClients,
        maxClients: opts.maxClients,
        readOnly: opts.readOnly,
        allowReconfigure: opts.allowReconfigure,
        errorFrames: opts.errorFrames,
        fd: opts.fd,
        outputQueueSize: opts.outputQueueSize,
        handshakeTimeoutMs: opts.handshakeTimeoutMs,
        idleTimeoutMs: opts.idleTimeoutMs,
        maxJobs: opts.maxJobs,
        beacon: opts.beacon,
      }),
    );
    const server = new SocketcandServer(nativeServer, owned);
    for (const warning of server.warnings) process.emitWarning(warning, "CanwireSecurityWarning");
    return server;
  } catch (error) {
    await Promise.all(owned.map((bus) => bus.close()));
    throw error;
  }
}

/** A bus a socketcand beacon advertised: `Bus.open({ interface: "socketcand", ...it })` opens it. */
export interface AdvertisedSocketcandBus {
  interface: "socketcand";
  host: string;
  port: number;
  channel: string;
  /** The server's host name, as its beacon gives it. */
  serverName: string;
}

/**
 * Listens for socketcand discovery beacons (UDP port 42000) for `timeoutMs`
 * (default 3100, a little over socketcand's 3 s interval) and resolves every
 * bus they advertise, as python-can's `detect_available_configs("socketcand")`.
 *
 * @throws {@link CanOsError} when UDP port 42000 cannot be bound.
 */
export async function detectSocketcand(options: { timeoutMs?: number } = {}): Promise<AdvertisedSocketcandBus[]> {
  const opts = checkOptions<{ timeoutMs?: number }>(options, "options", { timeoutMs: "number" });
  const found = await nativeAsync(() => binding.detectSocketcand(opts.timeoutMs ?? 3100));
  return found.map((b) => ({ interface: "socketcand", host: b.host, port: b.port, channel: b.channel, serverName: b.serverName }));
}
