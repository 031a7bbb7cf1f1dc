import { describe, expect, it } from "vitest";
import { Bus, CanError } from "../src/index.js";

/** The CanError `run` throws or rejects with. */
async function failure(run: () => unknown): Promise<CanError> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CanError);
  return error as CanError;
}

/** Asserts `run` fails with exactly `code` and `message`. */
async function expectFailure(run: () => unknown, code: string, message?: string | RegExp) {
  const error = await failure(run);
  expect(error.code).toBe(code);
  if (typeof message === "string") expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
}

describe("Bus.open: wrong types are ERR_INVALID_ARGUMENT naming the option", () => {
  const open = (options: unknown) => () => Bus.open(options as never);

  it("options themselves", async () => {
    await expectFailure(open(null), "ERR_INVALID_ARGUMENT", "options must be an object, got null");
    await expectFailure(open(5), "ERR_INVALID_ARGUMENT", "options must be an object, got number");
    await expectFailure(open([]), "ERR_INVALID_ARGUMENT", "options must be an object, got array");
  });

  it("each option's type", async () => {
    await expectFailure(open({ fd: "yes" }), "ERR_INVALID_ARGUMENT", "options.fd must be a boolean, got string");
    await expectFailure(open({ channel: 5 }), "ERR_INVALID_ARGUMENT", "options.channel must be a string, got number");
    await expectFailure(open({ interface: null }), "ERR_INVALID_ARGUMENT", "options.interface must be a string, got null");
    await expectFailure(open({ receiveOwnMessages: 1 }), "ERR_INVALID_ARGUMENT", "options.receiveOwnMessages must be a boolean, got number");
    await expectFailure(open({ errorMask: "1" }), "ERR_INVALID_ARGUMENT", "options.errorMask must be a number, got string");
    await expectFailure(open({ filters: {} }), "ERR_INVALID_ARGUMENT", "options.filters must be an array, got object");
    await expectFailure(open({ rxQueueSize: 10n }), "ERR_INVALID_ARGUMENT", "options.rxQueueSize must be a number, got bigint");
  });
});
