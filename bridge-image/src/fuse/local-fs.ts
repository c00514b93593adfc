/**
 * What the FUSE daemon answers by itself, without a round trip to the bridge: the root, current/,
 * shadows/<agent>/ and history/<seq>/<agent>/, from its own read-only store connection and the
 * workspace directory. `undefined` means "ask the bridge" (context/, streams/, the agent lists, an
 * agent this reader has not seen yet).
 */
import { AgentId } from '../../protocol/index.js';
import { normalise } from '../shadow/path-safety.js';
import { ShadowView } from '../shadow/shadow-view.js';
import type { WorkspaceBase } from '../shadow/workspace-base.js';
import type { Attr } from './fuse-protocol.js';
import {
  currentAttr,
  FsError,
  nodeAttr,
  RO_DIR,
  viewAttr,
  viewLink,
  workspaceAttr,
  workspaceLink,
} from './fs-attrs.js';
import { locate, TOP, type Location } from './layout.js';
import type { StoreReader } from './store-reader.js';

/** How an open file is read: a workspace file through its descriptor, or a blob by range. */
export type ReadSource = { kind: 'fd'; fd: number } | { kind: 'blob'; hash: string; size: number };

export class LocalFs {
  private readonly history = new Map<string, ShadowView>();

  constructor(
    private readonly reader: StoreReader,
    private readonly base: WorkspaceBase,
    private readonly startedAt: number,
    /** Reads the events appended since (noting what the kernel must forget). */
    private readonly catchUp: () => void = () => reader.catchUp(),
  ) {}

  /** Whether the reader knows this agent's shadow; undefined: not known here (the bridge may). */
  private agent(name: string | null): string | undefined {
    if (name === null || !AgentId.safeParse(name).success) throw new FsError('ENOENT', `no agent ${name}`);
    if (this.reader.agents.has(name) || (this.reader.overlays.get(name)?.size ?? 0) > 0) return name;
    return undefined;
  }

  private historical(agent: string, seq: number): ShadowView {
    const key = `${agent}@${seq}`;
    let v = this.history.get(key);
    if (!v) {
      v = new ShadowView(this.reader.overlayAt(agent, seq), this.base, this.reader);
      if (this.history.size > 64) this.history.delete(this.history.keys().next().value!);
      this.history.set(key, v);
    }
    return v;
  }

  /** The view a shadows/ or history/ location reads; null: the location is above any agent. */
  private view(loc: Location): { view: ShadowView; rel: string; writable: boolean } | null | undefined {
    if (loc.area === 'shadows' && loc.agent !== null) {
      const agent = this.agent(loc.agent);
      if (agent === undefined) return undefined;
      return {
        view: new ShadowView(this.reader.overlay(agent), this.base, this.reader),
        rel: normalise(loc.rel, true),
        writable: true,
      };
    }
    if (loc.area === 'history' && loc.seq !== null && loc.agent !== null) {
      if (loc.seq > this.reader.lastSeq) this.catchUp();
      if (loc.seq > this.reader.lastSeq) throw new FsError('ENOENT', `no event ${loc.seq} yet`);
      const agent = this.agent(loc.agent);
      if (agent === undefined) return undefined;
      return { view: this.historical(agent, loc.seq), rel: normalise(loc.rel, true), writable: false };
    }
    return null;
  }

  getattr(p: string): Attr | undefined {
    const loc = locate(p);
    const t = this.startedAt;
    switch (loc.area) {
      case 'root':
        return { ...RO_DIR, mtimeMs: t };
      case 'none':
        throw new FsError('ENOENT', `no ${p}`);
      case 'current':
        return currentAttr(this.base, normalise(loc.rel, true), t);
      case 'shadows':
      case 'history': {
        const sv = this.view(loc);
        return sv === undefined ? undefined : viewAttr(loc.area, sv, t);
      }
      default:
        return undefined;
    }
  }

  /** Names with their attributes (so that `ls`, `find` and `grep -r` know the types without a stat). */
  readdir(p: string): { names: string[]; attrs: Attr[] } | undefined {
    const loc = locate(p);
    switch (loc.area) {
      case 'root':
        return { names: TOP, attrs: TOP.map(() => ({ ...RO_DIR, mtimeMs: this.startedAt })) };
      case 'current': {
        const rel = normalise(loc.rel, true);
        const attr = this.getattr(p)!;
        if (attr.type !== 'dir') throw new FsError('ENOTDIR', `${p} is not a directory`);
        const entries = [...this.base.list(rel)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return {
          names: entries.map(([n]) => n),
          attrs: entries.map(([, st]) => workspaceAttr(st)),
        };
      }
      case 'shadows':
      case 'history': {
        const sv = this.view(loc);
        if (!sv) return undefined;
        // entries() refuses a missing path (ENOENT) or a file (ENOTDIR) itself.
        const list = sv.view.entries(sv.rel);
        return {
          names: list.map((e) => e.name),
          attrs: list.map(({ node }) => nodeAttr(node, sv.writable)),
        };
      }
      default:
        return undefined;
    }
  }

  /** A symlink's text; undefined: the bridge answers. */
  readlink(p: string): string | undefined {
    const loc = locate(p);
    if (loc.area === 'current') return workspaceLink(this.base, normalise(loc.rel, true));
    if (loc.area === 'shadows' || loc.area === 'history') {
      const sv = this.view(loc);
      return sv === undefined ? undefined : viewLink(sv);
    }
    if (loc.area === 'root' || loc.area === 'none') throw new FsError('EINVAL', `${p} is not a symlink`);
    return undefined;
  }

  /** How to read a file opened for reading; undefined: the bridge serves it. */
  openRead(p: string): ReadSource | undefined {
    const loc = locate(p);
    if (loc.area === 'current') {
      const rel = normalise(loc.rel, true);
      return this.openBase(rel);
    }
    if (loc.area === 'shadows' || loc.area === 'history') {
      const sv = this.view(loc);
      if (sv === undefined) return undefined;
      if (sv === null) throw new FsError('EISDIR', `${p} is a directory`);
      const n = sv.view.node(sv.rel);
      if (!n) throw new FsError('ENOENT', `no ${sv.rel}`);
      if (n.type === 'dir') throw new FsError('EISDIR', `${p} is a directory`);
      // The kernel follows links before it opens: a link here was made since; not followed.
      if (n.type === 'symlink') throw new FsError('EINVAL', `${p} is a symlink`);
      if (n.source === 'shadow') return { kind: 'blob', hash: n.hash!, size: n.size };
      return this.openBase(sv.rel);
    }
    if (loc.area === 'root') throw new FsError('EISDIR', `${p} is a directory`);
    if (loc.area === 'none') throw new FsError('ENOENT', `no ${p}`);
    return undefined;
  }

  private openBase(rel: string): ReadSource {
    if (rel === '') throw new FsError('EISDIR', 'the workspace root is a directory');
    // Opened without following a symlink swapped in since the lookup, and checked for where it is.
    const fd = this.base.openFile(rel);
    if (fd === 'dir') throw new FsError('EISDIR', `${rel} is a directory`);
    if (fd === undefined) throw new FsError('ENOENT', `no ${rel} in the workspace`);
    return { kind: 'fd', fd };
  }

  readBlob(hash: string, offset: number, length: number): Buffer {
    const d = this.reader.readBlobRange(hash, offset, length);
    if (!d) throw new FsError('EIO', `blob ${hash} is missing`);
    return d;
  }
}
