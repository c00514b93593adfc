/**
 * In-process latency of the validation fast path (issue 4: p99 at most 200 µs), measured
 * over the validation corpus so the mix of commands is the tested one. Not registered in
 * bench/run.ts by itself: the `validate` suite adds these results to its HTTP and
 * message-delivery figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DecisionCache, parsePolicyText, validate } from '../bridge-image/src/validation/index.js';
import { atMost, info, type BenchResult } from './lib/report.js';

const CORPUS_DIR = path.resolve('test/bridge-image/validation');
const ROUNDS = Number(process.env.BENCH_VALIDATE_ROUNDS ?? 50);

interface Case {
  tool: string;
  input: unknown;
  cwd?: string;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** Microseconds per call for every case, ROUNDS times, after a warm-up of the same size. */
function measure(cases: Case[], run: (c: Case) => void): number[] {
  for (let r = 0; r < ROUNDS; r++) for (const c of cases) run(c);
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      const t = process.hrtime.bigint();
      run(c);
      out.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }
  return out.sort((a, b) => a - b);
}

export async function validateFastPathResults(): Promise<BenchResult[]> {
  const cases = fs
    .readFileSync(path.join(CORPUS_DIR, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Case);
  const policy = parsePolicyText(fs.readFileSync(path.join(CORPUS_DIR, 'corpus-policy.json'), 'utf8'), null);
  const base = { workspace: '/work/project', home: '/home/dev', policy };
  const uncached = measure(cases, (c) => validate({ ...c, agentId: 'bench' }, base));
  const cache = new DecisionCache();
  const cached = measure(cases, (c) => validate({ ...c, agentId: 'bench' }, { ...base, cache }));
  return [
    atMost('fast-path decision p99 (in process, uncached)', percentile(uncached, 0.99), 'us', 200),
    info('fast-path decision p50 (in process, uncached)', percentile(uncached, 0.5), 'us'),
    info('fast-path decision p99 (in process, cached)', percentile(cached, 0.99), 'us'),
    info('decision cache hit rate', cache.stats().hitRate, 'ratio'),
  ];
}
