import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const errorsSource = readFileSync(new URL("../src/errors.ts", import.meta.url), "utf8");

/** The `ERR_*` codes quoted in a text, sorted and without duplicates. */
function codesIn(text: string): string[] {
  return [...new Set(text.match(/\bERR_[A-Z0-9_]+\b/g) ?? [])].sort();
}

describe("README", () => {
  it("lists every non-ISO-TP error code of src/errors.ts in its Errors entry, and no other", () => {
    const entry = /^- \*\*Errors\*\*[\s\S]*?(?=^- \*\*|^#)/m.exec(readme)?.[0] ?? "";
    const source = codesIn(errorsSource).filter((code) => !code.startsWith("ERR_ISOTP_"));
    expect(codesIn(entry)).toEqual(source);
    expect(codesIn(entry)).toContain("ERR_CORRUPT_FILE");
    expect(codesIn(entry)).toContain("ERR_TRUNCATED_FILE");
  });

  it("gives the Node versions package.json's engines field allows", () => {
    const engines = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).engines.node;
    expect(engines).toBe("^20.19.0 || >=22.12.0");
    expect(readme).toContain("Needs Node.js 20.19+ or 22.12+");
  });
});
