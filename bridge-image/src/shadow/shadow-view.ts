import path from 'node:path';
import type { ShadowStat } from '../../protocol/index.js';
import { holdsBelow, type Overlay, type OverlayEntry } from './overlay.js';
import { PathRejected } from './path-safety.js';
import { ShadowError } from './shadow-errors.js';
import type { BaseStat, WorkspaceBase } from './workspace-base.js';

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
  | { type: 'dir'; mode: number; mtimeMs: number; source: 'shadow' | 'workspace' }
  /** A symlink: `target` is its text; `size` its length in bytes, as lstat(2) says. */
  | {
      type: 'symlink';
      size: number;
      mode: number;
      mtimeMs: number;
      hash: string | null;
      target: string;
      source: 'shadow' | 'workspace';
    };

/** How many symlinks a read follows before giving up, as Linux does (ELOOP). */
const MAX_LINKS = 40;

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
    // The bridge's own state is in no shadow, whatever an overlay holds there (one written by an
    // older bridge): refused before anything is looked up.
    this.base.guard(rel);
    // An ancestor that the shadow turned into a file, deleted or removed hides everything below it.
    for (let p = parentOf(rel); p !== ''; p = parentOf(p)) if (this.hides(p)) return undefined;
    const e = this.overlay.get(rel);
    return this.nodeOf(rel, e, e ? undefined : this.base.stat(rel));
  }

  /** Whether the shadow's entry at `dir` hides what the workspace has below it. */
  private hides(dir: string): boolean {
    const a = this.overlay.get(dir);
    return a !== undefined && a.kind !== 'dir';
  }

  /** What is at `rel`, from its overlay entry or else the workspace's stat of it (ancestors checked). */
  private nodeOf(rel: string, e: OverlayEntry | undefined, b: BaseStat | undefined): Node | undefined {
    if (e) {
      if (e.kind === 'file' && e.link !== null) {
        return {
          type: 'symlink',
          size: e.size,
          mode: 0o777,
          mtimeMs: e.mtimeMs,
          hash: e.hash,
          target: e.link,
          source: 'shadow',
        };
      }
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
      return this.implicitDir(this.overlay, rel);
    }
    if (b) {
      if (b.type === 'dir') return { type: 'dir', mode: b.mode, mtimeMs: b.mtimeMs, source: 'workspace' };
      if (b.type === 'symlink') return { ...b, hash: null, source: 'workspace' };
      return {
        type: 'file',
        size: b.size,
        mode: b.mode,
        mtimeMs: b.mtimeMs,
        hash: null,
        source: 'workspace',
      };
    }
    return this.implicitDir(this.overlay, rel);
  }

  /** A directory that exists only because the shadow holds something below it. */
  private implicitDir(o: Overlay, rel: string): Node | undefined {
    if (!holdsBelow(o, rel)) return undefined;
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
    return this.statOf(rel, n);
  }

  private statOf(rel: string, n: Node): ShadowStat {
    return {
      path: rel,
      type: n.type,
      size: n.type === 'dir' ? 0 : n.size,
      mode: n.mode,
      mtime: new Date(n.mtimeMs).toISOString(),
      hash: n.type === 'dir' ? null : (n.hash ?? this.base.hash(rel)),
      source: n.source,
      ...(n.type === 'symlink' ? { target: n.target } : {}),
    };
  }

  /**
   * Where a symlink at `rel` leads inside this shadow, followed until no link is left. A link that
   * is absolute or climbs out of the workspace is refused: a read through the bridge never leaves
   * the shadow (through the mount, the kernel follows links itself, and the daemon still only
   * answers for paths inside the workspace).
   */
  private follow(rel: string): { rel: string; node: Node | undefined } {
    let n = this.node(rel);
    for (let hops = 0; n?.type === 'symlink'; hops++) {
      if (hops >= MAX_LINKS) throw new ShadowError(400, 'EINVAL', `${rel}: too many levels of symlinks`);
      if (n.target.startsWith('/'))
        throw new PathRejected(rel, 'a symlink with an absolute target is not followed', 403);
      const next = path.posix.normalize(path.posix.join(parentOf(rel), n.target));
      if (next === '..' || next.startsWith('../'))
        throw new PathRejected(rel, 'a symlink leads outside the workspace', 403);
      rel = next === '.' ? '' : next;
      n = this.node(rel);
    }
    return { rel, node: n };
  }

  /** Content of a file in the shadow: the overlay's blob, or the workspace file (symlinks followed). */
  read(start: string): Buffer {
    const { rel, node: n } = this.follow(start);
    if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    if (n.type === 'dir') throw new ShadowError(409, 'EISDIR', `${rel} is a directory`);
    const data = n.source === 'shadow' ? this.store.getBlob(n.hash!) : this.base.read(rel);
    if (!data) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    return data;
  }

  /** A byte range of a file: workspace files are read in place, not loaded whole. */
  readRange(start: string, offset: number, length: number): Buffer {
    const { rel, node: n } = this.follow(start);
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
    const prefix = rel === '' ? '' : rel + '/';
    return this.entries(rel).map(({ name, node }) => ({ ...this.statOf(prefix + name, node), name }));
  }

  /**
   * The entries of a directory and what they are, sorted by name, without hashing workspace files
   * (a listing of the mount needs none). The workspace directory is read once, one stat per entry.
   */
  entries(named: string): { name: string; node: Node }[] {
    // A symlink to a directory lists that directory, as `ls link/` does (refused if it leads out).
    const { rel, node: n } = this.follow(named);
    if (!n) throw new ShadowError(404, 'ENOENT', `no such directory: ${rel || '.'}`);
    if (n.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${rel} is not a directory`);
    // A directory the shadow removed, shown only for what it holds below, lists nothing (node()
    // answers undefined for each of its children alike).
    if (rel !== '' && this.hides(rel)) return [];
    const base = this.base.list(rel);
    const names = new Set<string>(base.keys());
    const prefix = rel === '' ? '' : rel + '/';
    for (const k of this.overlay.keys()) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      if (rest && !this.base.isHidden(prefix + rest.split('/')[0]!)) names.add(rest.split('/')[0]!);
    }
    const out: { name: string; node: Node }[] = [];
    for (const name of [...names].sort()) {
      const child = prefix + name;
      const node = this.nodeOf(child, this.overlay.get(child), base.get(name));
      if (node) out.push({ name, node });
    }
    return out;
  }
}
