/**
 * The facade's type and shape checks for options and arguments. They check
 * only what the native binding cannot see (the JS type of a value); the
 * value rules (ranges, ids, lengths) live once in Rust, whose error is the
 * one the user sees. A wrong type is an `ERR_INVALID_ARGUMENT` naming the
 * option and the type expected:
 *
 * ```ts
 * await Bus.open({ fd: "yes" }); // options.fd must be a boolean, got string
 * ```
 *
 * @module
 * @internal
 */
import { InvalidArgumentError } from "./errors.js";

/** A JS type an option may have, as the messages name it. */
export type Kind = "boolean" | "number" | "string" | "bigint" | "function" | "object" | "array" | "Uint8Array";

/** The kinds an option accepts: one, or a list of alternatives. */
export type Kinds = Kind | readonly Kind[];

/** Option name → the kinds its value may have (`undefined` always means "not given"). */
export type Shape = Readonly<Record<string, Kinds>>;

const ARTICLE: Record<Kind, string> = {
  boolean: "a boolean",
  number: "a number",
  string: "a string",
  bigint: "a bigint",
  function: "a function",
  object: "an object",
  array: "an array",
  Uint8Array: "a Uint8Array",
};

/** How a message names the type of `value`: `null`, `array`, `Uint8Array`, or its `typeof`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Uint8Array) return "Uint8Array";
  return typeof value;
}

function is(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "Uint8Array":
      return value instanceof Uint8Array;
    default:
      return typeof value === kind;
  }
}

/** The error for `name` holding a value of the wrong type. */
export function wrongType(name: string, kinds: Kinds, value: unknown): InvalidArgumentError {
  const list = (typeof kinds === "string" ? [kinds] : kinds).map((k) => ARTICLE[k]);
  const expected = list.length > 1 ? `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}` : list[0];
  return new InvalidArgumentError("ERR_INVALID_ARGUMENT", `${name} must be ${expected}, got ${describe(value)}`);
}

/** Throws unless `value` has one of `kinds`. */
export function checkType(value: unknown, name: string, kinds: Kinds): void {
  if (!hasKind(value, kinds)) throw wrongType(name, kinds, value);
}

/** True when `value` has one of `kinds` (no allocation on the one-kind path: messages are checked per frame). */
function hasKind(value: unknown, kinds: Kinds): boolean {
  return typeof kinds === "string" ? is(value, kinds) : kinds.some((k) => is(value, k));
}

/** Throws unless `value` is absent (`undefined`) or has one of `kinds`. */
export function checkOptional(value: unknown, name: string, kinds: Kinds): void {
  if (value !== undefined) checkType(value, name, kinds);
}

/** `value` as an object (not null, not an array), or an error naming `name`. */
export function checkObject(value: unknown, name: string): Record<string, unknown> {
  checkType(value, name, "object");
  return value as Record<string, unknown>;
}

/**
 * Checks the given keys of `object` against `shape` and returns it typed.
 * Keys the shape does not list are left alone; `name` prefixes the key in
 * messages (`options.fd`).
 */
export function checkShape<T>(object: Record<string, unknown>, name: string, shape: Shape): T {
  const entries = entriesOf(shape);
  for (let i = 0; i < entries.length; i++) {
    const [key, kinds] = entries[i] as ShapeEntry;
    const value = object[key];
    if (value !== undefined && !hasKind(value, kinds)) throw wrongType(`${name}.${key}`, kinds, value);
  }
  return object as T;
}

type ShapeEntry = readonly [string, Kinds];

/** Each shape's entries, listed once (messages are checked per frame). */
const shapeEntries = new WeakMap<Shape, readonly ShapeEntry[]>();

function entriesOf(shape: Shape): readonly ShapeEntry[] {
  let entries = shapeEntries.get(shape);
  if (entries === undefined) {
    entries = Object.entries(shape).filter((entry): entry is [string, Kinds] => entry[1] !== undefined);
    shapeEntries.set(shape, entries);
  }
  return entries;
}

/**
 * An options argument: `undefined` is `{}`; anything else must be an object
 * whose keys match `shape`.
 */
export function checkOptions<T>(value: unknown, name: string, shape: Shape): T {
  if (value === undefined) return {} as T;
  return checkShape<T>(checkObject(value, name), name, shape);
}
