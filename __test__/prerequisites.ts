/**
 * Specs that need something outside the repository (log fixtures written by
 * other tools, SocketCAN in the qemu guest, `tc`): on a user's machine a
 * missing prerequisite skips those specs with a warning saying how to get it;
 * under `CI=true` it fails the run, so CI never passes with fewer tests.
 */
import { it } from "vitest";

/** True where a missing prerequisite fails the run: `CI` set to anything but "", "0" or "false". */
export function strictPrerequisites(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== "" && ci !== "0" && ci !== "false";
}

/** What happens to the specs that need a missing prerequisite, and the line that says so. */
export interface MissingPrerequisite {
  outcome: "skip" | "fail";
  message: string;
}

/** The outcome and message for `what` being missing; `howToGet` says how to provide it. */
export function missingPrerequisite(what: string, howToGet: string, strict: boolean): MissingPrerequisite {
  return strict
    ? { outcome: "fail", message: `${what} missing, and CI=true requires it: ${howToGet}` }
    : { outcome: "skip", message: `${what} missing: the specs that need it are skipped (${howToGet})` };
}

/**
 * Whether the specs that need `what` must be skipped. Call it at the top of a
 * spec file. Where `available`: false. Otherwise true, and on a user's machine
 * it warns; under `CI=true` it also adds a failing spec to the calling file
 * that names what is missing.
 */
export function skipWithout(what: string, available: boolean, howToGet: string, strict = strictPrerequisites()): boolean {
  if (available) return false;
  const missing = missingPrerequisite(what, howToGet, strict);
  if (missing.outcome === "fail") {
    it(`has its prerequisite: ${what}`, () => {
      throw new Error(missing.message);
    });
  } else {
    console.warn(missing.message);
  }
  return true;
}
