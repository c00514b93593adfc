import {
  ShadowEventTypes,
  type ShadowChange,
  type ShadowCount,
  type ShadowDiff,
  type ShadowStat,
  type ShadowWriteResult,
} from '../../protocol/index.js';
import type { Claim, EventStore } from '../store/event-store.js';
import {
  reduce,
  type BaseKind,
  type DeletedData,
  type DirData,
  type MovedData,
  type Overlay,
  type OverlayEntry,
  type WrittenData,
} from './overlay.js';
import { ShadowError } from './shadow-errors.js';
import { ShadowView } from './shadow-view.js';
import { isBinary, unifiedDiff } from './unified-diff.js';
import type { WorkspaceBase } from './workspace-base.js';

export { ShadowError };

const FILE_MODE = 0o644;
const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

type ChangedEntry = Extract<OverlayEntry, { kind: 'file' | 'deleted' }>;

/** A change conflicts when its write was based on stale content, or the workspace moved on under it. */
const conflicted = (e: ChangedEntry, currentBaseHash: string | null): boolean =>
  (e.kind === 'file' && e.conflict) || e.baseHash !== currentBaseHash;

/** What a change leaves at its path: the content's hash, or null for a deletion. */
const outcome = (e: ChangedEntry): string | null => (e.kind === 'file' ? e.hash : null);

export interface ChangeOptions {
  /** false: answer without waiting for the FUSE mount to show the change (changes made through it). */
  wait?: boolean;
  /** The keyed request the change is made for (see Claim). */
  claim?: Claim | undefined;
}

/**
 * Every agent's shadow: the workspace seen through that agent's overlay. Overlays live in memory,
 * rebuilt from shadow.* events at start; every change is an event first, applied after it is durable.
 */
export class ShadowFiles {
  private readonly overlays = new Map<string, Overlay>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly changedHooks: (() => Promise<void>)[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly base: WorkspaceBase,
    /** Throws when the agent may not change this path (another agent's exclusive lease). */
    private readonly mayWrite: (agent: string, rel: string) => void = () => undefined,
  ) {
    store.replay({ types: ['shadow.*'] }, (e) =>
      this.applyEvent(e.stream, e.type, e.data, e.seq, Date.parse(e.ts)),
    );
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

  /** Whether this agent's shadow changes anything. */
  has(agent: string): boolean {
    return (this.overlays.get(agent)?.size ?? 0) > 0;
  }

  agents(): string[] {
    return [...this.overlays.keys()].filter((a) => this.overlays.get(a)!.size > 0);
  }

  /** Called after every change, outside the agent's lock; the change is answered when they resolve. */
  onChanged(fn: () => Promise<void>): void {
    this.changedHooks.push(fn);
  }

  private async settled<T>(p: Promise<T>, opts: ChangeOptions | undefined): Promise<T> {
    const r = await p;
    if (opts?.wait !== false) await Promise.all(this.changedHooks.map((f) => f()));
    return r;
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

  private async record(agent: string, type: string, data: object, claim: Claim | undefined): Promise<number> {
    const [e] = await this.store.append({
      stream: `shadow:${agent}`,
      agentId: agent,
      events: [{ type, data }],
      claim,
    });
    this.applyEvent(e!.stream, e!.type, e!.data, e!.seq, Date.parse(e!.ts));
    return e!.seq;
  }

  // ---- the merged view ----

  /** The agent's shadow as it is now, or (history) as it stood at event `at`. */
  view(agent: string, at?: number): ShadowView {
    if (at === undefined) return new ShadowView(this.overlay(agent), this.base, this.store);
    const past: Overlay = new Map();
    this.store.replay({ streams: [`shadow:${agent}`], before: at + 1 }, (e) =>
      reduce(past, e.type, e.data, e.seq, Date.parse(e.ts)),
    );
    return new ShadowView(past, this.base, this.store);
  }

  node(agent: string, rel: string) {
    return this.view(agent).node(rel);
  }

  stat(agent: string, rel: string, at?: number): ShadowStat {
    return this.view(agent, at).stat(rel);
  }

  read(agent: string, rel: string, at?: number): Buffer {
    return this.view(agent, at).read(rel);
  }

  list(agent: string, rel: string, at?: number): (ShadowStat & { name: string })[] {
    return this.view(agent, at).list(rel);
  }

  // ---- changes ----

  /** Throws what a write of `rel` would be refused for: a lease, a file where a directory must be, a directory. */
  checkWritable(agent: string, rel: string): void {
    this.base.guard(rel);
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

  write(
    agent: string,
    rel: string,
    data: Buffer,
    ifMatch?: string,
    opts?: ChangeOptions,
  ): Promise<ShadowWriteResult> {
    return this.settled(this.writeNow(agent, rel, data, ifMatch, opts?.claim), opts);
  }

  private writeNow(
    agent: string,
    rel: string,
    data: Buffer,
    ifMatch: string | undefined,
    claim: Claim | undefined,
  ): Promise<ShadowWriteResult> {
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
      const seq = await this.record(agent, ShadowEventTypes.written, payload, claim);
      return { path: rel, hash: blob.hash, size: data.length, seq, conflict };
    });
  }

  /**
   * Many files written at once (a burst through the mount: a build's output, an unpacked archive):
   * the agent's lock taken once, the blobs stored together and ONE append with a shadow.written
   * event per file. Each file is checked as write() checks it; a refused one is left out and
   * reported, the others are recorded.
   */
  writeMany(
    agent: string,
    files: { rel: string; data: Buffer }[],
    opts?: ChangeOptions,
  ): Promise<{ rel: string; error: unknown }[]> {
    return this.settled(this.writeManyNow(agent, files, opts?.claim), opts);
  }

  private writeManyNow(
    agent: string,
    files: { rel: string; data: Buffer }[],
    claim: Claim | undefined,
  ): Promise<{ rel: string; error: unknown }[]> {
    return this.exclusive(agent, async () => {
      const refused: { rel: string; error: unknown }[] = [];
      const ok = files.filter((f) => {
        try {
          this.checkWritable(agent, f.rel);
          return true;
        } catch (error) {
          refused.push({ rel: f.rel, error });
          return false;
        }
      });
      if (ok.length === 0) return refused;
      const blobs = await Promise.all(ok.map((f) => this.store.putBlob(f.data)));
      const events = ok.map((f, i) => {
        const prev = this.overlay(agent).get(f.rel);
        const payload: WrittenData = {
          path: f.rel,
          hash: blobs[i]!.hash,
          size: f.data.length,
          mode: prev?.kind === 'file' ? prev.mode : (this.base.stat(f.rel)?.mode ?? FILE_MODE),
          baseHash: this.baseHashFor(agent, f.rel),
          conflict: false,
          movedFrom: prev?.kind === 'file' ? prev.movedFrom : null,
        };
        return { type: ShadowEventTypes.written, data: payload };
      });
      const appended = await this.store.append({ stream: `shadow:${agent}`, agentId: agent, events, claim });
      for (const e of appended) this.applyEvent(e.stream, e.type, e.data, e.seq, Date.parse(e.ts));
      return refused;
    });
  }

  delete(agent: string, rel: string, opts?: ChangeOptions): Promise<number> {
    return this.settled(this.deleteNow(agent, rel, opts?.claim), opts);
  }

  private deleteNow(agent: string, rel: string, claim: Claim | undefined): Promise<number> {
    return this.exclusive(agent, async () => {
      this.base.guard(rel);
      const n = this.node(agent, rel);
      if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
      if (n.type === 'dir')
        throw new ShadowError(409, 'EISDIR', `${rel} is a directory; remove it with rmdir`);
      this.mayWrite(agent, rel);
      const baseKind = this.baseKind(rel);
      const payload: DeletedData = {
        path: rel,
        inBase: baseKind === 'file',
        baseHash: this.baseHashFor(agent, rel),
        baseKind,
      };
      return this.record(agent, ShadowEventTypes.deleted, payload, claim);
    });
  }

  move(agent: string, from: string, to: string, opts?: ChangeOptions): Promise<number> {
    return this.settled(this.moveNow(agent, from, to, opts?.claim), opts);
  }

  private moveNow(agent: string, from: string, to: string, claim: Claim | undefined): Promise<number> {
    return this.exclusive(agent, async () => {
      this.base.guard(from);
      this.base.guard(to);
      if (from === to) throw new ShadowError(400, 'EINVAL', 'from and to are the same path');
      const n = this.node(agent, from);
      if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${from}`);
      if (n.type === 'dir') return this.moveDir(agent, from, to, claim);
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
        fromBaseKind: this.baseKind(from),
      };
      return this.record(agent, ShadowEventTypes.moved, payload, claim);
    });
  }

  /**
   * A directory moves as one append: the directories made at the new place, every file moved, the
   * old directories removed (deepest first). rename(2) rules: not into itself, onto nothing or an
   * empty directory only.
   */
  private async moveDir(agent: string, from: string, to: string, claim: Claim | undefined): Promise<number> {
    if (to.startsWith(from + '/'))
      throw new ShadowError(400, 'EINVAL', `${from} cannot be moved into itself (${to})`);
    const view = this.view(agent);
    const events: { type: string; data: object }[] = [];
    const target = view.node(to);
    if (target) {
      if (target.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${to} is not a directory`);
      if (view.entries(to).length > 0) throw new ShadowError(409, 'ENOTEMPTY', `${to} is not empty`);
      this.mayWrite(agent, to);
      events.push({ type: ShadowEventTypes.dirRemoved, data: this.dirRemoval(agent, to) });
    } else {
      const parent = view.node(parentOf(to));
      if (!parent) throw new ShadowError(404, 'ENOENT', `parent directory ${parentOf(to)} does not exist`);
      if (parent.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${parentOf(to)} is not a directory`);
    }
    const dirs: string[] = [];
    const files: string[] = [];
    const walk = (rel: string) => {
      dirs.push(rel);
      for (const e of view.entries(rel))
        (e.node.type === 'dir' ? walk : (f: string) => files.push(f))(`${rel}/${e.name}`);
    };
    walk(from);
    const moved = (p: string) => to + p.slice(from.length);
    for (const p of [...dirs, ...files]) {
      this.mayWrite(agent, p);
      this.mayWrite(agent, moved(p));
    }
    for (const d of dirs)
      events.push({ type: ShadowEventTypes.dirCreated, data: { path: moved(d) } satisfies DirData });
    for (const f of files) {
      const n = view.node(f);
      if (n?.type !== 'file') continue;
      const hash = n.hash ?? (await this.store.putBlob(this.base.read(f)!)).hash;
      const payload: MovedData = {
        path: moved(f),
        from: f,
        hash,
        size: n.size,
        mode: n.mode,
        baseHash: this.baseHashFor(agent, moved(f)),
        fromInBase: this.base.stat(f)?.type === 'file',
        fromBaseHash: this.baseHashFor(agent, f),
        fromBaseKind: this.baseKind(f),
      };
      events.push({ type: ShadowEventTypes.moved, data: payload });
    }
    for (const d of [...dirs].reverse())
      events.push({ type: ShadowEventTypes.dirRemoved, data: this.dirRemoval(agent, d) });
    const appended = await this.store.append({ stream: `shadow:${agent}`, agentId: agent, events, claim });
    for (const e of appended) this.applyEvent(e.stream, e.type, e.data, e.seq, Date.parse(e.ts));
    return appended[appended.length - 1]!.seq;
  }

  /** What the workspace has at `rel`. */
  private baseKind(rel: string): BaseKind {
    return this.base.stat(rel)?.type ?? null;
  }

  private dirRemoval(agent: string, rel: string): DirData {
    const baseKind = this.baseKind(rel);
    return {
      path: rel,
      inBase: baseKind === 'dir',
      baseKind,
      baseHash: baseKind === 'file' ? this.baseHashFor(agent, rel) : null,
    };
  }

  mkdir(agent: string, rel: string, opts?: ChangeOptions): Promise<number> {
    return this.settled(this.mkdirNow(agent, rel, opts?.claim), opts);
  }

  private mkdirNow(agent: string, rel: string, claim: Claim | undefined): Promise<number> {
    return this.exclusive(agent, async () => {
      this.base.guard(rel);
      if (this.node(agent, rel)) throw new ShadowError(409, 'EEXIST', `${rel} already exists`);
      this.mayWrite(agent, rel);
      const parent = parentOf(rel);
      const p = this.node(agent, parent);
      if (!p) throw new ShadowError(404, 'ENOENT', `parent directory ${parent} does not exist`);
      if (p.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${parent} is not a directory`);
      const payload: DirData = { path: rel };
      return this.record(agent, ShadowEventTypes.dirCreated, payload, claim);
    });
  }

  rmdir(agent: string, rel: string, opts?: ChangeOptions): Promise<number> {
    return this.settled(this.rmdirNow(agent, rel, opts?.claim), opts);
  }

  private rmdirNow(agent: string, rel: string, claim: Claim | undefined): Promise<number> {
    return this.exclusive(agent, async () => {
      this.base.guard(rel);
      const n = this.node(agent, rel);
      if (!n) throw new ShadowError(404, 'ENOENT', `no such directory: ${rel}`);
      if (n.type !== 'dir') throw new ShadowError(409, 'ENOTDIR', `${rel} is not a directory`);
      if (this.view(agent).entries(rel).length > 0)
        throw new ShadowError(409, 'ENOTEMPTY', `${rel} is not empty`);
      this.mayWrite(agent, rel);
      const payload = this.dirRemoval(agent, rel);
      return this.record(agent, ShadowEventTypes.dirRemoved, payload, claim);
    });
  }

  /**
   * The overlay entries that are changes (files written, moved or deleted; not directories). Looked
   * up, not made: counting an agent the admin names must not leave an empty overlay behind. Entries
   * in the bridge's own state (stored by an older bridge) are no changes: never listed, diffed or
   * applied.
   */
  private changed(agent: string): [string, ChangedEntry][] {
    return [...(this.overlays.get(agent) ?? [])].filter((x): x is [string, ChangedEntry] => {
      const k = x[1].kind;
      return (k === 'file' || k === 'deleted') && !this.base.isHidden(x[0]);
    });
  }

  /** What the agent's shadow changes, with conflicts and the other shadows touching the same paths. */
  changes(agent: string): ShadowChange[] {
    const out: ShadowChange[] = [];
    const entries = this.changed(agent).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const currents = this.base.hashMany(entries.map(([path]) => path));
    const others = [...this.overlays].filter(([a]) => a !== agent).sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [path, e] of entries) {
      const current = currents.get(path) ?? null;
      const alsoChangedBy: string[] = [];
      for (const [a, o] of others) {
        const k = o.get(path)?.kind;
        if (k === 'file' || k === 'deleted') alsoChangedBy.push(a);
      }
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
        // Two shadows that make one path different things conflict in both: whichever is applied
        // first, the other would overwrite it.
        conflict: conflicted(e, current) || this.disputed(agent, path, e),
        alsoChangedBy,
        movedFrom: e.kind === 'file' ? e.movedFrom : null,
        seq: e.seq,
      });
    }
    return out;
  }

  /** Whether another shadow changes `path` to something else than `e` does. */
  private disputed(agent: string, path: string, e: ChangedEntry): boolean {
    for (const [a, o] of this.overlays) {
      if (a === agent) continue;
      const other = o.get(path);
      if ((other?.kind === 'file' || other?.kind === 'deleted') && outcome(other) !== outcome(e)) return true;
    }
    return false;
  }

  /**
   * changes(agent).length and how many of them conflict, per agent, without building the list: no
   * sorting, no blobs read; one lookup per other shadow and path, and only the workspace hashes a
   * conflict needs (cached by size and mtime). Agents whose shadow changes nothing are left out
   * unless named.
   */
  summary(only?: string): ShadowCount[] {
    const agents = only === undefined ? this.agents().sort() : [only];
    const out: ShadowCount[] = [];
    for (const agentId of agents) {
      const entries = this.changed(agentId);
      if (entries.length === 0 && only === undefined) continue;
      const currents = this.base.hashMany(entries.map(([path]) => path));
      let conflicts = 0;
      for (const [path, e] of entries)
        if (conflicted(e, currents.get(path) ?? null) || this.disputed(agentId, path, e)) conflicts++;
      out.push({ agentId, changes: entries.length, conflicts });
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
  settle(
    agent: string,
    paths: string[],
    how: 'applied' | 'discarded',
    by: string,
    opts?: ChangeOptions,
  ): Promise<number> {
    return this.settled(this.settleNow(agent, paths, how, by, opts?.claim), opts);
  }

  private settleNow(
    agent: string,
    paths: string[],
    how: 'applied' | 'discarded',
    by: string,
    claim: Claim | undefined,
  ): Promise<number> {
    return this.exclusive(agent, async () => {
      for (const p of paths) this.base.guard(p);
      const o = this.overlay(agent);
      const visible = [...o.keys()].filter((k) => !this.base.isHidden(k));
      const missing = paths.filter((p) => !o.has(p) && !visible.some((k) => k.startsWith(p + '/')));
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
        claim,
      });
      this.applyEvent(e!.stream, e!.type, e!.data, e!.seq, Date.parse(e!.ts));
      return e!.seq;
    });
  }
}
