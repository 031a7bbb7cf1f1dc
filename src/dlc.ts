/**
 * DLC codes and data lengths (the same tables as the Rust core).
 *
 * @module
 */

/** Data length in bytes for each FD DLC code 0..15. */
export const FD_LENGTHS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/** The DLC code of an exact FD data length, or `undefined` if none encodes it. */
export function fdLengthToDlc(length: number): number | undefined {
  const code = FD_LENGTHS.indexOf(length);
  return code < 0 ? undefined : code;
}

/** The FD data length of a DLC code 0..15. */
export function fdDlcToLength(code: number): number | undefined {
  return FD_LENGTHS[code];
}
