/**
 * Loads the native addon (the platform package built by napi-rs, or a local build).
 *
 * @module
 * @internal
 */
import { createRequire } from "node:module";
import type * as Binding from "../native/index.cjs";

const require = createRequire(import.meta.url);

/** The native addon. */
export const binding: typeof Binding = require("../native/index.cjs");

export type {
  NativeBus,
  NativeCyclicTask,
  NativeExporter,
  NativeIsoTp,
  NativeLogReader,
  NativeLogWriter,
  NativePendingSend,
  NativePlayback,
  NativeReader,
  NativeSocketcandServer,
  NativeStateWatch,
  NativeWaker,
  NativeWatch,
} from "../native/index.cjs";
