import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AgentId } from '../../protocol/index.js';
import type { AgentRegistry } from '../agents.js';
import type { AnnotationBook } from '../annotations/annotation-book.js';
import { LeaseHeld } from '../leases/lease-table.js';
import type { Logger } from '../log.js';
import type { SecurityRecorder } from '../security.js';
import { normalise, PathRejected } from '../shadow/path-safety.js';
import { ShadowError, type ShadowFiles } from '../shadow/shadow-files.js';
import type { ShadowView } from '../shadow/shadow-view.js';
import type { WorkspaceBase } from '../shadow/workspace-base.js';
import type { EventStore } from '../store/event-store.js';
import { EventsJsonl } from './events-jsonl.js';
import type { Attr, Errno, FromDaemon, HostReply, HostRequest, ToDaemon } from './fuse-protocol.js';
import { currentAttr, FsError, RO_DIR, viewAttr, viewLink, workspaceLink } from './fs-attrs.js';
import { locate, TOP, type Location } from './layout.js';

export interface FuseStatus {
  enabled: boolean;
  mounted: boolean;
  reason: string | null;
  mountPoint: string | null;
}
type FuseState = Omit<FuseStatus, 'mountPoint'>;

/**
 * Changes made through the mount do not wait for the kernel's caches to be dropped: the kernel made
 * them itself (and may hold a directory lock until they are answered).
 */
const FROM_MOUNT = { wait: false } as const;

/** LIGHTHOUSE_FUSE_CACHE_SECONDS: how long the kernel may cache names and attributes (0: not at all). */
export function cacheSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.LIGHTHOUSE_FUSE_CACHE_SECONDS ?? 10);
  return Number.isFinite(n) && n >= 0 ? n : 10;
}

/** LIGHTHOUSE_FUSE_WATCH_LIMIT: most workspace directories watched with inotify (default 4096). */
export function watchLimit(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.LIGHTHOUSE_FUSE_WATCH_LIMIT ?? 4096);
  return Number.isInteger(n) && n >= 0 ? n : 4096;
}

/** While mounting, /ready answers 503: "ready" means the view is there when it is enabled. */
export const STARTING = 'mounting';

export interface FuseHostDeps {
  store: EventStore;
  shadows: ShadowFiles;
  base: WorkspaceBase;
  annotations: AnnotationBook;
  agents: AgentRegistry;
  security: SecurityRecorder;
  log: Logger;
  daemonScript: string;
}

/**
 * The bridge's side of the FUSE mount. The daemon (its own process: a process that serves FUSE must
 * never read its own mount) forwards every file system call here over IPC; this answers from the
 * shadows, the workspace, annotations and the event log.
 */
export class FuseHost {
  private child: ChildProcess | undefined;
  private state: FuseState = { enabled: false, mounted: false, reason: 'not started' };
  private readonly jsonl: EventsJsonl;
  private readonly history = new Map<string, ShadowView>();
  private startedAt = Date.now();
  private mountPoint = '';
  /** The mount point did not exist before: it goes when the view does. */
  private madeMountPoint = false;
  private nextSync = 0;
  private readonly syncs = new Map<number, () => void>();
  /** A fire-and-forget sync is on its way; `again` when more events came meanwhile. */
  private following: { again: boolean } | undefined;

  constructor(private readonly d: FuseHostDeps) {
    this.jsonl = new EventsJsonl(d.store);
    // The daemon follows the log: after every commit it drops what the kernel caches of what changed.
    d.store.onAppended(() => this.follow());
    // A change made over HTTP is answered once the mount shows it (read-your-writes through the mount).
    d.shadows.onChanged(() => this.sync());
  }

  private follow(): void {
    if (!this.state.mounted) return;
    if (this.following) {
      this.following.again = true;
      return;
    }
    const f = (this.following = { again: false });
    void this.sync().then(() => {
      this.following = undefined;
      if (f.again) this.follow();
    });
  }

  /**
   * Resolves once the daemon has read every event committed so far and the kernel has forgotten what
   * they made stale. Never waits more than 2 s (a wedged daemon must not hang HTTP writes).
   */
  sync(): Promise<void> {
    return this.ask((id) => ({ kind: 'sync', id }), 'FUSE invalidation');
  }

  /**
   * Resolves once the writes made through the mount in `agent`'s shadow (every shadow without one)
   * are recorded. close(2) does not wait for that, so an HTTP request that may read them asks first:
   * `echo x > shadows/a/f` followed by a read over HTTP sees x. Never waits more than 2 s.
   */
  settleWrites(agent?: string): Promise<void> {
    return this.ask((id) => ({ kind: 'settle', id, agent }), 'recording writes made through FUSE');
  }

  private ask(msg: (id: number) => ToDaemon, what: string): Promise<void> {
    const child = this.child;
    if (!this.state.mounted || !child?.connected) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const id = ++this.nextSync;
      const timer = setTimeout(() => {
        this.syncs.delete(id);
        this.d.log.warn(`${what} took more than 2 s`, { id });
        resolve();
      }, 2000);
      this.syncs.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      child.send(msg(id));
    });
  }

  /** Inode numbers of mount paths for the daemon, which must not look at its own mount. */
  private async probe(id: number, paths: string[]): Promise<void> {
    const inos = await Promise.all(
      paths.map((p) =>
        fs.promises.lstat(path.join(this.mountPoint, p)).then(
          (s) => s.ino,
          () => null,
        ),
      ),
    );
    if (this.child?.connected) this.child.send({ kind: 'probed', id, inos } satisfies ToDaemon);
  }

  get status(): FuseStatus {
    return { ...this.state, mountPoint: this.mountPoint || null };
  }

  /** Mounts at `mountPoint`; on any failure the bridge keeps running and the status says why. */
  async start(mountPoint: string, timeoutMs = 10_000): Promise<FuseStatus> {
    this.startedAt = Date.now();
    this.mountPoint = path.resolve(mountPoint);
    this.state = { enabled: true, mounted: false, reason: STARTING };
    if (!fs.existsSync('/dev/fuse')) {
      this.state = {
        enabled: false,
        mounted: false,
        reason: '/dev/fuse is missing (in a container: --device /dev/fuse)',
      };
      return this.status;
    }
    clearStaleMount(mountPoint, this.d.log);
    try {
      this.madeMountPoint = fs.mkdirSync(mountPoint, { recursive: true }) !== undefined;
    } catch (e) {
      this.state = {
        enabled: false,
        mounted: false,
        reason: `cannot create ${mountPoint}: ${(e as Error).message}`,
      };
      return this.status;
    }
    const child = fork(this.d.daemonScript, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    const outcome = await new Promise<FuseState>((resolve) => {
      const timer = setTimeout(
        () => resolve({ enabled: false, mounted: false, reason: `mount timed out after ${timeoutMs} ms` }),
        timeoutMs,
      );
      child.on('message', (m: FromDaemon) => {
        if (m.kind === 'request') void this.serve(m.id, m.req);
        else if (m.kind === 'probe') void this.probe(m.id, m.paths);
        else if (m.kind === 'synced') {
          const done = this.syncs.get(m.id);
          this.syncs.delete(m.id);
          done?.();
        } else if (m.kind === 'mounted') {
          clearTimeout(timer);
          resolve({ enabled: true, mounted: true, reason: null });
        } else if (m.kind === 'mount-failed') {
          clearTimeout(timer);
          resolve({ enabled: false, mounted: false, reason: `mount failed: ${m.message}` });
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ enabled: false, mounted: false, reason: `FUSE daemon exited (${code ?? signal})` });
      });
      child.send({
        kind: 'mount',
        mountPoint,
        dbFile: this.d.store.file,
        workspace: this.d.base.root,
        hidden: [...this.d.base.hidden],
        cacheSeconds: cacheSeconds(),
        watchLimit: watchLimit(),
      } satisfies ToDaemon);
    });
    this.state = outcome;
    child.on('exit', (code, signal) => {
      if (this.state.mounted) {
        this.state = { enabled: false, mounted: false, reason: `FUSE daemon exited (${code ?? signal})` };
        clearStaleMount(mountPoint, this.d.log);
        this.d.log.error('FUSE daemon exited', { code, signal });
      }
    });
    if (!outcome.mounted) {
      child.kill('SIGKILL');
      this.d.log.warn('FUSE disabled', { reason: outcome.reason });
    } else {
      this.d.log.info('FUSE mounted', { mountPoint });
    }
    return this.status;
  }

  /** Unmounts cleanly; a daemon that does not answer is killed and the mount lazily detached. */
  async stop(mountPoint: string): Promise<void> {
    const child = this.child;
    // A daemon killed by a signal (as after a failed mount) has no exit code, only a signal.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    this.state = { enabled: false, mounted: false, reason: 'bridge stopped' };
    // A daemon that got the same signal may already be leaving on its own.
    if (child.connected) child.send({ kind: 'unmount' } satisfies ToDaemon);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    clearStaleMount(mountPoint, this.d.log);
    if (this.madeMountPoint) {
      try {
        fs.rmdirSync(mountPoint); // empty once unmounted; never anything else
      } catch {
        // still mounted (detached lazily) or not empty: left as it is
      }
    }
  }

  private async serve(id: number, req: HostRequest): Promise<void> {
    let reply: HostReply;
    try {
      reply = { ok: true, ...(await this.handle(req)) };
    } catch (e) {
      reply = { ok: false, ...this.errno(e, req) };
    }
    this.child?.send({ kind: 'reply', id, reply } satisfies ToDaemon);
  }

  private errno(e: unknown, req: HostRequest): { errno: Errno; message: string } {
    if (e instanceof FsError) return { errno: e.errno, message: e.message };
    if (e instanceof ShadowError) {
      return { errno: e.code, message: e.message };
    }
    if (e instanceof LeaseHeld) return { errno: 'EACCES', message: e.message };
    if (e instanceof PathRejected) {
      this.d.security.record('path_rejected', { route: 'fuse', reason: e.why, path: e.input.slice(0, 300) });
      return { errno: 'EACCES', message: e.message };
    }
    this.d.log.error('FUSE request failed', { op: req.op, err: e });
    return { errno: 'EIO', message: (e as Error).message };
  }

  private knownAgents(): string[] {
    return [...new Set([...this.d.shadows.agents(), ...this.d.agents.list().map((a) => a.agentId)])].sort();
  }

  private agent(name: string | null): string {
    // A membership check: this runs on every call under shadows/ and history/.
    if (
      name === null ||
      !AgentId.safeParse(name).success ||
      !(this.d.shadows.has(name) || this.d.agents.knows(name))
    ) {
      throw new FsError('ENOENT', `no agent ${name}`);
    }
    return name;
  }

  private historical(agent: string, seq: number): ShadowView {
    const key = `${agent}@${seq}`;
    let v = this.history.get(key);
    if (!v) {
      v = this.d.shadows.view(agent, seq);
      if (this.history.size > 64) this.history.delete(this.history.keys().next().value!);
      this.history.set(key, v);
    }
    return v;
  }

  /** The view and relative path a shadow or history location reads from. */
  private shadowView(
    loc: Location,
  ): { view: ShadowView; rel: string; writable: boolean; agent: string } | undefined {
    if (loc.area === 'shadows' && loc.agent !== null) {
      const agent = this.agent(loc.agent);
      return { view: this.d.shadows.view(agent), rel: normalise(loc.rel, true), writable: true, agent };
    }
    if (loc.area === 'history' && loc.seq !== null && loc.agent !== null) {
      if (loc.seq > this.d.store.lastSeq) throw new FsError('ENOENT', `no event ${loc.seq} yet`);
      const agent = this.agent(loc.agent);
      return { view: this.historical(agent, loc.seq), rel: normalise(loc.rel, true), writable: false, agent };
    }
    return undefined;
  }

  private contextTree(): Map<string, string[]> {
    const files = new Map<string, string[]>();
    // Annotations on the bridge's own state (anyone may annotate any path) show no more than it does.
    for (const a of this.d.annotations.list())
      if (!this.d.base.isHidden(a.path)) files.set(`${a.path}.json`, []);
    return files;
  }

  private async handle(req: HostRequest): Promise<Omit<Extract<HostReply, { ok: true }>, 'ok'>> {
    switch (req.op) {
      case 'getattr':
        return { attr: this.getattr(req.path) };
      case 'readdir':
        return { names: this.readdir(req.path) };
      case 'read':
        return { data: this.read(req.path, req.offset, req.length) };
      case 'checkWritable': {
        // A lease is checked at the first write(2) too: the write is recorded after close(2)
        // returned, when nobody could be told it was refused.
        const w = this.writable(req.path);
        this.d.shadows.checkWritable(w.agent, w.rel);
        return {};
      }
      case 'writeFile': {
        const w = this.writable(req.path);
        await this.d.shadows.write(
          w.agent,
          w.rel,
          Buffer.from(req.data.buffer, req.data.byteOffset, req.data.byteLength),
          undefined,
          { ...FROM_MOUNT, mode: req.mode },
        );
        return {};
      }
      case 'readlink':
        return { target: this.readlink(req.path) };
      case 'symlink': {
        const w = this.writable(req.path);
        await this.d.shadows.symlink(w.agent, w.rel, req.target, FROM_MOUNT);
        return {};
      }
      case 'chmod': {
        const loc = locate(req.path);
        // Outside a shadow (current/, the agent directories themselves): accepted and kept as it
        // was, as before; the kernel already refused a caller who is not the owner.
        if (loc.area !== 'shadows' || loc.agent === null || loc.rel === '') {
          this.getattr(req.path);
          return {};
        }
        const w = this.writable(req.path);
        await this.d.shadows.chmod(w.agent, w.rel, req.mode, FROM_MOUNT);
        return {};
      }
      case 'writeMany': {
        // Each file is checked on its own; a refused one is reported, the others recorded.
        const failed: { path: string; errno: Errno; message: string }[] = [];
        const byAgent = new Map<string, { path: string; rel: string; data: Buffer; mode?: number }[]>();
        for (const f of req.files) {
          try {
            const w = this.writable(f.path);
            const data = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);
            const list = byAgent.get(w.agent) ?? [];
            byAgent.set(w.agent, list);
            list.push({ path: f.path, rel: w.rel, data, ...(f.mode === undefined ? {} : { mode: f.mode }) });
          } catch (e) {
            failed.push({ path: f.path, ...this.errno(e, req) });
          }
        }
        for (const [agent, list] of byAgent) {
          const refused = await this.d.shadows.writeMany(agent, list, FROM_MOUNT);
          for (const r of refused)
            failed.push({ path: list.find((f) => f.rel === r.rel)!.path, ...this.errno(r.error, req) });
        }
        return { failed };
      }
      case 'unlink': {
        const w = this.writable(req.path);
        await this.d.shadows.delete(w.agent, w.rel, FROM_MOUNT);
        return {};
      }
      case 'mkdir': {
        const w = this.writable(req.path);
        await this.d.shadows.mkdir(w.agent, w.rel, FROM_MOUNT);
        return {};
      }
      case 'rmdir': {
        const w = this.writable(req.path);
        await this.d.shadows.rmdir(w.agent, w.rel, FROM_MOUNT);
        return {};
      }
      case 'rename': {
        const a = this.writable(req.from);
        const b = this.writable(req.to);
        if (a.agent !== b.agent) throw new FsError('EXDEV', 'rename across shadows');
        const source = this.d.shadows.node(a.agent, a.rel);
        const target = this.d.shadows.node(b.agent, b.rel);
        if (source?.type !== 'dir' && target?.type === 'dir')
          throw new FsError('EISDIR', `${b.rel} is a directory`);
        await this.d.shadows.move(a.agent, a.rel, b.rel, FROM_MOUNT);
        return {};
      }
    }
  }

  private readlink(p: string): string {
    const loc = locate(p);
    if (loc.area === 'current') return workspaceLink(this.d.base, normalise(loc.rel, true));
    if (loc.area === 'shadows' || loc.area === 'history') return viewLink(this.shadowView(loc) ?? null);
    throw new FsError('EINVAL', `${p} is not a symlink`);
  }

  private writable(p: string): { agent: string; rel: string } {
    const loc = locate(p);
    if (loc.area !== 'shadows' || loc.agent === null || loc.rel === '') {
      throw new FsError('EROFS', `${p} is read-only: only files under shadows/<agent>/ can change`);
    }
    return { agent: this.agent(loc.agent), rel: normalise(loc.rel) };
  }

  private getattr(p: string): Attr {
    const loc = locate(p);
    const t = this.startedAt;
    switch (loc.area) {
      case 'root':
        return { ...RO_DIR, mtimeMs: t };
      case 'none':
        throw new FsError('ENOENT', `no ${p}`);
      case 'current':
        return currentAttr(this.d.base, normalise(loc.rel, true), t);
      case 'shadows':
      case 'history':
        return viewAttr(loc.area, this.shadowView(loc) ?? null, t);
      case 'context': {
        if (loc.rel === '') return { ...RO_DIR, mtimeMs: t };
        const rel = normalise(loc.rel);
        const files = [...this.contextTree().keys()];
        if (files.includes(rel))
          return { type: 'file', size: this.contextFile(rel).length, perm: 0o444, mtimeMs: t };
        if (files.some((f) => f.startsWith(rel + '/'))) return { ...RO_DIR, mtimeMs: t };
        throw new FsError('ENOENT', `no annotations at ${rel}`);
      }
      case 'streams':
        if (loc.rel === '') return { ...RO_DIR, mtimeMs: t };
        if (loc.rel === 'events.jsonl')
          return { type: 'file', size: this.jsonl.size(), perm: 0o444, mtimeMs: Date.now() };
        throw new FsError('ENOENT', `no ${p}`);
    }
  }

  private readdir(p: string): string[] {
    const loc = locate(p);
    const attr = this.getattr(p);
    if (attr.type !== 'dir') throw new FsError('ENOTDIR', `${p} is not a directory`);
    switch (loc.area) {
      case 'root':
        return TOP;
      case 'current':
        return [...this.d.base.list(normalise(loc.rel, true)).keys()].sort();
      case 'shadows':
      case 'history': {
        const sv = this.shadowView(loc);
        if (sv) return sv.view.list(sv.rel).map((e) => e.name);
        if (loc.area === 'shadows' || (loc.area === 'history' && loc.seq !== null)) return this.knownAgents();
        return this.recentSeqs();
      }
      case 'context': {
        const prefix = loc.rel === '' ? '' : normalise(loc.rel) + '/';
        const names = new Set<string>();
        for (const f of this.contextTree().keys())
          if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0]!);
        return [...names].sort();
      }
      case 'streams':
        return ['events.jsonl'];
      case 'none':
        return [];
    }
  }

  /** history/ lists the seqs at which some shadow changed (the newest 200). */
  private recentSeqs(): string[] {
    const page = this.d.store.query({ types: ['shadow.*'], order: 'desc', limit: 200 });
    return page.events.map((e) => String(e.seq)).reverse();
  }

  private contextFile(rel: string): Buffer {
    const target = rel.slice(0, -'.json'.length);
    return Buffer.from(JSON.stringify(this.d.annotations.list(target), null, 2) + '\n');
  }

  private read(p: string, offset: number, length: number): Uint8Array {
    const loc = locate(p);
    let data: Buffer;
    switch (loc.area) {
      case 'current': {
        const rel = normalise(loc.rel);
        const d = this.d.base.readRange(rel, offset, length);
        if (!d)
          throw new FsError(
            this.d.base.stat(rel)?.type === 'dir' ? 'EISDIR' : 'ENOENT',
            `cannot read ${rel}`,
          );
        return d;
      }
      case 'shadows':
      case 'history': {
        const sv = this.shadowView(loc);
        if (!sv) throw new FsError('EISDIR', `${p} is a directory`);
        return sv.view.readRange(sv.rel, offset, length);
      }
      case 'context':
        data = this.contextFile(normalise(loc.rel));
        break;
      case 'streams':
        if (loc.rel !== 'events.jsonl') throw new FsError('ENOENT', `no ${p}`);
        return this.jsonl.read(offset, length);
      default:
        throw new FsError('EISDIR', `${p} is a directory`);
    }
    return data.subarray(offset, offset + length);
  }
}

/** A mount left by a crashed daemon answers ENOTCONN; detach it so the next mount can happen. */
export function clearStaleMount(mountPoint: string, log: Logger): void {
  const mounted = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === path.resolve(mountPoint).replace(/ /g, '\\040'));
  if (!mounted) return;
  for (const [cmd, args] of [
    ['fusermount', ['-uz', mountPoint]],
    ['fusermount3', ['-uz', mountPoint]],
    ['umount', ['-l', mountPoint]],
  ] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: 'ignore' });
      log.info('cleared a stale FUSE mount', { mountPoint, with: cmd });
      return;
    } catch {
      // try the next way
    }
  }
  log.warn('could not clear a stale FUSE mount', { mountPoint });
}
