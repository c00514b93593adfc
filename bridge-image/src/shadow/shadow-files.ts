import {
  MAX_PATCH_BYTES,
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
import { PathRejected } from './path-safety.js';
import { ShadowError } from './shadow-errors.js';
import { ShadowView, type Node } from './shadow-view.js';
import { isBinary, unifiedDiff } from './unified-diff.js';
import type { BaseStat, WorkspaceBase } from './workspace-base.js';

export { ShadowError };

const FILE_MODE = 0o644;
const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

type ChangedEntry = Extract<OverlayEntry, { kind: 'file' | 'deleted' }>;

/** A change conflicts when its write was based on stale content, or the workspace moved on under it. */
const conflicted = (e: ChangedEntry, currentBaseHash: string | null): boolean =>
  (e.kind === 'file' && e.conflict) || e.baseHash !== currentBaseHash;

/** What a change leaves at its path: the content's hash, or null for a deletion. */
const outcome = (e: ChangedEntry): string | null => (e.kind === 'file' ? e.hash : null);

/** A git-like mode of a workspace entry or an overlay entry: 100644, 100755, 120000. */
function gitMode(x: { type: string; mode: number } | undefined): string | null {
  if (!x || x.type === 'dir') return null;
  if (x.type === 'symlink') return '120000';
  return (x.mode & 0o111) !== 0 ? '100755' : '100644';
}

/** "old mode / new mode" lines, as git writes them, when a change makes a file executable or a link. */
function modeLines(
  was: BaseStat | undefined,
  now: Extract<OverlayEntry, { kind: 'file' }> | undefined,
): string {
  const after = now ? gitMode({ type: now.link !== null ? 'symlink' : 'file', mode: now.mode }) : null;
  const before = gitMode(was);
  if (before === after) return '';
  // A plain file added or deleted says nothing more than its patch does.
  if (before === null) return after === '100644' ? '' : `new file mode ${after}\n`;
  if (after === null) return before === '100644' ? '' : `deleted file mode ${before}\n`;
  return `old mode ${before}\nnew mode ${after}\n`;
}

/** A real change: its overlay entry, the workspace content at its path now, and whether it conflicts. */
interface Changed {
  path: string;
  e: ChangedEntry;
  current: string | null;
  conflict: boolean;
}

export interface PageRequest {
  limit: number;
  /** The last path of the previous page. */
  cursor?: string | undefined;
  /** A normalised directory or file path; '' or none: everything. */
  prefix?: string | undefined;
}

export type ChangePageInfo = Pick<ShadowDiff, 'total' | 'conflicts' | 'nextCursor'>;

/** A patch cut at a line end within `limit` bytes (UTF-8), or whole. */
function cutPatch(patch: string, limit: number): { patch: string; truncated: boolean } {
  const buf = Buffer.from(patch, 'utf8');
  if (buf.length <= limit) return { patch, truncated: false };
  const nl = buf.lastIndexOf(0x0a, limit - 1);
  // No line end in reach (one huge line): cut at the limit; toString drops a split character.
  const end = nl > 0 ? nl + 1 : limit;
  return {
    patch: buf
      .subarray(0, end)
      .toString('utf8')
      .replace(/\uFFFD$/, ''),
    truncated: true,
  };
}

export interface ChangeOptions {
  /** false: answer without waiting for the FUSE mount to show the change (changes made through it). */
  wait?: boolean;
  /** The permission bits of a file this write creates (open's mode through the mount); else 0644. */
  mode?: number | undefined;
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
      // The mount shows the link as a link (the kernel follows it); a file below its name here
      // would be in no directory the mount shows.
      if (n?.type === 'symlink')
        throw new ShadowError(
          409,
          'ENOTDIR',
          `${p} is a symlink (to ${n.target}): write ${rel} at the path it leads to instead`,
        );
    }
    if (this.node(agent, rel)?.type === 'dir') throw new ShadowError(409, 'EISDIR', `${rel} is a directory`);
  }

  /** The hash the agent's shadow shows now (null: no file), for ifMatch. */
  private currentHash(agent: string, rel: string): string | null {
    const n = this.node(agent, rel);
    if (!n || n.type === 'dir') return null;
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
    return this.settled(this.writeNow(agent, rel, data, ifMatch, opts?.claim, opts?.mode), opts);
  }

  private writeNow(
    agent: string,
    rel: string,
    data: Buffer,
    ifMatch: string | undefined,
    claim: Claim | undefined,
    createMode: number | undefined,
  ): Promise<ShadowWriteResult> {
    return this.exclusive(agent, async () => {
      this.checkWritable(agent, rel);
      const seen = ifMatch === undefined ? undefined : ifMatch === 'absent' ? null : ifMatch;
      const conflict = seen !== undefined && seen !== this.currentHash(agent, rel);
      const blob = await this.store.putBlob(data, agent);
      const payload = this.written(agent, rel, blob.hash, data.length, createMode, conflict);
      const seq = await this.record(agent, ShadowEventTypes.written, payload, claim);
      return { path: rel, hash: blob.hash, size: data.length, seq, conflict };
    });
  }

  /** A shadow.written of new content at `rel` (a file: a symlink written over becomes a file). */
  private written(
    agent: string,
    rel: string,
    hash: string,
    size: number,
    createMode: number | undefined,
    conflict: boolean,
  ): WrittenData {
    const prev = this.overlay(agent).get(rel);
    return {
      path: rel,
      hash,
      size,
      mode: this.modeFor(agent, rel, createMode),
      baseHash: this.baseHashFor(agent, rel),
      conflict,
      movedFrom: prev?.kind === 'file' ? prev.movedFrom : null,
    };
  }

  /** The mode a write keeps: the file's own (a symlink replaced by a file has none), else `created`. */
  private modeFor(agent: string, rel: string, created: number | undefined): number {
    const n = this.node(agent, rel);
    if (n?.type === 'file') return n.mode;
    return created === undefined ? FILE_MODE : created & 0o777;
  }

  /** The content blob of a file or symlink node (a link's is its text), stored if it is the workspace's. */
  private async blobOf(
    agent: string,
    rel: string,
    n: Extract<Node, { type: 'file' | 'symlink' }>,
  ): Promise<string> {
    if (n.hash !== null) return n.hash;
    const data = n.type === 'symlink' ? Buffer.from(n.target) : this.base.read(rel);
    if (!data) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
    return (await this.store.putBlob(data, agent)).hash;
  }

  /**
   * ln -s: a symlink with this text. Recorded as shadow.written with `link` (its text is its content),
   * so the change list, diff, apply and discard see a link like a file.
   */
  symlink(agent: string, rel: string, target: string, opts?: ChangeOptions): Promise<number> {
    return this.settled(
      this.exclusive(agent, async () => {
        if (target === '' || target.includes('\0'))
          throw new ShadowError(400, 'EINVAL', 'a symlink target must be non-empty and have no NUL byte');
        if (Buffer.byteLength(target) > 4095)
          throw new ShadowError(400, 'EINVAL', 'a symlink target is at most 4095 bytes');
        this.checkWritable(agent, rel);
        if (this.node(agent, rel)) throw new ShadowError(409, 'EEXIST', `${rel} already exists`);
        const data = Buffer.from(target);
        const blob = await this.store.putBlob(data, agent);
        const payload = { ...this.written(agent, rel, blob.hash, data.length, 0o777, false), link: target };
        return this.record(agent, ShadowEventTypes.written, payload, opts?.claim);
      }),
      opts,
    );
  }

  /**
   * chmod(2) of a file: a shadow.written of the same content with the new mode (a workspace file's
   * content is stored once, by hash, like any copy). Nothing is recorded when the mode stays, nor for
   * a directory (its mode is the shadow's own) or a symlink (Linux has no mode for it).
   */
  chmod(agent: string, rel: string, mode: number, opts?: ChangeOptions): Promise<number | null> {
    return this.settled(
      this.exclusive(agent, async () => {
        this.base.guard(rel);
        const n = this.node(agent, rel);
        if (!n) throw new ShadowError(404, 'ENOENT', `no such file: ${rel}`);
        const perm = mode & 0o777;
        if (n.type !== 'file' || (n.mode & 0o777) === perm) return null;
        this.mayWrite(agent, rel);
        const prev = this.overlay(agent).get(rel);
        const hash = await this.blobOf(agent, rel, n);
        const kept = prev?.kind === 'file' && prev.conflict;
        const payload = { ...this.written(agent, rel, hash, n.size, undefined, kept), mode: perm };
        return this.record(agent, ShadowEventTypes.written, payload, opts?.claim);
      }),
      opts,
    );
  }

  /**
   * Many files written at once (a burst through the mount: a build's output, an unpacked archive):
   * the agent's lock taken once, the blobs stored together and ONE append with a shadow.written
   * event per file. Each file is checked as write() checks it; a refused one is left out and
   * reported, the others are recorded.
   */
  writeMany(
    agent: string,
    files: { rel: string; data: Buffer; mode?: number | undefined }[],
    opts?: ChangeOptions,
  ): Promise<{ rel: string; error: unknown }[]> {
    return this.settled(this.writeManyNow(agent, files, opts?.claim), opts);
  }

  private writeManyNow(
    agent: string,
    files: { rel: string; data: Buffer; mode?: number | undefined }[],
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
      const blobs = await Promise.all(ok.map((f) => this.store.putBlob(f.data, agent)));
      const events = ok.map((f, i) => ({
        type: ShadowEventTypes.written,
        data: this.written(agent, f.rel, blobs[i]!.hash, f.data.length, f.mode, false),
      }));
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
      return this.record(agent, ShadowEventTypes.moved, await this.moved(agent, from, to, n), claim);
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
      if (!n || n.type === 'dir') continue;
      events.push({ type: ShadowEventTypes.moved, data: await this.moved(agent, f, moved(f), n) });
    }
    for (const d of [...dirs].reverse())
      events.push({ type: ShadowEventTypes.dirRemoved, data: this.dirRemoval(agent, d) });
    const appended = await this.store.append({ stream: `shadow:${agent}`, agentId: agent, events, claim });
    for (const e of appended) this.applyEvent(e.stream, e.type, e.data, e.seq, Date.parse(e.ts));
    return appended[appended.length - 1]!.seq;
  }

  /** A shadow.moved of a file or symlink from `from` to `to`. */
  private async moved(
    agent: string,
    from: string,
    to: string,
    n: Extract<Node, { type: 'file' | 'symlink' }>,
  ): Promise<MovedData> {
    const fromBaseKind = this.baseKind(from);
    return {
      path: to,
      from,
      hash: await this.blobOf(agent, from, n),
      size: n.size,
      mode: n.mode,
      baseHash: this.baseHashFor(agent, to),
      fromInBase: fromBaseKind === 'file',
      fromBaseHash: this.baseHashFor(agent, from),
      fromBaseKind,
      ...(n.type === 'symlink' ? { link: n.target } : {}),
    };
  }

  /** What the workspace has at `rel`; a symlink is a file here (a deletion of it is a change). */
  private baseKind(rel: string): BaseKind {
    const t = this.base.stat(rel)?.type;
    return t === undefined ? null : t === 'dir' ? 'dir' : 'file';
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
   * The overlay entries that may be changes (files written, moved or deleted; not directories).
   * Looked up, not made: counting an agent the admin names must not leave an empty overlay behind.
   * Entries in the bridge's own state (stored by an older bridge) are no changes: never listed,
   * diffed or applied.
   */
  private entriesOf(agent: string, prefix = ''): [string, ChangedEntry][] {
    return [...(this.overlays.get(agent) ?? [])].filter((x): x is [string, ChangedEntry] => {
      const k = x[1].kind;
      return (
        (k === 'file' || k === 'deleted') &&
        (prefix === '' || x[0] === prefix || x[0].startsWith(prefix + '/')) &&
        !this.base.isHidden(x[0])
      );
    });
  }

  /**
   * Whether an entry changes anything: one that leaves the workspace's own content and mode (a file
   * edited and then undone, a deletion of a file the workspace no longer has) would apply as nothing,
   * so it is no change: not listed, counted, diffed or disputed. The workspace is only stat'ed for
   * the few entries whose content matches it.
   */
  private isChange(path: string, e: ChangedEntry, current: string | null): boolean {
    if (e.kind === 'deleted') return current !== null || this.base.stat(path) !== undefined;
    return e.hash !== current || e.mode !== this.base.stat(path)?.mode;
  }

  /**
   * The agent's real changes (under `prefix`), with the workspace content now and whether each
   * conflicts: what the counts, pages and diffs are all made from, so that they always agree.
   */
  private changed(agent: string, prefix = ''): Changed[] {
    const entries = this.entriesOf(agent, prefix);
    const currents = this.base.hashMany(entries.map(([path]) => path));
    const out: Changed[] = [];
    for (const [path, e] of entries) {
      const current = currents.get(path) ?? null;
      if (!this.isChange(path, e, current)) continue;
      // Two shadows that make one path different things conflict in both: whichever is applied
      // first, the other would overwrite it.
      const conflict = conflicted(e, current) || this.disputed(agent, path, e, current);
      out.push({ path, e, current, conflict });
    }
    return out;
  }

  /** The other shadows that really change `path`, in order (they see the same workspace content). */
  private othersChanging(agent: string, path: string, current: string | null): [string, ChangedEntry][] {
    const out: [string, ChangedEntry][] = [];
    for (const [a, o] of this.overlays) {
      if (a === agent) continue;
      const other = o.get(path);
      if ((other?.kind === 'file' || other?.kind === 'deleted') && this.isChange(path, other, current))
        out.push([a, other]);
    }
    return out.sort(([a], [b]) => (a < b ? -1 : 1));
  }

  /** Whether another shadow changes `path` to something else than `e` does. */
  private disputed(agent: string, path: string, e: ChangedEntry, current: string | null): boolean {
    return this.othersChanging(agent, path, current).some(([, other]) => outcome(other) !== outcome(e));
  }

  private toChange(agent: string, c: Changed): ShadowChange {
    const { path, e } = c;
    return {
      path,
      status:
        e.kind === 'deleted' ? 'deleted' : e.movedFrom ? 'moved' : e.baseHash === null ? 'added' : 'modified',
      hash: e.kind === 'file' ? e.hash : null,
      baseHash: e.baseHash,
      currentBaseHash: c.current,
      conflict: c.conflict,
      alsoChangedBy: this.othersChanging(agent, path, c.current).map(([a]) => a),
      movedFrom: e.kind === 'file' ? e.movedFrom : null,
      seq: e.seq,
    };
  }

  /**
   * The page of the agent's changes (under `prefix`) after `cursor`, ordered by path, with the counts
   * of the whole list. Only the page's changes are built; the rest is counted.
   */
  private paged(agent: string, req: PageRequest): { page: Changed[]; rest: Changed[]; all: Changed[] } {
    const prefix = req.prefix ?? '';
    try {
      if (prefix !== '') this.base.guard(prefix);
    } catch (e) {
      if (e instanceof PathRejected) throw new PathRejected(e.input, `prefix: ${e.why}`, e.status);
      throw e;
    }
    const all = this.changed(agent, prefix).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const after = req.cursor;
    let from = 0;
    if (after !== undefined) {
      // The first path after the cursor: the cursor need not still be a change (applied since).
      let hi = all.length;
      while (from < hi) {
        const mid = (from + hi) >> 1;
        if (all[mid]!.path <= after) from = mid + 1;
        else hi = mid;
      }
    }
    const rest = all.slice(from);
    return { page: rest.slice(0, req.limit), rest, all };
  }

  private pageInfo(all: Changed[], page: Changed[], rest: Changed[]): ChangePageInfo {
    return {
      total: all.length,
      conflicts: all.filter((c) => c.conflict).length,
      nextCursor: page.length < rest.length ? page[page.length - 1]!.path : null,
    };
  }

  /** A page of what the agent's shadow changes, with conflicts and the other shadows touching the same paths. */
  changePage(agent: string, req: PageRequest): { changes: ShadowChange[] } & ChangePageInfo {
    const { page, rest, all } = this.paged(agent, req);
    return { changes: page.map((c) => this.toChange(agent, c)), ...this.pageInfo(all, page, rest) };
  }

  /**
   * How many paths each agent's shadow changes and how many of those conflict, without building the
   * list: no sorting, no blobs read; one lookup per other shadow and path, and only the workspace
   * hashes the entries need (cached by size and mtime). Agents whose shadow changes nothing are left
   * out unless named.
   */
  summary(only?: string): ShadowCount[] {
    const agents = only === undefined ? this.agents().sort() : [only];
    const out: ShadowCount[] = [];
    for (const agentId of agents) {
      const entries = this.changed(agentId);
      if (entries.length === 0 && only === undefined) continue;
      out.push({ agentId, changes: entries.length, conflicts: entries.filter((c) => c.conflict).length });
    }
    return out;
  }

  /**
   * A page of the changes with a unified diff each against the workspace (binary files are not
   * diffed). Only the page's files are read and diffed; a patch is cut at MAX_PATCH_BYTES (or the
   * page's byte budget, if smaller), and the page ends early rather than go over its budget.
   */
  diffPage(agent: string, req: PageRequest & { maxBytes: number }): Omit<ShadowDiff, 'agentId'> {
    const { page, rest, all } = this.paged(agent, req);
    const patchLimit = Math.min(MAX_PATCH_BYTES, req.maxBytes);
    const empty = Buffer.alloc(0);
    const o = this.overlay(agent);
    const files: ShadowDiff['files'] = [];
    const taken: Changed[] = [];
    let bytes = 0;
    for (const c of page) {
      const ch = this.toChange(agent, c);
      const origin = ch.movedFrom ?? ch.path;
      const was = ch.status === 'added' ? undefined : this.base.stat(origin);
      // A symlink's content is its text, as git diffs a link.
      const before =
        was?.type === 'symlink' ? Buffer.from(was.target) : was ? (this.base.read(origin) ?? empty) : empty;
      const after = ch.hash === null ? empty : (this.store.getBlob(ch.hash) ?? empty);
      const binary = isBinary(before) || isBinary(after);
      const e = o.get(ch.path);
      const modes = modeLines(was, e?.kind === 'file' ? e : undefined);
      const full = binary
        ? null
        : unifiedDiff(
            ch.status === 'added' ? null : origin,
            ch.status === 'deleted' ? null : ch.path,
            before,
            after,
          );
      const cut = full === null ? { patch: null, truncated: false } : cutPatch(modes + full, patchLimit);
      const size = Buffer.byteLength(cut.patch ?? '') + Buffer.byteLength(ch.path);
      if (taken.length > 0 && bytes + size > req.maxBytes) break;
      bytes += size;
      taken.push(c);
      files.push({ path: ch.path, status: ch.status, conflict: ch.conflict, binary, ...cut });
    }
    return { files, patchLimit, ...this.pageInfo(all, taken, rest) };
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
