/**
 * can-utils' compact frame syntax (`123#DEADBEEF`) and `candump -L` lines,
 * parsed and formatted by the Rust core.
 *
 * @module
 */
import { binding } from "./binding.js";
import { invalid, native } from "./errors.js";
import type { Message, MessageInit } from "./message.js";
import { checkOptional, checkType, describe } from "./options.js";
import { encodeMessages, FrameBatch, toMessage } from "./record.js";

/**
 * Parses a frame in can-utils syntax: `123#DEADBEEF`, `1F334455#11`,
 * `123#R`, `123#R3`, `123##1DEADBEEF` (FD; flags digit BRS = 1, ESI = 2).
 *
 * @throws {@link InvalidArgumentError} with `ERR_INVALID_FRAME_SYNTAX` or the rule it breaks.
 */
export function parseFrame(text: string): Message {
  checkType(text, "text", "string");
  const record = native(() => binding.parseFrame(text));
  return new FrameBatch(record, () => undefined).message(0);
}

/** Formats a message (or what one is built from) in can-utils syntax, exactly as candump prints it. */
export function formatFrame(message: Message | MessageInit): string {
  const record = encodeMessages([toMessage(message)]);
  return native(() => binding.formatFrames(record))[0] as string;
}

/**
 * Formats a batch as `candump -L` lines, each ending in a newline. Channel
 * names come from the batch (the bus it was received on) unless `channel` overrides them.
 */
export function formatLogLines(batch: FrameBatch, channel?: string): string {
  if (!(batch instanceof FrameBatch)) throw invalid("ERR_INVALID_ARGUMENT", `batch must be a FrameBatch, got ${describe(batch)}`);
  checkOptional(channel, "channel", "string");
  const names: string[] = [];
  for (let i = 0; i < batch.length; i++) {
    const index = batch.channelIndex(i);
    names[index] ??= channel ?? batch.channelName(i) ?? "?";
  }
  return native(() =>
    binding.formatLogLines(
      batch.buffer,
      Array.from(names, (n) => n ?? "?"),
    ),
  );
}
