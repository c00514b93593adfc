// The `extension` benchmark's half that runs inside the real extension host (see bench/extension.ts):
// measures, writes raw numbers to $LIGHTHOUSE_BENCH_OUT, and exits 0 unless something broke.
import fs from 'node:fs';
import { measureExtension } from './bench.js';

export async function run(): Promise<void> {
  const out = process.env.LIGHTHOUSE_BENCH_OUT;
  if (!out) throw new Error('LIGHTHOUSE_BENCH_OUT is not set');
  const numbers = await measureExtension();
  fs.writeFileSync(out, JSON.stringify(numbers, null, 2));
}
