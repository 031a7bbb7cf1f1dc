/**
 * Writing to stdout with backpressure, ending quietly when the reader goes away (EPIPE).
 *
 * @module
 * @internal
 */

let closed = false;
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") closed = true;
  else throw error;
});

/** Writes text; resolves false once stdout is closed (e.g. piped into `head`). */
export async function writeOut(text: string): Promise<boolean> {
  if (closed) return false;
  if (!process.stdout.write(text)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        process.stdout.off("drain", done);
        process.stdout.off("error", done);
        resolve();
      };
      process.stdout.on("drain", done);
      process.stdout.on("error", done);
    });
  }
  return !closed;
}
