import type { BridgeClient, ShadowListing } from '../bridge-image/protocol/index.js';
import { BridgeError } from '../bridge-image/protocol/index.js';

/** One entry found by a walk: its workspace path, and how deep below the starting directory it is (1 = in it). */
export interface WalkEntry {
  path: string;
  name: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  depth: number;
}

export interface WalkOptions {
  /** 1 lists the starting directory only; 2 also its subdirectories; and so on. */
  maxDepth: number;
  signal?: AbortSignal;
  /** Directories shown but not entered (e.g. .git, node_modules). */
  skipDir?: (entry: WalkEntry) => boolean;
  /** Called for every entry in breadth-first order, each directory's entries sorted; false stops the walk. */
  visit: (entry: WalkEntry) => boolean;
}

/** Directories that a search or a tree does not enter: version control data and installed packages. */
export const UNENTERED_DIRS = new Set(['.git', 'node_modules']);

/** How many directory listings are asked for at once. */
const CONCURRENCY = 8;

/**
 * Walks the agent's shadow from `root` breadth-first through `list` calls, so that under a cap the
 * shallow entries (the overview) come first. Resolves true when everything within maxDepth was
 * visited, false when `visit` stopped it. A directory that vanishes during the walk is skipped.
 */
export async function walkShadow(client: BridgeClient, root: string, opts: WalkOptions): Promise<boolean> {
  let level = [root];
  for (let depth = 1; level.length > 0 && depth <= opts.maxDepth; depth++) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += CONCURRENCY) {
      if (opts.signal?.aborted) throw new BridgeError(0, 'cancelled', 'the walk was cancelled');
      const batch = level.slice(i, i + CONCURRENCY);
      const listings = await Promise.all(
        batch.map((dir) => listOrSkip(client, dir, depth === 1, opts.signal)),
      );
      for (const listing of listings) {
        for (const e of listing?.entries ?? []) {
          const entry: WalkEntry = { path: e.path, name: e.name, type: e.type, size: e.size, depth };
          if (!opts.visit(entry)) return false;
          if (entry.type === 'dir' && !opts.skipDir?.(entry)) next.push(entry.path);
        }
      }
    }
    level = next;
  }
  return true;
}

/** The starting directory must exist (its error tells the model so); one below it may vanish meanwhile. */
async function listOrSkip(
  client: BridgeClient,
  dir: string,
  isRoot: boolean,
  signal: AbortSignal | undefined,
): Promise<ShadowListing | undefined> {
  try {
    return await client.list(dir, signal ? { signal } : {});
  } catch (e) {
    if (!isRoot && e instanceof BridgeError && (e.code === 'ENOENT' || e.code === 'ENOTDIR'))
      return undefined;
    throw e;
  }
}

/** Compares workspace paths name by name, so that a directory's entries follow it directly. */
export function comparePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}
