/**
 * INI files read as Python's `configparser.ConfigParser` reads them with
 * python-can's settings (option names keep their case), so a `can.conf`
 * means the same to canwire as to python-can:
 *
 * - `[section]` headers; `name = value` or `name: value` (split at the
 *   first `=` or `:`), name and value stripped; a `[DEFAULT]` section's
 *   options appear in every section.
 * - Whole-line comments starting with `#` or `;` (no inline comments:
 *   `bitrate = 500000 # kbit` is the text `500000 # kbit`).
 * - A line indented deeper than its option continues the value (joined with
 *   newlines; blank lines inside are kept, trailing ones dropped).
 * - `%(name)s` is replaced by another option of the section (or
 *   `[DEFAULT]`), `%%` is a `%`; any other `%` is an error.
 * - Several files read in order: a later file's option replaces an earlier
 *   one's. Within one file a repeated section or option is an error.
 * - A file that cannot be opened is skipped; a malformed one is an error.
 *
 * Errors are {@link InvalidArgumentError}s (`ERR_INVALID_ARGUMENT`) naming the
 * file and line.
 *
 * @module
 * @internal
 */
import { readFileSync } from "node:fs";
import { invalid } from "./errors.js";

/** One option's raw value and where it was set. */
export interface IniValue {
  /** The value before interpolation, continuation lines joined. */
  raw: string;
  /** The file (as the caller named it) that set it. */
  file: string;
  /** Its section: a section name or `DEFAULT`. */
  section: string;
}

/** The sections of one or more INI files, read in order. */
export class IniFiles {
  readonly #defaults = new Map<string, IniValue>();
  readonly #sections = new Map<string, Map<string, IniValue>>();

  /**
   * Reads `files` in order, skipping those that cannot be opened. Each file
   * is `[path, name]`: where to read it and what messages call it (`~/can.conf`).
   */
  static read(files: readonly (readonly [path: string, name: string])[]): IniFiles {
    const ini = new IniFiles();
    for (const [path, name] of files) {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch {
        continue; // as configparser's read(): a missing or unreadable file is no configuration
      }
      ini.parse(text, name);
    }
    return ini;
  }

  /**
   * The options of `section` with `[DEFAULT]`'s under them, interpolated: name
   * → value and where it was set. `undefined` when there is no such section.
   */
  items(section: string): Map<string, IniValue & { value: string }> | undefined {
    const own = this.#sections.get(section);
    if (own === undefined) return undefined;
    const merged = new Map([...this.#defaults, ...own]);
    const result = new Map<string, IniValue & { value: string }>();
    for (const [name, entry] of merged) {
      result.set(name, { ...entry, value: interpolate(entry, name, merged) });
    }
    return result;
  }

  /** Adds one file's text; `name` is what messages call the file. */
  parse(text: string, name: string): void {
    // Python's text mode turns \r\n and lone \r into line ends
    const lines = text.split(/\r\n|\r|\n/);
    if (lines[lines.length - 1] === "") lines.pop();
    const added = new Set<string>();
    const errors: string[] = [];
    let current: Map<string, IniValue> | undefined;
    let sectionName: string | undefined;
    let option: string | undefined;
    let parts: string[] | undefined;
    let indent = 0;
    const finish = () => {
      if (current !== undefined && option !== undefined && parts !== undefined) {
        const entry = current.get(option);
        if (entry !== undefined) entry.raw = parts.join("\n").replace(/\s+$/u, "");
      }
    };
    lines.forEach((line, index) => {
      const lineNo = index + 1;
      const isComment = /^\s*[#;]/u.test(line);
      const value = isComment ? "" : line.trim();
      if (value === "") {
        if (!isComment && option !== undefined && parts !== undefined) parts.push("");
        return;
      }
      const lineIndent = line.search(/\S/u);
      if (current !== undefined && option !== undefined && lineIndent > indent) {
        parts?.push(value);
        return;
      }
      indent = lineIndent;
      const header = /^\[([\s\S]+)\]/u.exec(value);
      if (header) {
        finish();
        sectionName = header[1] as string;
        // as configparser: [DEFAULT] may reopen within a file, other sections may not
        if (sectionName !== "DEFAULT") {
          if (added.has(sectionName)) {
            throw invalid("ERR_INVALID_ARGUMENT", `${name} line ${lineNo}: section [${sectionName}] appears twice`);
          }
          added.add(sectionName);
        }
        current = sectionName === "DEFAULT" ? this.#defaults : this.#section(sectionName);
        option = undefined;
        parts = undefined;
        return;
      }
      if (current === undefined || sectionName === undefined) {
        throw invalid("ERR_INVALID_ARGUMENT", `${name} line ${lineNo}: ${JSON.stringify(line)} comes before any [section] header`);
      }
      const assignment = /^([\s\S]*?)\s*[=:]\s*([\s\S]*)$/u.exec(value);
      if (!assignment || (assignment[1] as string).trimEnd() === "") {
        errors.push(`line ${lineNo}: ${JSON.stringify(line)}`);
        return;
      }
      finish();
      option = (assignment[1] as string).trimEnd();
      const key = `${sectionName}\u0000${option}`;
      if (added.has(key)) {
        throw invalid("ERR_INVALID_ARGUMENT", `${name} line ${lineNo}: option '${option}' appears twice in [${sectionName}]`);
      }
      added.add(key);
      parts = [(assignment[2] as string).trim()];
      current.set(option, { raw: "", file: name, section: sectionName });
    });
    finish();
    if (errors.length > 0) {
      throw invalid("ERR_INVALID_ARGUMENT", `${name}: lines that are not 'name = value': ${errors.join("; ")}`);
    }
  }

  #section(name: string): Map<string, IniValue> {
    let section = this.#sections.get(name);
    if (section === undefined) {
      section = new Map();
      this.#sections.set(name, section);
    }
    return section;
  }
}

/** How deep `%(name)s` references may nest, as configparser's MAX_INTERPOLATION_DEPTH. */
const MAX_DEPTH = 10;

/** configparser's BasicInterpolation of `entry` (option `name`) against the section's `options`. */
function interpolate(entry: IniValue, name: string, options: Map<string, IniValue>): string {
  const where = `${entry.file} [${entry.section}] ${name}`;
  const out: string[] = [];
  const expand = (text: string, depth: number): void => {
    if (depth > MAX_DEPTH) {
      throw invalid("ERR_INVALID_ARGUMENT", `${where}: %(...)s references nest deeper than ${MAX_DEPTH} (a loop?)`);
    }
    let rest = text;
    while (rest !== "") {
      const at = rest.indexOf("%");
      if (at < 0) {
        out.push(rest);
        return;
      }
      out.push(rest.slice(0, at));
      rest = rest.slice(at);
      if (rest[1] === "%") {
        out.push("%");
        rest = rest.slice(2);
      } else if (rest[1] === "(") {
        const reference = /^%\(([^)]+)\)s/u.exec(rest);
        if (!reference) {
          throw invalid("ERR_INVALID_ARGUMENT", `${where}: bad reference ${JSON.stringify(rest)}: write %(name)s`);
        }
        const target = options.get(reference[1] as string);
        if (target === undefined) {
          throw invalid("ERR_INVALID_ARGUMENT", `${where}: %(${reference[1]})s names no option of the section or [DEFAULT]`);
        }
        rest = rest.slice(reference[0].length);
        if (target.raw.includes("%")) expand(target.raw, depth + 1);
        else out.push(target.raw);
      } else {
        throw invalid(
          "ERR_INVALID_ARGUMENT",
          `${where}: '%' must be followed by '%' or '(' (write %% for a percent sign), found ${JSON.stringify(rest)}`,
        );
      }
    }
  };
  expand(entry.raw, 1);
  return out.join("");
}
