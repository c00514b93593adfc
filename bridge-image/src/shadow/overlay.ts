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
}
export interface DeletedData {
  path: string;
  inBase: boolean;
  baseHash: string | null;
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
}
export interface DirData {
  path: string;
  inBase?: boolean;
}
export interface PathsData {
  paths: string[];
  agentId: string;
}

const under = (p: string, dir: string) => p.startsWith(dir + '/');

/** Applies one shadow event to an overlay. The single place where events become state. */
export function reduce(overlay: Overlay, type: string, data: unknown, seq: number, tsMs: number): void {
  switch (type) {
    case 'shadow.written': {
      const d = data as WrittenData;
      overlay.set(d.path, {
        kind: 'file',
        hash: d.hash,
        size: d.size,
        mode: d.mode,
        mtimeMs: tsMs,
        seq,
        baseHash: d.baseHash,
        conflict: d.conflict,
        movedFrom: d.movedFrom ?? null,
      });
      return;
    }
    case 'shadow.deleted': {
      const d = data as DeletedData;
      if (d.inBase) overlay.set(d.path, { kind: 'deleted', seq, mtimeMs: tsMs, baseHash: d.baseHash });
      else overlay.delete(d.path);
      return;
    }
    case 'shadow.moved': {
      const d = data as MovedData;
      if (d.fromInBase)
        overlay.set(d.from, { kind: 'deleted', seq, mtimeMs: tsMs, baseHash: d.fromBaseHash });
      else overlay.delete(d.from);
      overlay.set(d.path, {
        kind: 'file',
        hash: d.hash,
        size: d.size,
        mode: d.mode,
        mtimeMs: tsMs,
        seq,
        baseHash: d.baseHash,
        conflict: false,
        movedFrom: d.from,
      });
      return;
    }
    case 'shadow.dir_created': {
      const d = data as DirData;
      overlay.set(d.path, { kind: 'dir', seq, mtimeMs: tsMs });
      return;
    }
    case 'shadow.dir_removed': {
      const d = data as DirData;
      if (d.inBase) overlay.set(d.path, { kind: 'rmdir', seq, mtimeMs: tsMs });
      else overlay.delete(d.path);
      return;
    }
    case 'shadow.applied':
    case 'shadow.discarded': {
      for (const p of (data as PathsData).paths) {
        overlay.delete(p);
        for (const k of [...overlay.keys()]) if (under(k, p)) overlay.delete(k);
      }
      return;
    }
    default:
      return;
  }
}
