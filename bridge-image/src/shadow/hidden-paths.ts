import fs from 'node:fs';
import path from 'node:path';
import type { BridgeConfig } from '../config.js';
import { within } from './path-safety.js';

/** The directory of the bridge's own files in a workspace (native mode keeps all of them there). */
export const STATE_DIR = '.lighthouse';

/**
 * The one place that decides which parts of the workspace are the bridge's own state and never part
 * of any view: the whole `.lighthouse/` directory (master secret, agent keys, store, FUSE mount, the
 * validation policy), and wherever else the configuration puts the store, the secret, the keys next
 * to it and the mount, when they lie inside the workspace. Both servers of the workspace (the
 * bridge's WorkspaceBase and the FUSE daemon's) are built with this list.
 *
 * Each path is given both as named (under the workspace's real path) and as its parent's real path
 * plus its own name: a workspace reached through a symlink, or a data directory named through one,
 * is still matched. The paths themselves are never resolved: the mount point answers only through
 * FUSE, and a realpath(3) of it would wait on the bridge's own mount.
 */
export function hiddenPaths(
  config: Pick<BridgeConfig, 'workspace' | 'dataDir' | 'secretFile' | 'fuseMount'>,
): string[] {
  const named = path.resolve(config.workspace);
  const root = realOr(named);
  const candidates = [path.join(named, STATE_DIR)];
  const dataDir = path.resolve(config.dataDir);
  // A store kept in the workspace root itself hides its files, not the whole workspace.
  if (dataDir === named || dataDir === root)
    candidates.push(
      ...['events.db', 'events.db-wal', 'events.db-shm', 'private', 'fuse-times.json'].map((f) =>
        path.join(dataDir, f),
      ),
    );
  else candidates.push(dataDir);
  if (config.secretFile) {
    const secret = path.resolve(config.secretFile);
    candidates.push(secret, path.join(path.dirname(secret), 'keys'));
  }
  if (config.fuseMount) candidates.push(path.resolve(config.fuseMount));
  const out = new Set<string>();
  for (const c of candidates) {
    for (const form of [within(named, c) ? path.join(root, path.relative(named, c)) : c, parentReal(c)]) {
      if (form !== root && within(root, form)) out.add(form);
    }
  }
  return [...out];
}

function realOr(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return p;
  }
}

/** `p` with its parent directory resolved (the parent of a mount point is an ordinary directory). */
function parentReal(p: string): string {
  return path.join(realOr(path.dirname(p)), path.basename(p));
}
