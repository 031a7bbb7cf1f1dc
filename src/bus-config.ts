/**
 * `Bus.open` options filled in from python-can's configuration (see
 * `config-files.ts`): what the caller gives always wins; each key the
 * configuration adds is checked and, when it is bad, refused with an
 * `ERR_INVALID_ARGUMENT` naming where it came from
 * (`CAN_BITRATE="abc" (environment): bitrate must be ...`).
 *
 * Keys are python-can's names or canwire's: `receive_own_messages` and
 * `receiveOwnMessages` are both `receiveOwnMessages`; `can_filters`
 * (`[{"can_id", "can_mask", "extended"}]`, from `CAN_CONFIG`) is `filters`;
 * `ignore_rx_error_frames = true` is `errorMask: 0`; `bitrate` and
 * `data_bitrate` reach a SocketCAN controller (see `controller.ts`, which
 * leaves them out with a warning where there is no controller). A key
 * canwire has no option for (another backend's setting) is not applied, and
 * a process warning (`CANWIRE_CONFIG_NOT_APPLIED`) says so once.
 *
 * @module
 * @internal
 */
import type { BusOptions } from "./bus.js";
import { type CanConfigSources, type ConfigEntry, loadCanConfig } from "./config-files.js";
import { InvalidArgumentError, invalid } from "./errors.js";
import { type CanFilter, normalizeFilters } from "./filters.js";
import { checkType, type Kinds, type Shape } from "./options.js";

/** The {@link Bus.open} options that steer how python-can's configuration is read (see {@link loadCanConfig}). */
export interface ConfigSelection {
  /** python-can's `config_context`: read this file section and the `_<context>` environment variables first. */
  configContext?: string;
  /** Use only the given options, as python-can's `ignore_config`. Default false. */
  ignoreConfig?: boolean;
}

/** python-can names whose canwire name is not their camelCase. */
const RENAMED: Readonly<Record<string, string>> = { can_filters: "filters" };

/** python-can names that camelCase into a canwire option of another meaning. */
const NOT_MAPPED: ReadonlySet<string> = new Set([
  "rx_queue_size", // python-can's 0 means unbounded; canwire's queues are always bounded
]);

/** Keys whose values are checked although canwire does not apply them, so a typo is caught. */
const BIT_RATES: ReadonlySet<string> = new Set(["bitrate", "data_bitrate"]);

/** Where each option `applyCanConfig` added came from (`CAN_BITRATE="500000" (environment)`), by result object. */
const origins = new WeakMap<object, Readonly<Record<string, string>>>();

/** Where the configuration option `name` of `options` (a result of {@link applyCanConfig}) came from, if it did. */
export function configOrigin(options: object, name: string): string | undefined {
  return origins.get(options)?.[name];
}

/** Warnings already given, so each shows once per process. */
const warned = new Set<string>();

/**
 * `options` with what python-can's configuration adds for the keys they do
 * not set, `configContext` and `ignoreConfig` removed; `kinds` are the
 * option types `Bus.open` accepts. Options that are not an object are
 * returned as they are (`Bus.open` refuses them).
 */
export function applyCanConfig(options: unknown, kinds: Shape, sources: Omit<CanConfigSources, "context"> = {}): unknown {
  if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options))) return options;
  const { configContext, ignoreConfig, ...given } = (options ?? {}) as BusOptions & ConfigSelection;
  if (configContext !== undefined) checkType(configContext, "options.configContext", "string");
  if (ignoreConfig !== undefined) checkType(ignoreConfig, "options.ignoreConfig", "boolean");
  if (ignoreConfig) return given;
  const config = loadCanConfig(configContext === undefined ? sources : { ...sources, context: configContext });
  const result: Record<string, unknown> = { ...given };
  const added: Record<string, string> = {};
  origins.set(result, added);
  const isGiven = (key: string) => result[key] !== undefined;
  for (const [key, entry] of config) {
    if (key === "ignore_rx_error_frames") {
      if (!isGiven("errorMask") && boolean(entry, key)) result.errorMask = 0;
      continue;
    }
    if (BIT_RATES.has(key)) bitRate(entry, key);
    const name = NOT_MAPPED.has(key) ? undefined : (RENAMED[key] ?? camelCase(key));
    const kind = name === undefined ? undefined : kinds[name];
    if (name === undefined || kind === undefined || name === "configContext" || name === "ignoreConfig") {
      notApplied(entry, key);
      continue;
    }
    if (isGiven(name)) continue;
    result[name] = optionValue(entry, name, kind);
    added[name] = entry.origin;
  }
  return result;
}

/** The option `name` of type `kind` from `entry`, or an error naming its origin. */
function optionValue(entry: ConfigEntry, name: string, kind: Kinds): unknown {
  const kindList = typeof kind === "string" ? [kind] : kind;
  if (kindList.includes("boolean")) return boolean(entry, name);
  if (kindList.includes("number")) {
    if (typeof entry.value === "number" && Number.isFinite(entry.value)) return entry.value;
    throw invalid("ERR_INVALID_ARGUMENT", `${entry.origin}: ${name} must be a number`);
  }
  if (kindList.includes("string")) {
    if (entry.text !== undefined) return entry.text; // the text as written: channel "0" stays "0"
    if (typeof entry.value === "string" || typeof entry.value === "number") return String(entry.value);
    throw invalid("ERR_INVALID_ARGUMENT", `${entry.origin}: ${name} must be a string`);
  }
  if (name === "filters") return filters(entry);
  throw invalid("ERR_INVALID_ARGUMENT", `${entry.origin}: ${name} cannot be set by configuration`);
}

/** A boolean as configuration writes it: true/false (any case), 1/0. */
function boolean(entry: ConfigEntry, name: string): boolean {
  const { value, text } = entry;
  const ok = text === undefined ? typeof value === "boolean" || value === 0 || value === 1 : /^(true|false|1|0)$/iu.test(text.trim());
  if (!ok) throw invalid("ERR_INVALID_ARGUMENT", `${entry.origin}: ${name} must be true or false (or 1, 0)`);
  return value === true || value === 1;
}

/** A bit rate: a positive integer in bit/s. */
function bitRate(entry: ConfigEntry, name: string): void {
  const { value } = entry;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw invalid("ERR_INVALID_ARGUMENT", `${entry.origin}: ${name} must be a positive integer in bit/s, e.g. 500000`);
  }
}

/** Filters given as python-can's `can_filters` or canwire's `filters`, checked as `Bus.open` checks them. */
function filters(entry: ConfigEntry): CanFilter[] {
  if (!Array.isArray(entry.value)) {
    throw invalid(
      "ERR_INVALID_ARGUMENT",
      `${entry.origin}: filters must be a JSON array of {"can_id", "can_mask", "extended"?} (set it in CAN_CONFIG)`,
    );
  }
  const list = entry.value.map((f: unknown) => {
    if (typeof f !== "object" || f === null || !("can_id" in f || "can_mask" in f)) return f;
    const { can_id: id, can_mask: mask, ...rest } = f as Record<string, unknown>;
    return { ...rest, id, mask };
  });
  try {
    const checked = normalizeFilters(list as CanFilter[]);
    checked.forEach((f, i) => {
      for (const key of ["id", "mask"] as const) {
        const value = f[key];
        if (!Number.isInteger(value) || value < 0 || value > 0x1fffffff) {
          throw invalid("ERR_INVALID_ARGUMENT", `filters[${i}].${key} must be an integer in 0..0x1FFFFFFF, got ${value}`);
        }
      }
    });
    return checked;
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw invalid("ERR_INVALID_ARGUMENT", `${entry.origin}: ${error.message}`);
    throw error;
  }
}

function notApplied(entry: ConfigEntry, key: string): void {
  const hint = BIT_RATES.has(key) ? "only Bus.open applies a bit rate, to a SocketCAN controller" : "Bus.open has no such option";
  const message = `${entry.origin} is not applied: ${hint}`;
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, { code: "CANWIRE_CONFIG_NOT_APPLIED" });
}

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/gu, (_, c: string) => c.toUpperCase());
}
