/**
 * Opening buses and ISO-TP stacks from a Jumpstarter exporter `export:` block,
 * so a rig's existing YAML configures canwire too.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import { Bus, type InterfaceName } from "./bus.js";
import { invalid } from "./errors.js";
import { IsoTp } from "./isotp.js";
import type { IsoTpAddress } from "./isotp-config.js";

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

/** What an export entry opens. */
export type ExportedObject = Bus | IsoTp;

function entriesOf(source: string | object): Record<string, ExportEntry> {
  const doc = (typeof source === "string" ? parseYaml(source) : source) as { export?: unknown } | null;
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
  const entries = entriesOf(source);
  const entry = entries[name];
  if (!entry) {
    throw invalid("ERR_INVALID_ARGUMENT", `no export named '${name}': available are ${Object.keys(entries).join(", ") || "none"}`);
  }
  if (typeof entry.type !== "string") throw invalid("ERR_INVALID_ARGUMENT", `export '${name}' has no type`);
  const config = entry.config ?? {};
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
