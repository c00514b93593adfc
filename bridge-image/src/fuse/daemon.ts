/**
 * The FUSE daemon: its own process, so that nothing serving the mount ever reads it. Lookups, stat,
 * readdir and reads of current/, shadows/ and history/ are answered here, from the daemon's own
 * read-only connection to the event store and the workspace directory; changes (and context/,
 * streams/) go to the bridge over IPC. Writes are gathered per path and recorded as one
 * shadow.written event, not one per write(2) (see `Pending`).
 *
 * The kernel may cache names, attributes and pages (LIGHTHOUSE_FUSE_CACHE_SECONDS); the daemon
 * follows the event log and the workspace and drops what went stale (see invalidation.ts). With
 * caching on, neither opening nor closing a file reaches this process (see `ops.open`).
 * Bundled as bridge-image/dist/fuse-daemon.js.
 */
import { closeSync, fstatSync, readFileSync, readSync, realpathSync, write } from 'node:fs';
import path from 'node:path';
import Fuse from 'fuse-native';
import { PathRejected, within } from '../shadow/path-safety.js';
import { ShadowError } from '../shadow/shadow-errors.js';
import { WorkspaceBase } from '../shadow/workspace-base.js';
import { BaseWatcher } from './base-watcher.js';
import type {
  Attr,
  Errno,
  FromDaemon,
  HostReply,
  HostRequest,
  MountRequest,
  ToDaemon,
} from './fuse-protocol.js';
import { ChangeTracker, findFuseFd, messages, pathsToProbe, Targets } from './invalidation.js';
import { FsError } from './fs-attrs.js';
import { KeptTimes } from './kept-times.js';
import { LocalFs, type ReadSource } from './local-fs.js';
import { PrivateLayer, type TrackedSide } from './private-layer.js';
import { StoreReader } from './store-reader.js';

const send = (m: FromDaemon) => process.send!(m);
let nextId = 0;
const pending = new Map<number, (r: HostReply) => void>();

function ask(req: HostRequest): Promise<HostReply> {
  return new Promise((resolve) => {
    const id = ++nextId;
    pending.set(id, resolve);
    send({ kind: 'request', id, req });
  });
}

const code = (errno: Errno): number => (Fuse as unknown as Record<string, number>)[errno] ?? Fuse.EIO;
const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000 } as const;

function stat(a: Attr) {
  const t = new Date(a.mtimeMs);
  return {
    mtime: t,
    atime: t,
    ctime: t,
    nlink: a.type === 'dir' ? 2 : 1,
    size: a.size,
    mode: TYPE_BITS[a.type] | a.perm,
    uid,
    gid,
  };
}

/**
 * Modification times set with utimens(2) (touch -d, tar, cp -p, make's own stamps), by mount path:
 * kept by this process and shown by stat, not recorded as events. A time is no reviewable change
 * (apply does not carry it, a diff cannot show it), and `tar -x` or `npm install` set one on every
 * file they write: as events they would flood the log. `over` is the mtime the shadow itself had
 * when the time was set: once the file changes (a write, an HTTP write) the shadow's time differs
 * and the one set is forgotten, as a write updates the mtime on any file system; null: not known yet
 * (a renamed file, whose shadow time the rename's event sets). Kept in the data directory across
 * restarts (kept-times.ts).
 */
const times = new KeptTimes();

/** `attr` with the time set by utimens(2), while the shadow has not changed the file since. */
function timed(path: string, attr: Attr): Attr {
  const t = times.get(path);
  if (!t) return attr;
  if (t.over === null) t.over = attr.mtimeMs;
  else if (t.over !== attr.mtimeMs) {
    times.delete(path);
    return attr;
  }
  return { ...attr, mtimeMs: t.mtimeMs };
}

/**
 * Writes gathered for one path since its first write(2). The kernel opens and closes files without
 * telling this process (see `ops.open`), so closing records nothing by itself. They are recorded as
 * one event when the first of these comes: the release of a file created through the mount (the
 * kernel still reports those), fsync(2), IDLE_MS without a write to the path (MAX_UNRECORDED_MS
 * for a path written without a pause), a change through the mount that involves the path (rename,
 * unlink), an HTTP request of the bridge that may read the shadow or another agent's lease request
 * (`settle`), or unmounting. Until then reads and stat through the mount are served from the buffer.
 * Opening a read-only part for writing succeeds; the first write fails with EROFS.
 */
interface Pending {
  buf: Buffer;
  dirty: boolean;
  /** Counts writes, so that a flush knows whether more came while it was being recorded. */
  edits: number;
  /** When the last write landed: what stat says until it is recorded (git, make compare it). */
  writtenMs?: number;
  /** Records the writes once the path has been left alone for IDLE_MS. */
  idle?: NodeJS.Timeout;
  /** When the first write not yet handed to a record landed (see MAX_UNRECORDED_MS). */
  since?: number;
  /** The record on its way and how many edits it holds: asking again for those joins it. */
  recording?: { edits: number; done: Promise<number> };
  /**
   * Created through the mount and not recorded yet: it exists only here (see `fresh`), with the
   * mode it was created with (the kernel has applied the umask).
   */
  fresh?: { mtimeMs: number; mode: number };
}
/**
 * Long enough that a program writing a file in pieces (cp, a compiler) gives one event; short enough
 * that the event log and the store hold the change soon after the writer is done, and that a crash of
 * the bridge loses at most this much of what was closed but never fsync'd (a native file system's
 * page cache risks seconds of it).
 */
const IDLE_MS = 500;
/**
 * A program that keeps writing (a build log, `cmd > file` running for minutes) never pauses for
 * IDLE_MS: its writes are recorded at least this often all the same, so the store and a crash lose
 * no more than this much of them.
 */
const MAX_UNRECORDED_MS = 5000;
const writing = new Map<string, Pending>();
const starting = new Map<string, Promise<Pending | number>>();

/** A file being written: its size is the buffer's until the change is recorded and read back. */
/** What stat says of a file being written, over what the view says: its buffer's size and time. */
function dirtyAttr(path: string, attr: Attr): Attr {
  const w = writing.get(path);
  if (!w) return attr;
  return { ...attr, size: w.buf.length, ...(w.writtenMs === undefined ? {} : { mtimeMs: w.writtenMs }) };
}

let localFs: LocalFs | undefined;
let reader: StoreReader | undefined;
let base: WorkspaceBase | undefined;

/**
 * Where reads of a path go, remembered until anything changes (`generation`); workspace files keep
 * their descriptor meanwhile.
 */
let generation = 0;
/**
 * Attributes answered before, until anything changes (or the kernel's own cache time passes: the
 * workspace beyond the inotify limit). The kernel asks again after every read (for the atime).
 */
const attrMemo = new Map<string, { attr: Attr | number; generation: number; until: number }>();
let memoMs = 0;
/** Whether the kernel may keep pages across opens: caching is on and stale pages can be dropped. */
let caching = false;
const keepPages = () => caching && localFs !== undefined && tracker !== undefined && fuseFd !== undefined;
/**
 * The size and mtime last answered for each file. The kernel keeps a file's pages until told
 * otherwise, and drops them by itself only when it sees the size change: a workspace file edited
 * where no inotify watch sees it (beyond LIGHTHOUSE_FUSE_WATCH_LIMIT) would be read stale for as
 * long as the pages stay. Its attributes are asked for again once the kernel's cache time passes;
 * an answer that differs without a change having been noted drops the file's pages.
 */
const answered = new Map<string, { size: number; mtimeMs: number }>();

function noteAnswer(path: string, attr: Attr): void {
  if (attr.type !== 'file' || !tracker) return;
  const prev = answered.get(path);
  if (answered.size >= 200_000) answered.clear();
  answered.set(path, { size: attr.size, mtimeMs: attr.mtimeMs });
  if (!prev || (prev.size === attr.size && prev.mtimeMs === attr.mtimeMs)) return;
  if (tracker.targets.inodes.has(path)) return;
  const s = sources.get(path);
  if (s) {
    // Possibly a descriptor of the file the path named before (replaced by a rename).
    sources.delete(path);
    if (s.source.kind === 'fd') closeSync(s.source.fd);
  }
  tracker.targets.inodes.add(path);
  void invalidatePending();
}
const sources = new Map<string, { source: ReadSource; generation: number }>();
function forgetSources(): void {
  for (const { source } of sources.values()) if (source.kind === 'fd') closeSync(source.fd);
  sources.clear();
}
function sourceOf(path: string): ReturnType<typeof local<ReadSource>> {
  const hit = sources.get(path);
  if (hit && hit.generation === generation) return { v: hit.source };
  if (hit) {
    sources.delete(path);
    if (hit.source.kind === 'fd') closeSync(hit.source.fd);
  }
  const l = local((f) => f.openRead(path));
  if (l && !('errno' in l)) {
    if (sources.size >= 64) {
      const [oldest, o] = sources.entries().next().value!;
      sources.delete(oldest);
      if (o.source.kind === 'fd') closeSync(o.source.fd);
    }
    sources.set(path, { source: l.v, generation });
  }
  return l;
}

async function load(path: string): Promise<Buffer> {
  const l = sourceOf(path);
  if (l && !('errno' in l)) {
    const src = l.v;
    if (src.kind === 'blob') return Buffer.from(localFs!.readBlob(src.hash, 0, src.size));
    const size = fstatSync(src.fd).size;
    const buf = Buffer.alloc(size);
    let n = 0;
    while (n < size) {
      const got = readSync(src.fd, buf, n, size - n, n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  }
  const r = await ask({ op: 'getattr', path });
  if (!r.ok) return Buffer.alloc(0);
  const size = r.attr!.size;
  const d = await ask({ op: 'read', path, offset: 0, length: size });
  return d.ok ? Buffer.from(d.data!) : Buffer.alloc(0);
}

/** The write buffer of `path`, started at its first write: checked writable, loaded with its content. */
function startWriting(path: string, truncated: boolean): Promise<Pending | number> {
  const w = writing.get(path);
  if (w) return Promise.resolve(w);
  let p = starting.get(path);
  if (!p) {
    p = (async () => {
      const r = await ask({ op: 'checkWritable', path });
      if (!r.ok) return code(r.errno);
      const next: Pending = {
        buf: truncated ? Buffer.alloc(0) : await load(path),
        dirty: truncated,
        edits: 0,
      };
      writing.set(path, next);
      return next;
    })().finally(() => starting.delete(path));
    starting.set(path, p);
  }
  return p;
}

function flushPath(path: string): Promise<number> {
  const w = writing.get(path);
  if (!w) return Promise.resolve(0);
  clearTimeout(w.idle);
  if (!w.dirty && !w.fresh) {
    writing.delete(path);
    return Promise.resolve(0);
  }
  if (w.recording?.edits === w.edits) return w.recording.done;
  // The buffer stays the truth for this path until the change is recorded and this daemon's view
  // shows it: a stat meanwhile must not see the old size (and the kernel cache it).
  const mark = w.edits;
  w.since = undefined;
  const done = recordWrite(path, w.buf, w.fresh?.mode).then((r) => {
    if (writing.get(path) === w && w.edits === mark) writing.delete(path);
    if (r.ok) return 0;
    // Recorded at release, rename or shutdown, nobody is left to hear of a failure: say it here.
    process.stderr.write(`fuse: recording ${path} failed: ${r.message}\n`);
    return code(r.errno);
  });
  w.recording = { edits: mark, done };
  return done;
}

/**
 * Files to record, gathered while a record is on its way: a burst of files (a build's output, an
 * unpacked archive) becomes a few appends of many events each instead of one round trip and one
 * append per file, while a lone file is sent at once.
 */
let batch: { path: string; data: Buffer; mode: number | undefined; done: (r: HostReply) => void }[] = [];
let batchSending = false;

/** `mode`: of a file created through the mount; else the file keeps its own. */
function recordWrite(path: string, data: Buffer, mode: number | undefined): Promise<HostReply> {
  return new Promise((resolve) => {
    batch.push({ path, data, mode, done: resolve });
    if (!batchSending) sendBatch();
  });
}

function sendBatch(): void {
  const files = batch;
  batch = [];
  if (files.length === 0) {
    batchSending = false;
    return;
  }
  batchSending = true;
  const file = (f: (typeof files)[number]) => ({
    path: f.path,
    data: f.data,
    ...(f.mode === undefined ? {} : { mode: f.mode }),
  });
  const req: HostRequest =
    files.length === 1
      ? { op: 'writeFile', ...file(files[0]!) }
      : { op: 'writeMany', files: files.map(file) };
  void change(req).then((r) => {
    const failed = new Map((r.ok ? (r.failed ?? []) : []).map((f) => [f.path, f]));
    for (const f of files) {
      const x = failed.get(f.path);
      f.done(!r.ok ? r : x ? { ok: false, errno: x.errno, message: x.message } : { ok: true });
    }
    sendBatch();
  });
}

/** A file created through the mount and not recorded yet, as stat shows it. */
function fresh(path: string): Attr | undefined {
  const w = writing.get(path);
  if (!w?.fresh) return undefined;
  return { type: 'file', size: w.buf.length, perm: w.fresh.mode, mtimeMs: w.writtenMs ?? w.fresh.mtimeMs };
}

/** Records what was written to `path` or below it (a directory about to move). */
function flushUnder(path: string): Promise<unknown> {
  return Promise.all(
    [...writing.keys()].filter((p) => p === path || p.startsWith(path + '/')).map((p) => flushPath(p)),
  );
}

/**
 * A write landed in `w`: the path is dirty, and recorded unless written again within IDLE_MS, or at
 * once when its first unrecorded write is MAX_UNRECORDED_MS old.
 */
function edited(path: string, w: Pending): void {
  w.dirty = true;
  w.edits++;
  clearTimeout(w.idle);
  const now = Date.now();
  w.writtenMs = now;
  w.since ??= now;
  if (now - w.since >= MAX_UNRECORDED_MS) void flushPath(path);
  else w.idle = setTimeout(() => void flushPath(path), IDLE_MS);
}

/** A change made through the mount: once the bridge recorded it, this daemon's view must show it. */
async function change(req: HostRequest): Promise<HostReply> {
  const r = await ask(req);
  if (r.ok) {
    catchUp();
    void invalidatePending();
  }
  return r;
}

function resize(path: string, w: Pending, size: number): void {
  const next = Buffer.alloc(size);
  w.buf.copy(next, 0, 0, Math.min(size, w.buf.length));
  w.buf = next;
  edited(path, w);
}

/** Runs a local answer: a value, an errno, or undefined when the bridge must answer instead. */
function local<T>(fn: (l: LocalFs) => T | undefined): { v: T } | { errno: number } | undefined {
  if (!localFs) return undefined;
  try {
    const v = fn(localFs);
    return v === undefined ? undefined : { v };
  } catch (e) {
    if (e instanceof FsError) return { errno: code(e.errno) };
    if (e instanceof ShadowError) return { errno: code(e.code) };
    // Refused paths are the bridge's to record as security events; it answers them.
    if (e instanceof PathRejected) return undefined;
    const c = (e as NodeJS.ErrnoException).code;
    if (c === 'ENOENT' || c === 'ENOTDIR' || c === 'EACCES' || c === 'EISDIR') return { errno: code(c) };
    process.stderr.write(`fuse: local answer failed: ${(e as Error).stack ?? String(e)}\n`);
    return undefined;
  }
}

/**
 * truncate(2), ftruncate(2) and open(O_TRUNC) are gathered with the writes that follow, like any
 * write: `echo new > f` reaches this process as truncate(f, 0) and then a write (the kernel does
 * not say that the truncate comes from an open), and recording the truncate at once would put an
 * empty version of f in the log before the new one. A truncate with nothing after it is recorded
 * like a write, IDLE_MS later or when anything asks for it (see `Pending`).
 */
function truncatePath(path: string, size: number, cb: Fuse.Cb): void {
  const w = writing.get(path);
  if (w) {
    resize(path, w, size);
    return cb(0);
  }
  void startWriting(path, size === 0).then((r) => {
    if (typeof r === 'number') return cb(r);
    if (r.buf.length !== size || size === 0) resize(path, r, size);
    cb(0);
  });
}

const ops: Fuse.OPERATIONS = {
  getattr: (path, cb) => {
    const born = fresh(path);
    if (born) return cb(0, stat(timed(path, born)));
    const answer = (found: Attr) => cb(0, stat(dirtyAttr(path, timed(path, found))));
    const hit = attrMemo.get(path);
    if (hit && hit.generation === generation && hit.until > Date.now())
      return typeof hit.attr === 'number' ? cb(hit.attr) : answer(hit.attr);
    const l = local((f) => f.getattr(path));
    if (l) {
      if (attrMemo.size >= 100_000) attrMemo.clear();
      attrMemo.set(path, { attr: 'errno' in l ? l.errno : l.v, generation, until: Date.now() + memoMs });
      if ('errno' in l) return cb(l.errno);
      noteAnswer(path, l.v);
      return answer(l.v);
    }
    void ask({ op: 'getattr', path }).then((r) => (r.ok ? answer(r.attr!) : cb(code(r.errno))));
  },
  readdir: (path, cb) => {
    const l = local((f) => f.readdir(path));
    if (l) {
      if ('errno' in l) return cb(l.errno);
      // Files created here and not recorded yet are listed too.
      const listed = new Set(l.v.names);
      for (const p of writing.keys()) {
        const a = p.startsWith(path + '/') && !p.includes('/', path.length + 1) ? fresh(p) : undefined;
        const name = p.slice(path.length + 1);
        if (!a || listed.has(name)) continue;
        l.v.names.push(name);
        l.v.attrs.push(a);
      }
      const dir = path === '/' ? '' : path;
      const attrs =
        times.size === 0 ? l.v.attrs : l.v.attrs.map((a, i) => timed(`${dir}/${l.v.names[i]}`, a));
      return cb(0, l.v.names, attrs.map(stat));
    }
    void ask({ op: 'readdir', path }).then((r) => (r.ok ? cb(0, r.names!) : cb(code(r.errno))));
  },
  create: (path, mode, cb) => {
    void ask({ op: 'checkWritable', path }).then((r) => {
      if (!r.ok) return cb(code(r.errno));
      // The file exists for the kernel's next lookup from here on (`fresh`); it is recorded with
      // its content and the mode it was created with, as one event, when it is released, fsync'd
      // or left alone (see `Pending`).
      const w: Pending = {
        buf: Buffer.alloc(0),
        dirty: true,
        edits: 0,
        fresh: { mtimeMs: Date.now(), mode: mode & 0o777 },
      };
      writing.set(path, w);
      w.idle = setTimeout(() => void flushPath(path), IDLE_MS);
      cb(0, 0);
    });
  },
  read: (path, _fd, buffer, length, position, cb) => {
    const w = writing.get(path);
    if (w) {
      const part = w.buf.subarray(position, position + length);
      part.copy(buffer);
      return cb(part.length);
    }
    const l = sourceOf(path);
    if (l) {
      if ('errno' in l) return cb(l.errno);
      try {
        const src = l.v;
        if (src.kind === 'fd') return cb(readSync(src.fd, buffer, 0, length, position));
        const part = localFs!.readBlob(src.hash, position, length);
        part.copy(buffer);
        return cb(part.length);
      } catch (e) {
        process.stderr.write(`fuse: read failed: ${(e as Error).message}\n`);
        return cb(Fuse.EIO);
      }
    }
    void ask({ op: 'read', path, offset: position, length }).then((r) => {
      if (!r.ok) return cb(code(r.errno));
      const d = Buffer.from(r.data!);
      d.copy(buffer);
      cb(d.length);
    });
  },
  write: (path, _fd, buffer, length, position, cb) => {
    const put = (w: Pending, data: Buffer) => {
      const end = position + length;
      if (end > w.buf.length) {
        const grown = Buffer.alloc(end);
        w.buf.copy(grown);
        w.buf = grown;
      }
      data.copy(w.buf, position);
      edited(path, w);
      cb(length);
    };
    const w = writing.get(path);
    if (w) return put(w, buffer.subarray(0, length));
    // The buffer must not be kept past this call: copy what is written before waiting.
    const data = Buffer.from(buffer.subarray(0, length));
    void startWriting(path, false).then((r) => (typeof r === 'number' ? cb(r) : put(r, data)));
  },
  truncate: (path, size, cb) => truncatePath(path, size, cb),
  ftruncate: (path, _fd, size, cb) => truncatePath(path, size, cb),
  // No flush op: libfuse answers FLUSH with ENOSYS, and the kernel then stops sending it, so close(2)
  // never waits for this process (a round trip of ~100 µs per close, a third of a cached 1 MB read).
  /**
   * Answered ENOSYS once, Linux opens every file of the mount from then on without asking (and
   * releases none of them), keeping the pages it cached: reading a cached file costs no round trip
   * at all. That is right only while the daemon drops what goes stale (invalidation.ts); without
   * caching or invalidation each open is answered, and libfuse drops the pages when the attributes
   * changed (auto_cache) or at every open (caching off).
   */
  open: (_path, _flags, cb) => cb(keepPages() ? Fuse.ENOSYS : 0),
  // Only files created through the mount (and the very first one opened) are released: the only
  // close the daemon hears of.
  release: (path, _fd, cb) => {
    cb(0);
    if (writing.has(path)) void flushPath(path);
  },
  fsync: (path, _fd, _datasync, cb) => {
    if (!writing.has(path)) return cb(0);
    void flushPath(path).then(cb);
  },
  unlink: (path, cb) => {
    // What was written to a file that goes away goes with it, as on any file system.
    const w = writing.get(path);
    if (w) {
      clearTimeout(w.idle);
      writing.delete(path);
      // Never recorded: it goes as it came, without the bridge hearing of it.
      if (w.fresh && !w.recording) return cb(0);
    }
    // A record still on its way lands first, or the file would come back after it is unlinked.
    void (w?.recording?.done ?? Promise.resolve())
      .then(() => change({ op: 'unlink', path }))
      .then((r) => cb(r.ok ? 0 : code(r.errno)));
  },
  mkdir: (path, _mode, cb) => void change({ op: 'mkdir', path }).then((r) => cb(r.ok ? 0 : code(r.errno))),
  rmdir: (path, cb) =>
    void flushUnder(path)
      .then(() => change({ op: 'rmdir', path }))
      .then((r) => cb(r.ok ? 0 : code(r.errno))),
  // The writes gathered on either side are recorded first: they belong to what moves (or is replaced).
  rename: (src, dest, cb) =>
    void Promise.all([flushUnder(src), flushUnder(dest)])
      .then(() => change({ op: 'rename', from: src, to: dest }))
      .then((r) => {
        if (r.ok) {
          // rename(2) keeps the file's times.
          const t = times.get(src);
          times.delete(src);
          if (t) times.set(dest, { mtimeMs: t.mtimeMs, over: null });
          else times.delete(dest);
        }
        cb(r.ok ? 0 : code(r.errno));
      }),
  readlink: (path, cb) => {
    const l = local((f) => f.readlink(path));
    if (l) return 'errno' in l ? cb(l.errno) : cb(0, l.v);
    void ask({ op: 'readlink', path }).then((r) => (r.ok ? cb(0, r.target) : cb(code(r.errno))));
  },
  symlink: (target, path, cb) =>
    void change({ op: 'symlink', path, target }).then((r) => cb(r.ok ? 0 : code(r.errno))),
  // Kept only where a shadow can change (see `times`); elsewhere accepted, as `cp -p` expects.
  utimens: (path, _atime, mtime, cb) => {
    if (!path.startsWith('/shadows/')) return cb(0);
    const set = (attr: Attr) => {
      times.set(path, { mtimeMs: Number(mtime), over: attr.mtimeMs });
      attrMemo.delete(path);
      cb(0);
    };
    // What was written before is recorded first (cp -p, tar: write, then set the time), or the time
    // would be forgotten as soon as it is.
    void flushPath(path).then(() => {
      const l = local((f) => f.getattr(path));
      if (l) return 'errno' in l ? cb(l.errno) : set(l.v);
      void ask({ op: 'getattr', path }).then((r) => (r.ok ? set(r.attr!) : cb(code(r.errno))));
    });
  },
  // The writes gathered for the file are recorded first, so the mode goes with what was written.
  chmod: (path, mode, cb) =>
    void flushPath(path)
      .then(() => change({ op: 'chmod', path, mode }))
      .then((r) => cb(r.ok ? 0 : code(r.errno))),
  chown: (_path, _uid, _gid, cb) => cb(0),
  statfs: (_path, cb) =>
    cb(0, {
      bsize: 4096,
      frsize: 4096,
      blocks: 1 << 20,
      bfree: 1 << 19,
      bavail: 1 << 19,
      files: 1 << 20,
      ffree: 1 << 19,
      favail: 1 << 19,
      fsid: 0x4c48,
      flag: 0,
      namemax: 255,
    }),
};

// LIGHTHOUSE_FUSE_DEBUG=1 traces every call to stderr, to see what the kernel asks for.
if (process.env.LIGHTHOUSE_FUSE_DEBUG) {
  for (const [name, fn] of Object.entries(ops)) {
    (ops as Record<string, unknown>)[name] = (...args: unknown[]) => {
      process.stderr.write(
        `fuse ${name} ${JSON.stringify(args.slice(0, -1).map((a) => (Buffer.isBuffer(a) ? `<${a.length}b>` : a)))}\n`,
      );
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
}

/** allow_other needs root, or user_allow_other in /etc/fuse.conf; without it, mounting would fail. */
function allowOther(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    return /^\s*user_allow_other\s*$/m.test(readFileSync('/etc/fuse.conf', 'utf8'));
  } catch {
    return false;
  }
}

let fuse: Fuse | undefined;
let fuseFd: number | undefined;
let tracker: ChangeTracker | undefined;
let watcher: BaseWatcher | undefined;
let dataDir = '';
let chain: Promise<void> = Promise.resolve();
const probes = new Map<number, (inos: (number | null)[]) => void>();

/** Applies the events appended since the last look, noting what the kernel must forget. */
function catchUp(): void {
  if (reader && tracker && reader.catchUp(tracker.before, tracker.after) > 0) generation++;
}

function probe(paths: string[]): Promise<(number | null)[]> {
  return new Promise((resolve) => {
    const id = ++nextId;
    probes.set(id, resolve);
    send({ kind: 'probe', id, paths });
  });
}

function writeAll(msgs: Buffer[]): Promise<void> {
  // Written from the thread pool, never from this thread: the kernel may hold a directory lock or a
  // page lock while it waits for an answer that only this thread can give.
  return Promise.all(
    msgs.map((m) => new Promise<void>((resolve) => write(fuseFd!, m, () => resolve()))),
  ).then(() => undefined);
}

/**
 * Applies the new events and drops what the kernel caches of what they change; one at a time, in
 * order. The inode numbers are learnt first, while the old state is still served; then the kernel
 * drops the old attributes and pages, the events are applied and the kernel drops again whatever
 * it fetched meanwhile. The new state and the kernel's caches thus meet within one turn of the
 * event loop: a reader does not see new content cut to an old size.
 */
function invalidatePending(): Promise<void> {
  const run = async () => {
    if (!reader || !tracker) return;
    for (;;) {
      const events = reader.peek();
      if (events.length === 0 && tracker.targets.empty) return;
      if (fuseFd === undefined) {
        if (reader.applyEvents(events, tracker.before, tracker.after) > 0) generation++;
        tracker.take();
      } else {
        const candidates = tracker.candidates(events);
        const paths = pathsToProbe(candidates);
        const inos = await probe(paths);
        const byPath = new Map(paths.map((p, i) => [p, inos[i] ?? null]));
        await writeAll(messages(candidates, byPath, 'inodes'));
        if (reader.applyEvents(events, tracker.before, tracker.after) > 0) generation++;
        const now = tracker.take();
        // Explained changes: the next answer for these paths is no news.
        for (const p of now.inodes) answered.delete(p);
        await writeAll(messages(now, byPath));
        // Noted meanwhile (a change through the mount) and not probed yet: the next round.
        let more = false;
        for (const p of now.inodes) if (!byPath.has(p)) more = tracker.targets.inodes.add(p) !== undefined;
        for (const e of now.entries) {
          const parent = e.slice(0, e.lastIndexOf('/')) || '/';
          if (parent !== '/' && !byPath.has(parent)) more = tracker.targets.entries.add(e) !== undefined;
        }
        if (more) continue;
      }
      if (events.length < 2000) return;
    }
  };
  // A round not started yet reads every event appended until it starts: asking again meanwhile
  // joins it (a burst of records asked for one round each, each probing the same directory).
  if (queuedRound) return queuedRound;
  const start = () => {
    queuedRound = undefined;
    return run();
  };
  chain = queuedRound = chain.then(start, start);
  return chain;
}
let queuedRound: Promise<void> | undefined;

/**
 * The agents' private layers (git-ignored paths and .git: private-layer.ts), in front of `ops`;
 * none when the daemon has no view of its own (everything then goes to the bridge).
 */
let priv: PrivateLayer | undefined;
const trackedSide: TrackedSide = {
  read: (p) => {
    const w = writing.get(p);
    if (w) return w.buf;
    const l = local((f) => f.openRead(p));
    if (!l || 'errno' in l) return undefined;
    if (l.v.kind === 'blob') return localFs!.readBlob(l.v.hash, 0, l.v.size);
    try {
      return readFileSync(l.v.fd);
    } finally {
      closeSync(l.v.fd);
    }
  },
  kind: (p) => {
    if (writing.has(p)) return 'file';
    const l = local((f) => f.getattr(p));
    // A symlink is no directory for a rule that names directories ("node_modules/"), as git sees it.
    if (!l || 'errno' in l) return undefined;
    return l.v.type === 'symlink' ? 'file' : l.v.type;
  },
};

function mount(m: MountRequest): void {
  memoMs = m.cacheSeconds * 1000;
  const cache = m.cacheSeconds > 0;
  caching = cache;
  try {
    reader = new StoreReader(m.dbFile);
    // The mount point may lie in the workspace (native mode: .lighthouse/mnt); the daemon must never
    // look into it. Its parent's real path is safe to ask for.
    const mp = path.join(realpathSync(path.dirname(path.resolve(m.mountPoint))), path.basename(m.mountPoint));
    dataDir = path.dirname(realpathSync(m.dbFile));
    times.keepIn(path.join(dataDir, 'fuse-times.json'));
    base = new WorkspaceBase(m.workspace, [mp, ...m.hidden]);
    localFs = new LocalFs(reader, base, Date.now(), () => catchUp());
    tracker = new ChangeTracker(reader, base, new Targets());
    reader.catchUp();
    priv = new PrivateLayer(path.join(dataDir, 'private'), base, reader, trackedSide);
  } catch (e) {
    // Without its own view of the store the daemon still works, asking the bridge for everything.
    process.stderr.write(`fuse: serving through the bridge only: ${(e as Error).message}\n`);
    reader = undefined;
    localFs = undefined;
    tracker = undefined;
  }
  fuse = new Fuse(m.mountPoint, priv ? priv.wrap(ops) : ops, {
    force: true,
    mkdir: true,
    // fuse-native passes only the options it knows; hard_remove rides along with fsname. Without it,
    // libfuse renames a file that is unlinked while its release is still on the way to
    // .fuse_hidden*, which would become a change in the shadow.
    fsname: 'lighthouse,hard_remove',
    subtype: 'lighthouse',
    // The kernel keeps names and attributes this long; whatever changes behind its back is dropped
    // at once with notify messages. Pages stay cached across opens (see `ops.open`); auto_cache
    // decides that only when opens reach libfuse (no invalidation possible).
    attrTimeout: String(m.cacheSeconds),
    entryTimeout: String(m.cacheSeconds),
    autoCache: cache && localFs !== undefined,
    maxRead: 1024 * 1024,
    // Other users (a root `docker exec`, the developer) may read the view when the system allows it;
    // the kernel then checks every access against the modes and owner reported (the daemon's own
    // uid and gid, shadows never writable by group or others, read-only views with no write bits):
    // without default_permissions any local user could write into an agent's shadow.
    allowOther: allowOther(),
    defaultPermissions: true,
  });
  fuse.mount((err) => {
    if (err) {
      send({ kind: 'mount-failed', message: err.message });
      return;
    }
    fuseFd = findFuseFd();
    if (fuseFd === undefined) process.stderr.write('fuse: /dev/fuse descriptor not found; no invalidation\n');
    if (cache && base && tracker) {
      const t = tracker;
      const b = base;
      const skipped = (rel: string) => b.isHidden(rel) || within(dataDir, path.join(b.root, rel));
      watcher = new BaseWatcher(
        base.root,
        m.watchLimit,
        (rels) => {
          const agents = new Set([...reader!.agents, ...reader!.overlays.keys()]);
          for (const rel of rels) t.baseChanged(rel, agents);
          generation++;
          forgetSources();
          void invalidatePending();
        },
        skipped,
      );
      if (watcher.partial)
        process.stderr.write(
          `fuse: watching ${watcher.watched} workspace directories (limit ${m.watchLimit}); ` +
            'edits in the others show after LIGHTHOUSE_FUSE_CACHE_SECONDS\n',
        );
    }
    send({ kind: 'mounted' });
  });
}

process.on('message', (m: ToDaemon) => {
  if (m.kind === 'reply') {
    const r = pending.get(m.id);
    pending.delete(m.id);
    r?.(m.reply);
  } else if (m.kind === 'probed') {
    const r = probes.get(m.id);
    probes.delete(m.id);
    r?.(m.inos);
  } else if (m.kind === 'sync') {
    void invalidatePending().then(() => send({ kind: 'synced', id: m.id }));
  } else if (m.kind === 'settle') {
    void flushUnder(m.agent === undefined ? '/shadows' : `/shadows/${m.agent}`).then(() =>
      send({ kind: 'synced', id: m.id }),
    );
  } else if (m.kind === 'mount') {
    mount(m);
  } else if (m.kind === 'unmount') {
    watcher?.close();
    const done = () => {
      times.save();
      send({ kind: 'unmounted' });
      process.exit(0);
    };
    // What was written and not recorded yet is recorded while the bridge still answers.
    void flushUnder('/shadows').then(() => (fuse ? fuse.unmount(() => done()) : done()));
  }
});

/** Unmounts (once) and exits. */
let leaving = false;
function leave(): void {
  if (leaving) return;
  leaving = true;
  watcher?.close();
  times.save();
  const unmount = () => (fuse ? fuse.unmount(() => process.exit(0)) : process.exit(0));
  // Writes not recorded yet are recorded if the bridge still answers (it may be leaving as well).
  if (!process.connected || writing.size === 0) return unmount();
  void Promise.race([flushUnder('/shadows'), new Promise((r) => setTimeout(r, 1000))]).then(unmount);
}
// The bridge went away: nobody can answer; leave rather than hang every caller of the mount.
process.on('disconnect', leave);
// Ctrl-C in a terminal reaches this process as well as the bridge: unmount rather than die mounted.
process.on('SIGINT', leave);
process.on('SIGTERM', leave);
