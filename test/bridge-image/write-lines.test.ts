import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeLines } from '../../bridge-image/src/write-lines.js';

/** A stream that takes a write every `ms`, with a 16-byte buffer. */
function slowSink(ms: number, written: string[]) {
  return new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk.toString());
      setTimeout(cb, ms);
    },
  });
}

/** Lines of 20 bytes (each fills the buffer), noting how far ahead of the writes they are produced. */
function* lines(n: number, log: { produced: number; ended: boolean }) {
  try {
    for (let i = 0; i < n; i++) {
      log.produced++;
      yield `${String(i).padStart(19, '0')}\n`;
    }
  } finally {
    log.ended = true;
  }
}

describe('writeLines', () => {
  it('produces a line only once the stream has taken the one before', async () => {
    const written: string[] = [];
    const log = { produced: 0, ended: false };
    const sink = slowSink(2, written);
    let ahead = 0;
    const check = setInterval(() => (ahead = Math.max(ahead, log.produced - written.length)), 1);
    expect(await writeLines(lines(30, log), sink)).toBe(true);
    clearInterval(check);
    expect(written).toHaveLength(30);
    expect(ahead).toBeLessThanOrEqual(1);
  });

  it('stops, returning the lines (whose finally runs), when the stream closes midway', async () => {
    const written: string[] = [];
    const log = { produced: 0, ended: false };
    const sink = slowSink(5, written);
    setTimeout(() => sink.destroy(), 30);
    expect(await writeLines(lines(1000, log), sink)).toBe(false);
    expect(log.ended).toBe(true);
    expect(log.produced).toBeLessThan(100);
  });

  it('gives up on a stream that takes nothing for the stall time', async () => {
    const log = { produced: 0, ended: false };
    const stuck = new Writable({ highWaterMark: 16, write: () => undefined });
    expect(await writeLines(lines(10, log), stuck, 50)).toBe(false);
    expect(log).toEqual({ produced: 1, ended: true });
  });

  it('rejects with the stream error', async () => {
    const failing = new Writable({ write: (_c, _e, cb) => cb(new Error('disk full')) });
    await expect(writeLines(lines(5, { produced: 0, ended: false }), failing)).rejects.toThrow('disk full');
  });
});
