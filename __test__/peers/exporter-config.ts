/** Temporary folders for peers, and exporter configs written there for `jmp run` and `jmp shell --exporter-config`. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { removeAtExit } from "./peer-process.js";

/** A Jumpstarter `ExporterConfig`: YAML text, or the object it parses to. */
export type ExporterConfig = string | Record<string, unknown>;

/** A temporary folder holding `exporter.yaml`. */
export interface ExporterConfigFile {
  /** The folder (also a scratch place for certificates or scripts). */
  dir: string;
  /** The path of `exporter.yaml`. */
  path: string;
  /**
   * The environment that makes jmp create its private Unix socket folder
   * (`jumpstarter-XXXX/`) inside `dir`, so it goes with the folder even when
   * jmp is killed: `TMPDIR` and `XDG_RUNTIME_DIR` (mkdtemp made `dir` 0700).
   */
  tempEnv: Record<string, string>;
  /** Removes the folder; idempotent. */
  remove(): void;
}

/** A new temporary folder for a peer's files, and how to remove it (idempotent; done anyway when the test worker exits). */
export function scratchFolder(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "canwire-jmp-"));
  const atExit = removeAtExit(dir);
  return {
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      atExit.keep();
    },
  };
}

/** Writes `config` as `exporter.yaml` into a new temporary folder. */
export function writeExporterConfig(config: ExporterConfig): ExporterConfigFile {
  const folder = scratchFolder();
  const path = join(folder.dir, "exporter.yaml");
  writeFileSync(path, typeof config === "string" ? config : stringify(config));
  return { ...folder, path, tempEnv: { TMPDIR: folder.dir, XDG_RUNTIME_DIR: folder.dir } };
}
