/**
 * The shadow suite's repeated reads, in a process of its own: both files are dropped
 * from the page cache, read once (which brings them back the same way, where a file just written
 * would sit in the cache as the write left it), then read in turns so that the machine's swings
 * fall on both alike.
 *
 * A process of its own: within one process the ratio between the two holds steady, from one process
 * to the next it moves by ±15% (measured: 0.75-0.99 over seventeen runs of one process each),
 * whatever in a process's own memory makes the difference. The suite runs several and pools them.
 *
 * Input (argv[2], JSON): { files: string[], reads: number }. Output (stdout, JSON): per file, the
 * MB/s of each read.
 */
import { MB, dropCaches, readAll } from './read-files.js';

const cfg = JSON.parse(process.argv[2]!) as { files: string[]; reads: number };
dropCaches();
for (const f of cfg.files) readAll(f);
const rates = cfg.files.map(() => [] as number[]);
for (let i = 0; i < cfg.reads; i++) {
  cfg.files.forEach((f, k) => {
    const t0 = process.hrtime.bigint();
    const bytes = readAll(f);
    rates[k]!.push(bytes / MB / (Number(process.hrtime.bigint() - t0) / 1e9));
  });
}
process.stdout.write(JSON.stringify(rates));
