/**
 * The FUSE daemon: its own process, so that nothing serving the mount ever reads it. It translates
 * kernel calls into requests to the bridge over IPC, and buffers writes per open file: the bridge
 * records one shadow.written event when the file is flushed or closed, not one per write(2).
 * Bundled as bridge-image/dist/fuse-daemon.js.
 */
import { readFileSync } from 'node:fs';
import Fuse from 'fuse-native';
import type { Attr, Errno, FromDaemon, HostReply, HostRequest, ToDaemon } from './fuse-protocol.js';

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

function stat(a: Attr) {
  const t = new Date(a.mtimeMs);
  return {
    mtime: t,
    atime: t,
    ctime: t,
    nlink: a.type === 'dir' ? 2 : 1,
    size: a.size,
    mode: (a.type === 'dir' ? 0o040000 : 0o100000) | a.perm,
    uid,
    gid,
  };
}

interface Handle {
  path: string;
  /** Content being written; undefined for read-only handles. */
  buf: Buffer | undefined;
  /** What a read-only handle reads (files up to SNAPSHOT_MAX; larger ones are read in ranges). */
  snapshot?: Buffer | undefined;
  dirty: boolean;
}
const SNAPSHOT_MAX = 8 * 1024 * 1024;
const handles = new Map<number, Handle>();
let nextFd = 10;

/** An open, changed file's size wins over the bridge's until it is flushed. */
function dirtySize(path: string): number | undefined {
  for (const h of handles.values()) if (h.path === path && h.buf && h.dirty) return h.buf.length;
  return undefined;
}

async function load(path: string): Promise<Buffer> {
  const r = await ask({ op: 'getattr', path });
  if (!r.ok) return Buffer.alloc(0);
  const size = r.attr!.size;
  const d = await ask({ op: 'read', path, offset: 0, length: size });
  return d.ok ? Buffer.from(d.data!) : Buffer.alloc(0);
}

async function flushHandle(h: Handle): Promise<number> {
  if (!h.buf || !h.dirty) return 0;
  const r = await ask({ op: 'writeFile', path: h.path, data: h.buf });
  if (!r.ok) return code(r.errno);
  h.dirty = false;
  return 0;
}

function resize(h: Handle, size: number): void {
  const next = Buffer.alloc(size);
  h.buf!.copy(next, 0, 0, Math.min(size, h.buf!.length));
  h.buf = next;
  h.dirty = true;
}

const O_ACCMODE = 3;
const O_TRUNC = 0o1000;

const ops: Fuse.OPERATIONS = {
  getattr: (path, cb) => {
    void ask({ op: 'getattr', path }).then((r) => {
      if (!r.ok) return cb(code(r.errno));
      const size = dirtySize(path);
      cb(0, stat(size === undefined ? r.attr! : { ...r.attr!, size }));
    });
  },
  readdir: (path, cb) => {
    void ask({ op: 'readdir', path }).then((r) => (r.ok ? cb(0, r.names!) : cb(code(r.errno))));
  },
  open: (path, flags, cb) => {
    const fd = nextFd++;
    if ((flags & O_ACCMODE) === 0) {
      // A reader sees one version of the file from open to close, even while an agent rewrites it.
      void ask({ op: 'getattr', path }).then(async (r) => {
        if (!r.ok) return cb(code(r.errno));
        // The event log only grows, and `tail -f` keeps reading one handle: it is read live.
        const live = path.startsWith('/streams/') || r.attr!.type !== 'file' || r.attr!.size > SNAPSHOT_MAX;
        const snapshot = live ? undefined : await load(path);
        handles.set(fd, { path, buf: undefined, snapshot, dirty: false });
        cb(0, fd);
      });
      return;
    }
    void ask({ op: 'checkWritable', path }).then(async (r) => {
      if (!r.ok) return cb(code(r.errno));
      const buf = flags & O_TRUNC ? Buffer.alloc(0) : await load(path);
      handles.set(fd, { path, buf, snapshot: undefined, dirty: (flags & O_TRUNC) !== 0 });
      cb(0, fd);
    });
  },
  create: (path, _mode, cb) => {
    void ask({ op: 'checkWritable', path }).then(async (r) => {
      if (!r.ok) return cb(code(r.errno));
      const h: Handle = { path, buf: Buffer.alloc(0), snapshot: undefined, dirty: true };
      // The file must exist for the kernel's next lookup, before any write or close.
      const e = await flushHandle(h);
      if (e) return cb(e);
      const fd = nextFd++;
      handles.set(fd, h);
      cb(0, fd);
    });
  },
  read: (path, fd, buffer, length, position, cb) => {
    const h = handles.get(fd);
    const local = h?.buf ?? h?.snapshot;
    if (local) {
      const part = local.subarray(position, position + length);
      part.copy(buffer);
      return cb(part.length);
    }
    void ask({ op: 'read', path, offset: position, length }).then((r) => {
      if (!r.ok) return cb(code(r.errno));
      const d = Buffer.from(r.data!);
      d.copy(buffer);
      cb(d.length);
    });
  },
  write: (_path, fd, buffer, length, position, cb) => {
    const h = handles.get(fd);
    if (!h?.buf) return cb(Fuse.EBADF);
    const end = position + length;
    if (end > h.buf.length) {
      const grown = Buffer.alloc(end);
      h.buf.copy(grown);
      h.buf = grown;
    }
    buffer.copy(h.buf, position, 0, length);
    h.dirty = true;
    cb(length);
  },
  truncate: (path, size, cb) => {
    // open(O_TRUNC) arrives as open without O_TRUNC, then truncate: cut the open buffers, or the
    // next flush would write the old content back.
    const open = [...handles.values()].filter((h) => h.path === path && h.buf);
    if (open.length > 0) {
      for (const h of open) resize(h, size);
      return cb(0);
    }
    void ask({ op: 'checkWritable', path }).then(async (r) => {
      if (!r.ok) return cb(code(r.errno));
      const cur = await load(path);
      const next = Buffer.alloc(size);
      cur.copy(next, 0, 0, Math.min(size, cur.length));
      const w = await ask({ op: 'writeFile', path, data: next });
      cb(w.ok ? 0 : code(w.errno));
    });
  },
  ftruncate: (_path, fd, size, cb) => {
    const h = handles.get(fd);
    if (!h?.buf) return cb(Fuse.EBADF);
    resize(h, size);
    cb(0);
  },
  flush: (_path, fd, cb) => {
    const h = handles.get(fd);
    if (!h) return cb(0);
    void flushHandle(h).then(cb);
  },
  fsync: (_path, fd, _datasync, cb) => {
    const h = handles.get(fd);
    if (!h) return cb(0);
    void flushHandle(h).then(cb);
  },
  release: (_path, fd, cb) => {
    const h = handles.get(fd);
    handles.delete(fd);
    if (!h) return cb(0);
    void flushHandle(h).then(cb);
  },
  unlink: (path, cb) => void ask({ op: 'unlink', path }).then((r) => cb(r.ok ? 0 : code(r.errno))),
  mkdir: (path, _mode, cb) => void ask({ op: 'mkdir', path }).then((r) => cb(r.ok ? 0 : code(r.errno))),
  rmdir: (path, cb) => void ask({ op: 'rmdir', path }).then((r) => cb(r.ok ? 0 : code(r.errno))),
  rename: (src, dest, cb) =>
    void ask({ op: 'rename', from: src, to: dest }).then((r) => cb(r.ok ? 0 : code(r.errno))),
  // Times and modes are the shadow's own; accept the calls `cp -p`, `touch` and editors make.
  utimens: (_path, _atime, _mtime, cb) => cb(0),
  chmod: (path, _mode, cb) => void ask({ op: 'getattr', path }).then((r) => cb(r.ok ? 0 : code(r.errno))),
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

process.on('message', (m: ToDaemon) => {
  if (m.kind === 'reply') {
    const r = pending.get(m.id);
    pending.delete(m.id);
    r?.(m.reply);
  } else if (m.kind === 'mount') {
    fuse = new Fuse(m.mountPoint, ops, {
      force: true,
      mkdir: true,
      fsname: 'lighthouse',
      subtype: 'lighthouse',
      // Agents change shadows over HTTP at any time: the kernel must not answer from stale sizes.
      attrTimeout: '0',
      entryTimeout: '0',
      // Other users (a root `docker exec`, the developer) may read the view when the system allows it.
      allowOther: allowOther(),
    });
    fuse.mount((err) => {
      if (err) send({ kind: 'mount-failed', message: err.message });
      else send({ kind: 'mounted' });
    });
  } else if (m.kind === 'unmount') {
    const done = () => {
      send({ kind: 'unmounted' });
      process.exit(0);
    };
    if (!fuse) return done();
    fuse.unmount(() => done());
  }
});

// The bridge went away: nobody can answer; leave rather than hang every caller of the mount.
process.on('disconnect', () => {
  if (fuse) fuse.unmount(() => process.exit(0));
  else process.exit(0);
});
