/**
 * canwire as a Jumpstarter exporter: the buses and ISO-TP stacks of an
 * `ExporterConfig` served as `jumpstarter.v1.ExporterService`, so the
 * unmodified Python `CanClient` / `IsoTpClient` drive them, through
 * `jmp shell --tls-grpc HOST:PORT` or `jumpstarter.common.utils.env()`.
 *
 * @example
 * ```ts
 * await using exporter = await serveExporter(`
 * export:
 *   can: {type: jumpstarter_driver_can.driver.Can, config: {channel: rig, interface: virtual}}
 * `);
 * console.log(`jmp shell --tls-grpc ${exporter.address} --tls-grpc-insecure -- python3 test.py`);
 * ```
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { binding, type NativeExporter } from "./binding.js";
import { Bus } from "./bus.js";
import { invalid, native, nativeAsync } from "./errors.js";
import { IsoTp } from "./isotp.js";
import { type ExportedObject, entriesOf, openExport } from "./jumpstarter-export.js";
import { checkOptions, describe, type Shape } from "./options.js";

/** How {@link serveExporter} listens and what it allows. */
export interface ServeExporterOptions {
  /**
   * `HOST:PORT` with an IP address. Default `127.0.0.1` on a free port; any
   * other address is served only when asked for, with a warning when it has
   * neither TLS nor a passphrase.
   */
  listen?: string;
  /** A Unix socket path instead of TCP (created 0600, removed on close). */
  unix?: string;
  /** A passphrase every RPC must carry (`jmp shell --passphrase`); compared in constant time. */
  passphrase?: string;
  /** TLS certificate chain: a PEM file path or its bytes (with `tlsKey`). */
  tlsCert?: string | Uint8Array;
  /** TLS private key: a PEM file path or its bytes (with `tlsCert`). */
  tlsKey?: string | Uint8Array;
  /** Refuse sends, periodic tasks, state changes, flush, shutdown and ISO-TP sends (PERMISSION_DENIED); receiving works. */
  readOnly?: boolean;
  /** Called with the peer address of each client connection. */
  onClient?: (address: string) => void;
}

const OPTION_KINDS: Shape = {
  listen: "string",
  unix: "string",
  passphrase: "string",
  tlsCert: ["string", "object"],
  tlsKey: ["string", "object"],
  readOnly: "boolean",
  onClient: "function",
};

/** A running exporter. It keeps Node alive until closed, as a listening server does. */
export class Exporter implements AsyncDisposable {
  readonly #native: NativeExporter;
  readonly #owned: ExportedObject[];
  #closing: Promise<void> | undefined;
  /** Where clients connect: `127.0.0.1:PORT` (for `jmp shell --tls-grpc`) or the Unix socket path (for `JUMPSTARTER_HOST`). */
  readonly address: string;
  /** The served objects, by export name. */
  readonly exports: Readonly<Record<string, ExportedObject>>;
  /** Warnings about the options (an open address without TLS or passphrase). */
  readonly warnings: readonly string[];

  /** @internal */
  constructor(nativeExporter: NativeExporter, exports: Record<string, ExportedObject>, owned: ExportedObject[]) {
    this.#native = nativeExporter;
    this.#owned = owned;
    this.address = nativeExporter.address;
    this.exports = Object.freeze({ ...exports });
    this.warnings = Object.freeze([...nativeExporter.warnings]);
  }

  /**
   * Stops serving: waiting calls and streams end, periodic tasks clients
   * created stop; then closes the buses and stacks this exporter opened
   * (objects passed in open stay open). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await nativeAsync(() => this.#native.close());
      for (const object of this.#owned.reverse()) await object.close();
    })();
    return this.#closing;
  }

  /** Closes the exporter at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

async function pem(value: string | Uint8Array | undefined, name: string): Promise<Buffer | undefined> {
  if (value === undefined) return undefined;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value !== "string")
    throw invalid("ERR_INVALID_ARGUMENT", `${name} must be a PEM file path or its bytes, got ${describe(value)}`);
  try {
    return await readFile(value);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw invalid("ERR_INVALID_ARGUMENT", `cannot read ${name} '${value}': ${why}`);
  }
}

function stringLabels(labels: unknown, name: string): Record<string, string> | undefined {
  if (labels === undefined || labels === null) return undefined;
  if (typeof labels !== "object" || Object.values(labels).some((v) => typeof v !== "string")) {
    throw invalid("ERR_INVALID_ARGUMENT", `export '${name}' labels must map strings to strings, got ${describe(labels)}`);
  }
  return labels as Record<string, string>;
}

/**
 * Serves the exports of a Jumpstarter `ExporterConfig` (YAML text or the
 * parsed object; `export:` entries of type `...driver.Can`, `...IsoTpPython`,
 * `...IsoTpSocket` or the short names {@link openExport} accepts). In the
 * object form an entry may also be an open {@link Bus} or {@link IsoTp},
 * served as is and left open on close.
 *
 * One session lives as long as the exporter, as in `jmp run`: frames are
 * queued from the start, periodic tasks outlive their client, `shutdown`
 * kills a bus for every later client. An exported ISO-TP stack waits for a
 * client's `start()`, as the Python driver's does.
 *
 * @throws {@link InvalidArgumentError} for a bad configuration or options;
 *   `ERR_OS` when the address cannot be bound.
 */
export async function serveExporter(config: string | object, options?: ServeExporterOptions): Promise<Exporter> {
  const opts = checkOptions<ServeExporterOptions>(options ?? {}, "options", OPTION_KINDS);
  const entries = entriesOf(config);
  const [tlsCert, tlsKey] = [await pem(opts.tlsCert, "tlsCert"), await pem(opts.tlsKey, "tlsKey")];
  const list = new binding.NativeExportList();
  const exports: Record<string, ExportedObject> = {};
  const owned: ExportedObject[] = [];
  try {
    for (const [name, entry] of Object.entries(entries)) {
      const given: unknown = entry;
      let object: ExportedObject;
      if (given instanceof Bus || given instanceof IsoTp) {
        object = given;
      } else {
        object = await openExport({ export: { [name]: entry } }, name);
        owned.push(object);
      }
      exports[name] = object;
      const description = given instanceof Bus || given instanceof IsoTp ? undefined : entry.description;
      const labels =
        given instanceof Bus || given instanceof IsoTp ? undefined : stringLabels((entry as { labels?: unknown }).labels, name);
      if (object instanceof Bus) list.addBus(name, Bus.nativeOf(object), description, labels);
      else list.addIsoTp(name, IsoTp.nativeOf(object), description, labels);
    }
    const onClient = opts.onClient ?? (() => {});
    const nativeExporter = native(() =>
      binding.NativeExporter.start(
        list,
        { listen: opts.listen, unix: opts.unix, passphrase: opts.passphrase, tlsCert, tlsKey, readOnly: opts.readOnly },
        (address: string) => onClient(address),
      ),
    );
    const exporter = new Exporter(nativeExporter, exports, owned);
    for (const warning of exporter.warnings) process.emitWarning(warning, { code: "CANWIRE_EXPORTER_INSECURE" });
    return exporter;
  } catch (error) {
    for (const object of owned.reverse()) await object.close();
    throw error;
  }
}
