/**
 * python-can's configuration, read as python-can 4.6's `can.util.load_config`
 * reads it, so a machine set up for python-can opens the same bus in canwire.
 *
 * Sources, the first that sets a key winning:
 *
 * 1. the options given to `Bus.open` (or on the command line);
 * 2. the environment for a context: `CAN_INTERFACE_<ctx>`, `CAN_CHANNEL_<ctx>`,
 *    `CAN_BITRATE_<ctx>`, then the keys of the JSON object `CAN_CONFIG_<ctx>`;
 * 3. the same without a context: `CAN_INTERFACE`, `CAN_CHANNEL`, `CAN_BITRATE`,
 *    `CAN_CONFIG`;
 * 4. the section named by the context in the configuration files;
 * 5. their `[default]` section.
 *
 * The files are, on Linux and macOS, `~/can.conf`, `/etc/can.conf`,
 * `~/.can`, `~/.canrc`, read in that order into one configuration (a later
 * file's option replaces an earlier one's: `/etc/can.conf` overrides
 * `~/can.conf`, as in python-can); on Windows `~/can.conf`, `can.ini` and
 * `%APPDATA%\can.ini`. Text values are cast as python-can casts them
 * (`500000` → 500000, `1.5` → 1.5, `true`/`False` → booleans); an empty
 * environment variable counts as unset; a legacy `bustype` key is read as
 * `interface`.
 *
 * {@link loadCanConfig} returns the merged keys with where each came from;
 * {@link applyCanConfig} turns them into `Bus.open` options (see there).
 *
 * @module
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { invalid } from "./errors.js";
import { IniFiles } from "./ini-file.js";

/** One configuration key's value and where it was found. */
export interface ConfigEntry {
  /** The value, cast from text as python-can casts it, or as JSON gave it. */
  value: unknown;
  /** The text it was cast from (files and environment variables); absent for `CAN_CONFIG` JSON values. */
  text?: string;
  /**
   * Where it came from, for messages: `CAN_BITRATE="abc" (environment)`,
   * `CAN_CONFIG key "fd" = true (environment)`, `~/can.conf [default] bitrate = "abc"`.
   */
  origin: string;
}

/** Where {@link loadCanConfig} looks; every field defaults to what python-can uses. */
export interface CanConfigSources {
  /** python-can's `config_context`: a file section and an environment variable suffix read before the defaults. */
  context?: string;
  /** The environment. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * The configuration files, read in order, `~/` meaning the home directory
   * (`HOME` of `env`). Default: python-can's list for this platform.
   */
  files?: readonly string[];
}

/** python-can's `CONFIG_FILES` for this platform. */
export function defaultConfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  if (process.platform === "linux" || process.platform === "darwin") return ["~/can.conf", "/etc/can.conf", "~/.can", "~/.canrc"];
  if (process.platform === "win32") return ["~/can.conf", "can.ini", join(env.APPDATA ?? "", "can.ini")];
  return ["~/can.conf"];
}

/** The environment variables python-can reads besides `CAN_CONFIG`, by key. */
const ENVIRONMENT_KEYS = [
  ["interface", "CAN_INTERFACE"],
  ["channel", "CAN_CHANNEL"],
  ["bitrate", "CAN_BITRATE"],
] as const;

/**
 * The configuration as python-can's `load_config()` finds it (without given
 * options): key → value and origin, in precedence order. python-can's
 * last step is kept too: `fd` becomes a boolean (anything but 0 and false is
 * true) and `port` an integer in 1..65534.
 *
 * @throws {@link InvalidArgumentError} `ERR_INVALID_ARGUMENT` for `CAN_CONFIG`
 *   that is not a JSON object, a malformed file, or a bad `port`, naming the source.
 */
export function loadCanConfig(sources: CanConfigSources = {}): Map<string, ConfigEntry> {
  const env = sources.env ?? process.env;
  const context = sources.context;
  const config = new Map<string, ConfigEntry>();
  const merge = (entries: Map<string, ConfigEntry>) => {
    const bustype = entries.get("bustype");
    if (bustype !== undefined) {
      const iface = entries.get("interface");
      if (iface === undefined || !truthy(iface.value)) entries.set("interface", bustype);
      entries.delete("bustype");
    }
    for (const [key, entry] of entries) if (!config.has(key)) config.set(key, entry);
  };
  if (context) merge(environmentConfig(env, `_${context}`));
  merge(environmentConfig(env, ""));
  const ini = IniFiles.read((sources.files ?? defaultConfigFiles(env)).map((file) => [expandHome(file, env), file] as const));
  if (context) merge(fileConfig(ini, context));
  merge(fileConfig(ini, "default"));
  finishConfig(config);
  return config;
}

/** `~` or `~/x` under the home directory (`env.HOME`, as Python's `expanduser`). */
function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path !== "~" && !path.startsWith("~/")) return path;
  const home = process.platform === "win32" ? homedir() : env.HOME || homedir();
  return join(home, path.slice(1));
}

/** python-can's `load_environment_config(context)`: `CAN_CONFIG<suffix>` first, the three variables over it. */
function environmentConfig(env: NodeJS.ProcessEnv, suffix: string): Map<string, ConfigEntry> {
  const entries = new Map<string, ConfigEntry>();
  const configName = `CAN_CONFIG${suffix}`;
  const json = env[configName];
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw invalid("ERR_INVALID_ARGUMENT", `${configName}=${JSON.stringify(json)} (environment) is not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw invalid("ERR_INVALID_ARGUMENT", `${configName}=${JSON.stringify(json)} (environment) must be a JSON object of options`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      const origin = `${configName} key ${JSON.stringify(key)} = ${JSON.stringify(value)} (environment)`;
      entries.set(key, typeof value === "string" ? { value: castFromString(value), text: value, origin } : { value, origin });
    }
  }
  for (const [key, variable] of ENVIRONMENT_KEYS) {
    const text = env[variable + suffix];
    if (text) entries.set(key, { value: castFromString(text), text, origin: `${variable}${suffix}=${JSON.stringify(text)} (environment)` });
  }
  return entries;
}

/** python-can's `load_file_config(section)`: the section's options (with `[DEFAULT]`'s), or nothing. */
function fileConfig(ini: IniFiles, section: string): Map<string, ConfigEntry> {
  const entries = new Map<string, ConfigEntry>();
  for (const [key, item] of ini.items(section) ?? []) {
    const origin = `${item.file} [${item.section}] ${key} = ${JSON.stringify(item.value)}`;
    entries.set(key, { value: castFromString(item.value), text: item.value, origin });
  }
  return entries;
}

/** python-can's `_create_bus_config` steps that shape values: `fd` to a boolean, `port` to an integer. */
function finishConfig(config: Map<string, ConfigEntry>): void {
  const fd = config.get("fd");
  if (fd !== undefined) fd.value = fd.value !== 0 && fd.value !== false;
  const port = config.get("port");
  if (port !== undefined) {
    let value = port.value;
    if (typeof value === "string") {
      if (!/^[0-9]+$/u.test(value)) throw invalid("ERR_INVALID_ARGUMENT", `${port.origin}: port must be a number`);
      value = Number(value);
    }
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw invalid("ERR_INVALID_ARGUMENT", `${port.origin}: port must be an integer`);
    }
    if (!(value > 0 && value < 65535)) throw invalid("ERR_INVALID_ARGUMENT", `${port.origin}: port must be in 1..65534`);
    port.value = value;
  }
}

/** Python's truth of a value (for `bustype` standing in for an empty `interface`). */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object" && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

/**
 * python-can's `cast_from_string`: an integer (`-12`, `+5`, `007`), a float
 * (`1.5`, `.5`, `-2.0e-3`: a point is required, the exponent's `e` lower
 * case), `true`/`false` in any case, else the text itself.
 */
export function castFromString(text: string): string | number | boolean {
  // Python's `$` also matches before a final newline
  if (/^[-+]?[0-9]+\n?$/u.test(text)) return Number.parseInt(text, 10);
  if (/^[-+]?[0-9]*\.[0-9]+(?:e[-+]?[0-9]+)?\n?$/u.test(text)) return Number.parseFloat(text);
  if (/^(?:true|false)\n?$/iu.test(text)) return text.toLowerCase() === "true"; // "True\n" is false there too
  return text;
}
