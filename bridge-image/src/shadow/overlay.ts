/** One agent's overlay: what its shadow changes, keyed by workspace-relative path. */
export type OverlayEntry =
  | {
      kind: 'file';
      hash: string;
      size: number;
      mode: number;
      mtimeMs: number;
      seq: number;
      /** Workspace content this entry was based on; null when the file did not exist there. */
      baseHash: string | null;
      conflict: boolean;
      movedFrom: string | null;
      /**
       * A symlink: its text (the blob `hash` holds the same bytes, as git stores a link); null for a
       * regular file. A link is a versioned entry like a file, so changes, conflicts, moves, apply
       * and discard treat both alike.
       */
      link: string | null;
    }
  | { kind: 'deleted'; seq: number; mtimeMs: number; baseHash: string | null }
  | { kind: 'dir'; seq: number; mtimeMs: number }
  | { kind: 'rmdir'; seq: number; mtimeMs: number };

export type Overlay = Map<string, OverlayEntry>;

/** What each shadow event carries; everything the reducer needs, so replay never consults the disk. */
export interface WrittenData {
  path: string;
  hash: string;
  size: number;
  mode: number;
  baseHash: string | null;
  conflict: boolean;
  movedFrom?: string | null;
  /** A symlink's text; absent (all events before links were kept): a regular file. */
  link?: string;
}
/** What the workspace holds at a path: a tombstone must hide a base file and a base directory alike. */
export type BaseKind = 'file' | 'dir' | null;

export interface DeletedData {
  path: string;
  inBase: boolean;
  baseHash: string | null;
  /** Events written before it was recorded have only `inBase` (a base file). */
  baseKind?: BaseKind;
}
export interface MovedData {
  path: string;
  from: string;
  hash: string;
  size: number;
  mode: number;
  baseHash: string | null;
  fromInBase: boolean;
  fromBaseHash: string | null;
  fromBaseKind?: BaseKind;
  /** What moves is a symlink with this text. */
  link?: string;
}
export interface DirData {
  path: string;
  inBase?: boolean;
  baseKind?: BaseKind;
  /** For a removed directory where the workspace has a file: that file's hash. */
  baseHash?: string | null;
}
export interface PathsData {
  paths: string[];
  agentId: string;
}

const under = (p: string, dir: string) => p.startsWith(dir + '/');

/**
 * For each directory, how many entries that make it exist (files and directories) an overlay holds
 * below it: a lookup of a path the shadow does not have (every file about to be created) would
 * otherwise scan the whole overlay. Built at the first question, kept up to date by the reducer.
 */
const below = new WeakMap<Overlay, Map<string, number>>();
const makesDirs = (e: OverlayEntry | undefined) => e !== undefined && (e.kind === 'file' || e.kind === 'dir');

function count(index: Map<string, number>, path: string, by: number): void {
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const dir = path.slice(0, i);
    const n = (index.get(dir) ?? 0) + by;
    if (n === 0) index.delete(dir);
    else index.set(dir, n);
  }
}

/** Whether the overlay holds a file or directory below `dir`. */
export function holdsBelow(overlay: Overlay, dir: string): boolean {
  let index = below.get(overlay);
  if (!index) {
    index = new Map();
    for (const [k, e] of overlay) if (makesDirs(e)) count(index, k, 1);
    below.set(overlay, index);
  }
  return index.has(dir);
}

function put(overlay: Overlay, path: string, e: OverlayEntry | undefined): void {
  const index = below.get(overlay);
  if (index) {
    const was = makesDirs(overlay.get(path));
    const is = makesDirs(e);
    if (was !== is) count(index, path, is ? 1 : -1);
  }
  if (e) overlay.set(path, e);
  else overlay.delete(path);
}

/**
 * A path the shadow removed: a tombstone of the workspace's kind there (a deleted file shows as a
 * change; a removed directory does not), or nothing when the workspace has nothing there.
 */
function removed(
  overlay: Overlay,
  path: string,
  kind: BaseKind,
  baseHash: string | null,
  seq: number,
  tsMs: number,
): void {
  if (kind === 'file') put(overlay, path, { kind: 'deleted', seq, mtimeMs: tsMs, baseHash });
  else if (kind === 'dir') put(overlay, path, { kind: 'rmdir', seq, mtimeMs: tsMs });
  else put(overlay, path, undefined);
}

/**
 * The workspace file a moved file's content comes from: the source itself when the workspace has
 * it, where the source was moved from, or none (a file the shadow created, such as an editor's
 * temporary copy).
 */
function originOf(source: OverlayEntry | undefined, d: MovedData): string | null {
  if (source?.kind === 'file') return source.movedFrom ?? (source.baseHash !== null ? d.from : null);
  return (d.fromBaseKind ?? (d.fromInBase ? 'file' : null)) === 'file' ? d.from : null;
}

/** Applies one shadow event to an overlay. The single place where events become state. */
export function reduce(overlay: Overlay, type: string, data: unknown, seq: number, tsMs: number): void {
  switch (type) {
    case 'shadow.written': {
      const d = data as WrittenData;
      put(overlay, d.path, {
        kind: 'file',
        hash: d.hash,
        size: d.size,
        mode: d.mode,
        mtimeMs: tsMs,
        seq,
        baseHash: d.baseHash,
        conflict: d.conflict,
        movedFrom: d.movedFrom ?? null,
        link: d.link ?? null,
      });
      return;
    }
    case 'shadow.deleted': {
      const d = data as DeletedData;
      removed(overlay, d.path, d.baseKind ?? (d.inBase ? 'file' : null), d.baseHash, seq, tsMs);
      return;
    }
    case 'shadow.moved': {
      const d = data as MovedData;
      const origin = originOf(overlay.get(d.from), d);
      removed(overlay, d.from, d.fromBaseKind ?? (d.fromInBase ? 'file' : null), d.fromBaseHash, seq, tsMs);
      put(overlay, d.path, {
        kind: 'file',
        hash: d.hash,
        size: d.size,
        mode: d.mode,
        mtimeMs: tsMs,
        seq,
        baseHash: d.baseHash,
        conflict: false,
        // Renamed over a file the workspace has (sed -i, an editor's save, Claude Code's Edit): a
        // modification of that file, diffed against it, not a move from a temporary name.
        movedFrom: d.baseHash !== null ? null : origin,
        link: d.link ?? null,
      });
      return;
    }
    case 'shadow.dir_created': {
      const d = data as DirData;
      put(overlay, d.path, { kind: 'dir', seq, mtimeMs: tsMs });
      return;
    }
    case 'shadow.dir_removed': {
      const d = data as DirData;
      removed(overlay, d.path, d.baseKind ?? (d.inBase ? 'dir' : null), d.baseHash ?? null, seq, tsMs);
      return;
    }
    case 'shadow.applied':
    case 'shadow.discarded': {
      for (const p of (data as PathsData).paths) {
        put(overlay, p, undefined);
        for (const k of [...overlay.keys()]) if (under(k, p)) put(overlay, k, undefined);
      }
      return;
    }
    default:
      return;
  }
}
