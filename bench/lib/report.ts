import fs from 'node:fs';
import path from 'node:path';

/** One line of a suite's results, as written to bench/results/<suite>.json. */
export interface BenchResult {
  metric: string;
  value: number;
  unit: string;
  /** What the same run measured for the reference the target is relative to (null when absolute). */
  baseline: number | null;
  ratio: number | null;
  /** Human-readable target, e.g. ">= 0.6x bare node:http" or "<= 20 us". */
  target: string;
  pass: boolean;
  /** Reported for information, with no target: not counted in "N/M targets met". */
  informational?: boolean;
}

export function relative(
  metric: string,
  value: number,
  unit: string,
  baseline: number,
  min: number,
  what: string,
): BenchResult {
  const ratio = value / baseline;
  return { metric, value, unit, baseline, ratio, target: `>= ${min}x ${what}`, pass: ratio >= min };
}

/** A ratio to a baseline measured in the same run that must not exceed `max` (e.g. a start-up time). */
export function relativeAtMost(
  metric: string,
  value: number,
  unit: string,
  baseline: number,
  max: number,
  what: string,
): BenchResult {
  const ratio = value / baseline;
  return { metric, value, unit, baseline, ratio, target: `<= ${max}x ${what}`, pass: ratio <= max };
}

/** A figure reported with no target (optionally beside a baseline from the same run). */
export function info(
  metric: string,
  value: number,
  unit: string,
  baseline: number | null = null,
): BenchResult {
  return {
    metric,
    value,
    unit,
    baseline,
    ratio: baseline ? value / baseline : null,
    target: 'none (reported)',
    pass: true,
    informational: true,
  };
}

export function atMost(
  metric: string,
  value: number,
  unit: string,
  max: number,
  baseline: number | null = null,
): BenchResult {
  return {
    metric,
    value,
    unit,
    baseline,
    ratio: baseline ? value / baseline : null,
    target: `<= ${max} ${unit}`,
    pass: value <= max,
  };
}

export function atLeast(
  metric: string,
  value: number,
  unit: string,
  min: number,
  baseline: number | null = null,
): BenchResult {
  return {
    metric,
    value,
    unit,
    baseline,
    ratio: baseline ? value / baseline : null,
    target: `>= ${min} ${unit}`,
    pass: value >= min,
  };
}

const fmt = (n: number | null) =>
  n === null ? '-' : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toFixed(3);

export function printTable(suite: string, results: BenchResult[]): void {
  const rows = [
    ['metric', 'value', 'unit', 'baseline', 'ratio', 'target', 'pass'],
    ...results.map((r) => [
      r.metric,
      fmt(r.value),
      r.unit,
      fmt(r.baseline),
      fmt(r.ratio),
      r.target,
      r.informational ? '-' : r.pass ? 'yes' : 'NO',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n${suite}`);
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
}

export function writeResults(suite: string, results: BenchResult[]): string {
  const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${suite}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  return file;
}
