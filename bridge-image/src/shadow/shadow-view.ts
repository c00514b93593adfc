import type { ShadowStat } from '../../protocol/index.js';
import type { Overlay } from './overlay.js';
import { ShadowError } from './shadow-errors.js';
import type { WorkspaceBase } from './workspace-base.js';

const DIR_MODE = 0o755;
const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/** Where blob contents come from: the event store, or the FUSE daemon's read-only reader. */
export interface BlobSource {
  getBlob(hash: string): Buffer | undefined;
  /** A byte range of a blob without loading the rest, where the source can. */
  readBlobRange?(hash: string, offset: number, length: number): Buffer | undefined;
}

export type Node =
  | {
      type: 'file';
      size: number;
      mode: number;
      mtimeMs: number;
      hash: string | null;
      source: 'shadow' | 'workspace';
    }
  | { type: 'dir'; mode: number; mtimeMs: number; source: 'shadow' | 'workspace' };

/** One shadow, read-only: the workspace seen through an overlay (the live one, or one from history). */
export class ShadowView {
  constructor(
    private readonly overlay: Overlay,
    private readonly base: WorkspaceBase,
    private readonly store: BlobSource,
  ) {}

  /** What is at `rel` in this shadow, or undefined. */
  node(rel: string): Node | undefined {
    if (rel === '') return { type: 'dir', mode: DIR_MODE, mtimeMs: 0, source: 'workspace' };
    const o = this.overlay;
    // An ancestor that the shadow turned into a file, deleted or removed hides everything below it.
    for (let p = parentOf(rel); p !== ''; p = parentOf(p)) {
      const a = o.get(p);
      if (a && a.kind !== 'dir') return undefined;
    }
    const e = o.get(rel);
    if (e) {
      if (e.kind === 'file') {
        return {
          type: 'file',
          size: e.size,
          mode: e.mode,
          mtimeMs: e.mtimeMs,
          hash: e.hash,
          source: 'shadow',
        };
      }
      if (e.kind === 'dir') return { type: 'dir', mode: DIR_MODE, mtimeMs: e.mtimeMs, source: 'shadow' };
      if (e.kind === 'rmdir' || e.kind === 'deleted') return this.implicitDir(o, rel);
    }
    const b = this.base.stat(rel);
    if (b) {
      if (b.type === 'dir') return { type: 'dir', mode: b.mode, mtimeMs: b.mtimeMs, source: 'workspace' };
      return {
        type: 'file',
        size: b.size,
        mode: b.mode,
        mtimeMs: b.mtimeMs,
        hash: null,
        source: 'workspace',
      };
    }
    return this.implicitDir(o, rel);
  }

  /** A directory that exists only because the shadow holds something below it. */
  private implicitDir(o: Overlay, rel: string): Node | undefined {
    const prefix = rel + '/';
    for (const [k, e] of o) {
      if (k.startsWith(prefix) && (e.kind === 'file' || e.kind === 'dir')) {
        return { type: 'dir', mode: DIR_MODE, mtimeMs: e.mtimeMs, source: 'shadow' };
      }
    }
    return undefined;
  }

  stat(rel: string): ShadowStat {
    const n = this.node(rel);
    if (!n) throw new ShadowError(404, 'ENOENT', `no such file or directory: ${rel}`);
    return {
      path: rel,
      type: n.type,
      size: n.type === 'file' ? n.size : 0,
      mode: n.mode,
      mtime: new Date(n.mtimeMs).toISOString(),
      hash: n.type === 'file' ? (n.hash ?? this.base.hash(rel)) : null,
      source: n.source,
    };
  }

  /** Content of a file in the shadow: the overlay's blob, or the workspace file. */
  read(rel: string): Buffer {
    const n = this.node(rel);
    if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    if (n.type === 'dir') throw new ShadowError(409, 'EISDIR', `${rel} is a directory`);
    const data = n.source === 'shadow' ? this.store.getBlob(n.hash!) : this.base.read(rel);
    if (!data) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    return data;
  }

  /** A byte range of a file: workspace files are read in place, not loaded whole. */
  readRange(rel: string, offset: number, length: number): Buffer {
    const n = this.node(rel);
    if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    if (n.type === 'dir') throw new ShadowError(409, 'EISDIR', `${rel} is a directory`);
    if (n.source === 'shadow') {
      const part = this.store.readBlobRange?.(n.hash!, offset, length);
      if (part) return part;
      return this.read(rel).subarray(offset, offset + length);
    }
    const data = this.base.readRange(rel, offset, length);
    if (!data) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    return data;
  }

  list(rel: string): (ShadowStat & { name: string })[] {
    const n = this.node(rel);
    if (!n) throw new ShadowError(404, 'ENOENT', `no such directory: ${rel || '.'}`);
    if (n.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${rel} is not a directory`);
    const names = new Set<string>(this.base.list(rel).keys());
    const prefix = rel === '' ? '' : rel + '/';
    for (const k of this.overlay.keys()) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      if (rest) names.add(rest.split('/')[0]!);
    }
    const out: (ShadowStat & { name: string })[] = [];
    for (const name of [...names].sort()) {
      const child = prefix + name;
      if (this.node(child)) out.push({ ...this.stat(child), name });
    }
    return out;
  }
}
