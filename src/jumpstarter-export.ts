/**
 * Opening buses and ISO-TP stacks from a Jumpstarter exporter `export:` block,
 * so a rig's existing YAML configures canwire too.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import { Bus, type InterfaceName } from "./bus.js";
import { InvalidArgumentError, invalid } from "./errors.js";
import { IsoTp } from "./isotp.js";
import type { IsoTpAddress } from "./isotp-config.js";
import { checkObject, checkShape, checkType, describe, type Shape } from "./options.js";

/** One entry of an `export:` block. */
export interface ExportEntry {
  /** `jumpstarter_driver_can.Can`, `...IsoTpPython` or `...IsoTpSocket` (the part after the last dot decides). */
  type: string;
  /** The driver's keyword arguments. */
  config?: {
    channel?: string | number;
    interface?: string;
    address?: IsoTpAddress;
    params?: object;
  };
  /** Free text. */
  description?: string;
}

/** The JS type of each `config` key. */
const CONFIG_KINDS: Shape = { channel: ["string", "number"], interface: "string", address: "object", params: "object" };

/** What an export entry opens. */
export type ExportedObject = Bus | IsoTp;

/**
 * The most aliases a YAML document may expand: an exporter configuration has
 * a handful at most, an alias bomb needs thousands.
 */
const MAX_YAML_ALIASES = 100;

/** `text` parsed as YAML, or `ERR_INVALID_ARGUMENT` naming the syntax error or alias bomb. */
function parseConfig(text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES, prettyErrors: true });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new InvalidArgumentError("ERR_INVALID_ARGUMENT", `the exporter configuration is not valid YAML: ${why}`, { cause: error });
  }
}

/** @internal The `export:` entries of an exporter configuration (YAML text or object), by name. */
export function entriesOf(source: string | object): Record<string, ExportEntry> {
  if (typeof source !== "string" && (typeof source !== "object" || source === null)) {
    throw invalid("ERR_INVALID_ARGUMENT", `source must be YAML text or an object, got ${describe(source)}`);
  }
  const doc = (typeof source === "string" ? parseConfig(source) : source) as { export?: unknown } | null;
  const block = doc && typeof doc === "object" && "export" in doc ? doc.export : doc;
  if (!block || typeof block !== "object") {
    throw invalid("ERR_INVALID_ARGUMENT", "no export block: expected `export: { NAME: { type, config } }`");
  }
  return block as Record<string, ExportEntry>;
}

/**
 * Opens the named entry of an exporter configuration (YAML text or a parsed
 * object, with or without the top-level `export:` key).
 *
 * @example
 * ```ts
 * const tp = await openExport(`
 * export:
 *   can:
 *     type: jumpstarter_driver_can.IsoTpPython
 *     config: {channel: 0, interface: virtual, address: {rxid: 1, txid: 2}, params: {can_fd: true}}
 * `, "can");
 * ```
 */
export async function openExport(source: string | object, name: string): Promise<ExportedObject> {
  checkType(name, "name", "string");
  const entries = entriesOf(source);
  const entry = Object.hasOwn(entries, name) ? entries[name] : undefined;
  if (!entry || typeof entry !== "object") {
    throw invalid("ERR_INVALID_ARGUMENT", `no export named '${name}': available are ${Object.keys(entries).join(", ") || "none"}`);
  }
  if (typeof entry.type !== "string") throw invalid("ERR_INVALID_ARGUMENT", `export '${name}' has no type`);
  const config = checkShape<NonNullable<ExportEntry["config"]>>(
    entry.config === undefined ? {} : checkObject(entry.config, `export '${name}' config`),
    `export '${name}' config`,
    CONFIG_KINDS,
  );
  const kind = entry.type.slice(entry.type.lastIndexOf(".") + 1);
  const iface = (config.interface ?? (kind === "IsoTpSocket" ? "socketcan" : "virtual")) as InterfaceName;
  const channel = config.channel === undefined ? undefined : String(config.channel);
  const withChannel = <T extends object>(o: T): T & { channel?: string } => (channel === undefined ? o : { ...o, channel });
  switch (kind) {
    case "Can":
      return Bus.open(withChannel({ interface: iface }));
    case "IsoTpPython":
    case "IsoTpSocket": {
      if (!config.address) throw invalid("ERR_INVALID_ARGUMENT", `export '${name}' (${kind}) needs config.address`);
      return IsoTp.open(
        withChannel({
          interface: iface,
          address: config.address,
          params: config.params ?? {},
          stack: kind === "IsoTpSocket" ? ("kernel" as const) : ("userspace" as const),
        }),
      );
    }
    default:
      throw invalid("ERR_INVALID_ARGUMENT", `export '${name}' has type '${entry.type}': canwire opens Can, IsoTpPython and IsoTpSocket`);
  }
}

/** Opens every entry of an exporter configuration, by name. */
export async function openExports(source: string | object): Promise<Record<string, ExportedObject>> {
  const out: Record<string, ExportedObject> = {};
  for (const name of Object.keys(entriesOf(source))) out[name] = await openExport(source, name);
  return out;
}
