import {
  ShadowEventTypes,
  type ShadowChange,
  type ShadowDiff,
  type ShadowStat,
  type ShadowWriteResult,
} from '../../protocol/index.js';
import type { EventStore } from '../store/event-store.js';
import {
  reduce,
  type DeletedData,
  type DirData,
  type MovedData,
  type Overlay,
  type WrittenData,
} from './overlay.js';
import { isBinary, unifiedDiff } from './unified-diff.js';
import type { WorkspaceBase } from './workspace-base.js';

/** A refused file operation, with the errno a file system would give and the HTTP status. */
export class ShadowError extends Error {
  override name = 'ShadowError';
  constructor(
    readonly status: number,
    readonly code: 'ENOENT' | 'EISDIR' | 'ENOTDIR' | 'ENOTEMPTY' | 'EEXIST' | 'EINVAL',
    message: string,
  ) {
    super(message);
  }
}

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

type Node =
  | {
      type: 'file';
      size: number;
      mode: number;
      mtimeMs: number;
      hash: string | null;
      source: 'shadow' | 'workspace';
    }
  | { type: 'dir'; mode: number; mtimeMs: number; source: 'shadow' | 'workspace' };

/**
 * Every agent's shadow: the workspace seen through that agent's overlay. Overlays live in memory,
 * rebuilt from shadow.* events at start; every change is an event first, applied after it is durable.
 */
export class ShadowFiles {
  private readonly overlays = new Map<string, Overlay>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: EventStore,
    private readonly base: WorkspaceBase,
    /** Throws when the agent may not change this path (another agent's exclusive lease). */
    private readonly mayWrite: (agent: string, rel: string) => void = () => undefined,
  ) {
    let after = 0;
    for (;;) {
      const page = store.query({ types: ['shadow.*'], after, limit: 5000 });
      for (const e of page.events) this.applyEvent(e.stream, e.type, e.data, e.seq, Date.parse(e.ts));
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
  }

  private applyEvent(stream: string, type: string, data: unknown, seq: number, tsMs: number): void {
    if (!stream.startsWith('shadow:')) return;
    reduce(this.overlay(stream.slice('shadow:'.length)), type, data, seq, tsMs);
  }

  private overlay(agent: string): Overlay {
    let o = this.overlays.get(agent);
    if (!o) this.overlays.set(agent, (o = new Map()));
    return o;
  }

  agents(): string[] {
    return [...this.overlays.keys()].filter((a) => this.overlays.get(a)!.size > 0);
  }

  /** Runs mutations of one agent's shadow one at a time: each check sees the previous change. */
  private exclusive<T>(agent: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(agent) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(agent, tail);
    void tail.then(() => {
      if (this.locks.get(agent) === tail) this.locks.delete(agent);
    });
    return next;
  }

  private async record(agent: string, type: string, data: object): Promise<number> {
    const [e] = await this.store.append({
      stream: `shadow:${agent}`,
      agentId: agent,
      events: [{ type, data }],
    });
    this.applyEvent(e!.stream, e!.type, e!.data, e!.seq, Date.parse(e!.ts));
    return e!.seq;
  }

  // ---- the merged view ----

  /** What is at `rel` in the agent's shadow, or undefined. */
  node(agent: string, rel: string): Node | undefined {
    if (rel === '') return { type: 'dir', mode: DIR_MODE, mtimeMs: 0, source: 'workspace' };
    const o = this.overlay(agent);
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

  stat(agent: string, rel: string): ShadowStat {
    const n = this.node(agent, rel);
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
  read(agent: string, rel: string): Buffer {
    const n = this.node(agent, rel);
    if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    if (n.type === 'dir') throw new ShadowError(409, 'EISDIR', `${rel} is a directory`);
    const data = n.source === 'shadow' ? this.store.getBlob(n.hash!) : this.base.read(rel);
    if (!data) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    return data;
  }

  list(agent: string, rel: string): (ShadowStat & { name: string })[] {
    const n = this.node(agent, rel);
    if (!n) throw new ShadowError(404, 'ENOENT', `no such directory: ${rel || '.'}`);
    if (n.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${rel} is not a directory`);
    const names = new Set<string>(this.base.list(rel).keys());
    const prefix = rel === '' ? '' : rel + '/';
    for (const k of this.overlay(agent).keys()) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      if (rest) names.add(rest.split('/')[0]!);
    }
    const out: (ShadowStat & { name: string })[] = [];
    for (const name of [...names].sort()) {
      const child = prefix + name;
      if (this.node(agent, child)) out.push({ ...this.stat(agent, child), name });
    }
    return out;
  }

  // ---- changes ----

  private checkWritable(agent: string, rel: string): void {
    this.mayWrite(agent, rel);
    for (let p = parentOf(rel); p !== ''; p = parentOf(p)) {
      const n = this.node(agent, p);
      if (n?.type === 'file')
        throw new ShadowError(409, 'ENOTDIR', `${p} is a file, so ${rel} cannot be created`);
    }
    if (this.node(agent, rel)?.type === 'dir') throw new ShadowError(409, 'EISDIR', `${rel} is a directory`);
  }

  /** The hash the agent's shadow shows now (null: no file), for ifMatch. */
  private currentHash(agent: string, rel: string): string | null {
    const n = this.node(agent, rel);
    if (!n || n.type !== 'file') return null;
    return n.hash ?? this.base.hash(rel);
  }

  /** The workspace content a change is based on: kept from the first change of that path. */
  private baseHashFor(agent: string, rel: string): string | null {
    const e = this.overlay(agent).get(rel);
    if (e && (e.kind === 'file' || e.kind === 'deleted')) return e.baseHash;
    return this.base.hash(rel);
  }

  write(agent: string, rel: string, data: Buffer, ifMatch?: string): Promise<ShadowWriteResult> {
    return this.exclusive(agent, async () => {
      this.checkWritable(agent, rel);
      const seen = ifMatch === undefined ? undefined : ifMatch === 'absent' ? null : ifMatch;
      const conflict = seen !== undefined && seen !== this.currentHash(agent, rel);
      const blob = await this.store.putBlob(data);
      const prev = this.overlay(agent).get(rel);
      const payload: WrittenData = {
        path: rel,
        hash: blob.hash,
        size: data.length,
        mode: prev?.kind === 'file' ? prev.mode : (this.base.stat(rel)?.mode ?? FILE_MODE),
        baseHash: this.baseHashFor(agent, rel),
        conflict,
        movedFrom: prev?.kind === 'file' ? prev.movedFrom : null,
      };
      const seq = await this.record(agent, ShadowEventTypes.written, payload);
      return { path: rel, hash: blob.hash, size: data.length, seq, conflict };
    });
  }

  delete(agent: string, rel: string): Promise<number> {
    return this.exclusive(agent, async () => {
      const n = this.node(agent, rel);
      if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
      if (n.type === 'dir')
        throw new ShadowError(409, 'EISDIR', `${rel} is a directory; remove it with rmdir`);
      this.mayWrite(agent, rel);
      const inBase = this.base.stat(rel)?.type === 'file';
      const payload: DeletedData = { path: rel, inBase, baseHash: this.baseHashFor(agent, rel) };
      return this.record(agent, ShadowEventTypes.deleted, payload);
    });
  }

  move(agent: string, from: string, to: string): Promise<number> {
    return this.exclusive(agent, async () => {
      if (from === to) throw new ShadowError(400, 'EINVAL', 'from and to are the same path');
      const n = this.node(agent, from);
      if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${from}`);
      if (n.type === 'dir')
        throw new ShadowError(409, 'EISDIR', `${from} is a directory; moving directories is not supported`);
      this.mayWrite(agent, from);
      this.checkWritable(agent, to);
      let hash = n.hash;
      if (hash === null) hash = (await this.store.putBlob(this.base.read(from)!)).hash;
      const payload: MovedData = {
        path: to,
        from,
        hash,
        size: n.size,
        mode: n.mode,
        baseHash: this.baseHashFor(agent, to),
        fromInBase: this.base.stat(from)?.type === 'file',
        fromBaseHash: this.baseHashFor(agent, from),
      };
      return this.record(agent, ShadowEventTypes.moved, payload);
    });
  }

  mkdir(agent: string, rel: string): Promise<number> {
    return this.exclusive(agent, async () => {
      if (this.node(agent, rel)) throw new ShadowError(409, 'EEXIST', `${rel} already exists`);
      this.mayWrite(agent, rel);
      const parent = parentOf(rel);
      const p = this.node(agent, parent);
      if (!p) throw new ShadowError(404, 'ENOENT', `parent directory ${parent} does not exist`);
      if (p.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${parent} is not a directory`);
      const payload: DirData = { path: rel };
      return this.record(agent, ShadowEventTypes.dirCreated, payload);
    });
  }

  rmdir(agent: string, rel: string): Promise<number> {
    return this.exclusive(agent, async () => {
      const n = this.node(agent, rel);
      if (!n) throw new ShadowError(404, 'ENOENT', `no such directory: ${rel}`);
      if (n.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${rel} is not a directory`);
      if (this.list(agent, rel).length > 0) throw new ShadowError(409, 'ENOTEMPTY', `${rel} is not empty`);
      this.mayWrite(agent, rel);
      const payload: DirData = { path: rel, inBase: this.base.stat(rel)?.type === 'dir' };
      return this.record(agent, ShadowEventTypes.dirRemoved, payload);
    });
  }

  /** What the agent's shadow changes, with conflicts and the other shadows touching the same paths. */
  changes(agent: string): ShadowChange[] {
    const out: ShadowChange[] = [];
    for (const [path, e] of [...this.overlay(agent)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (e.kind !== 'file' && e.kind !== 'deleted') continue;
      const current = this.base.hash(path);
      const alsoChangedBy = [...this.overlays]
        .filter(([a, o]) => a !== agent && (o.get(path)?.kind === 'file' || o.get(path)?.kind === 'deleted'))
        .map(([a]) => a)
        .sort();
      out.push({
        path,
        status:
          e.kind === 'deleted'
            ? 'deleted'
            : e.movedFrom
              ? 'moved'
              : e.baseHash === null
                ? 'added'
                : 'modified',
        hash: e.kind === 'file' ? e.hash : null,
        baseHash: e.baseHash,
        currentBaseHash: current,
        conflict: (e.kind === 'file' && e.conflict) || e.baseHash !== current,
        alsoChangedBy,
        movedFrom: e.kind === 'file' ? e.movedFrom : null,
        seq: e.seq,
      });
    }
    return out;
  }

  /** The changes with a unified diff each against the workspace (binary files are not diffed). */
  diff(agent: string): ShadowDiff['files'] {
    const empty = Buffer.alloc(0);
    return this.changes(agent).map((c) => {
      const origin = c.movedFrom ?? c.path;
      const before = c.status === 'added' ? empty : (this.base.read(origin) ?? empty);
      const after = c.hash === null ? empty : (this.store.getBlob(c.hash) ?? empty);
      const binary = isBinary(before) || isBinary(after);
      const patch = binary
        ? null
        : unifiedDiff(
            c.status === 'added' ? null : origin,
            c.status === 'deleted' ? null : c.path,
            before,
            after,
          );
      return { path: c.path, status: c.status, conflict: c.conflict, binary, patch };
    });
  }

  /** Applied (the extension wrote them into the workspace) or discarded: the overlay forgets them. */
  settle(agent: string, paths: string[], how: 'applied' | 'discarded', by: string): Promise<number> {
    return this.exclusive(agent, async () => {
      const o = this.overlay(agent);
      const missing = paths.filter((p) => !o.has(p) && ![...o.keys()].some((k) => k.startsWith(p + '/')));
      if (missing.length) {
        throw new ShadowError(
          404,
          'ENOENT',
          `not changed in ${agent}'s shadow: ${missing.slice(0, 5).join(', ')}`,
        );
      }
      const type = how === 'applied' ? ShadowEventTypes.applied : ShadowEventTypes.discarded;
      const [e] = await this.store.append({
        stream: `shadow:${agent}`,
        agentId: by,
        events: [{ type, data: { paths, agentId: agent } }],
      });
      this.applyEvent(e!.stream, e!.type, e!.data, e!.seq, Date.parse(e!.ts));
      return e!.seq;
    });
  }
}
