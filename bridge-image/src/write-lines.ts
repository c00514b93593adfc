import type { Writable } from 'node:stream';

/** How long a reader may take no data before an export to it is given up. */
export const STALL_MS = 120_000;

/**
 * Writes lines (or pieces of lines) to a stream only as fast as it takes them: after a write that
 * fills the stream's buffer, the next one is not even produced until 'drain', so memory holds at
 * most one past the stream's high-water mark. Resolves true once all are written (the caller ends
 * the stream), false when the stream closed first (a client that went away) or took nothing for
 * `stallMs` (one that stopped reading); the lines' generator is then returned, which releases
 * whatever it holds. Rejects when the stream fails or a line cannot be produced.
 */
export async function writeLines(
  lines: Iterable<string>,
  out: Writable | NodeJS.WritableStream,
  stallMs = STALL_MS,
): Promise<boolean> {
  const w = out as Writable;
  let gone = w.destroyed || w.writableEnded;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const onClose = () => {
    gone = true;
    wake?.();
  };
  const onError = (e: Error) => {
    failure = e;
    onClose();
  };
  w.on('close', onClose);
  w.on('error', onError);
  try {
    for (const line of lines) {
      if (gone) break;
      if (w.write(line)) continue;
      const drained = await new Promise<boolean>((resolve) => {
        const settle = (ok: boolean) => {
          clearTimeout(timer);
          w.off('drain', onDrain);
          wake = undefined;
          resolve(ok);
        };
        const onDrain = () => settle(true);
        // (setTimeout would take Infinity for 1 ms.)
        const timer = Number.isFinite(stallMs) ? setTimeout(() => settle(false), stallMs) : undefined;
        // A close wakes it too; the loop then sees `gone`.
        wake = onDrain;
        w.once('drain', onDrain);
      });
      if (!drained) return false;
    }
    if (failure) throw failure;
    return !gone;
  } finally {
    w.off('close', onClose);
    w.off('error', onError);
  }
}
