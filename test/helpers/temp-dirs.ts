import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Temporary directories of the tests and benchmarks, removed when their test file ends
 * (test/setup/remove-temp-dirs.ts) or the benchmark run does: left behind, a few runs of the suite
 * and the benchmarks filled /tmp with tens of gigabytes (one shadow benchmark's workspace and store
 * alone is ~260 MB).
 */
const made = new Set<string>();

export function tempDir(prefix = 'lh-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every directory tempDir made in this process (or module context) so far. */
export function removeTempDirs(): void {
  for (const dir of made) {
    try {
      removeTree(dir);
    } catch (e) {
      process.stderr.write(`could not remove ${dir}: ${(e as Error).message}\n`);
    }
  }
  made.clear();
}

/**
 * Removes a directory tree, but first detaches whatever is still mounted inside it (a FUSE view, a
 * bindfs copy), deepest first: removing through a mount would delete what the mount shows instead.
 */
export function removeTree(dir: string): void {
  for (const mount of mountsUnder(dir)) {
    for (const [cmd, ...args] of [
      ['fusermount', '-uz', mount],
      ['umount', '-l', mount],
    ] as const) {
      try {
        execFileSync(cmd, args, { stdio: 'ignore' });
        break;
      } catch {
        // the next way, or the check below says why
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`still mounted: ${left.join(', ')}`);
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mounts, whose paths escape spaces). */
export function mountsUnder(dir: string): string[] {
  let table: string;
  try {
    table = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  const root = path.resolve(dir);
  return table
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === root || p.startsWith(root + path.sep))
    .sort((a, b) => b.length - a.length);
}
