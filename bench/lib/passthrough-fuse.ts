/**
 * The floor of a FUSE file system served from Node with fuse-native, as the bridge's daemon is: a
 * bare passthrough to a directory (plain fs calls, no store, no IPC, no caching rules of its own).
 * The workspace suite writes the same files through it as through a shadow and through bindfs, so
 * what the daemon's own work costs and what the binding costs are told apart.
 *   node passthrough-fuse.js <source-dir> <mount-point>   (prints "mounted", unmounts on SIGTERM)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fuse from 'fuse-native';

const [source, mnt] = process.argv.slice(2) as [string, string];
const p = (rel: string) => path.join(source, rel);
/** fuse-native's answer for a failed call: the negated errno of the Node error. */
const fail = (e: unknown): number => {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  return -((os.constants.errno as Record<string, number>)[code] ?? os.constants.errno.EIO);
};
const stat = (st: fs.Stats) => ({
  mode: st.mode,
  uid: st.uid,
  gid: st.gid,
  size: st.size,
  dev: st.dev,
  nlink: st.nlink,
  ino: st.ino,
  rdev: st.rdev,
  blksize: st.blksize,
  blocks: st.blocks,
  atime: st.atime,
  mtime: st.mtime,
  ctime: st.ctime,
});
const sync =
  <A extends unknown[]>(fn: (...a: A) => void) =>
  (...a: [...A, (code: number) => void]) => {
    const cb = a.pop() as (code: number) => void;
    try {
      fn(...(a as unknown as A));
      cb(0);
    } catch (e) {
      cb(fail(e));
    }
  };

const ops: Fuse.OPERATIONS = {
  getattr: (rel, cb) => {
    try {
      cb(0, stat(fs.lstatSync(p(rel))) as never);
    } catch (e) {
      cb(fail(e));
    }
  },
  readdir: (rel, cb) => {
    try {
      cb(0, fs.readdirSync(p(rel)));
    } catch (e) {
      cb(fail(e));
    }
  },
  open: (rel, flags, cb) => {
    try {
      cb(0, fs.openSync(p(rel), flags));
    } catch (e) {
      cb(fail(e));
    }
  },
  create: (rel, mode, cb) => {
    try {
      cb(0, fs.openSync(p(rel), fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_TRUNC, mode));
    } catch (e) {
      cb(fail(e));
    }
  },
  read: (_rel, fd, buf, len, pos, cb) => cb(fs.readSync(fd, buf, 0, len, pos)),
  write: (_rel, fd, buf, len, pos, cb) => cb(fs.writeSync(fd, buf, 0, len, pos)),
  release: sync((_rel: string, fd: number) => fs.closeSync(fd)),
  truncate: sync((rel: string, size: number) => fs.truncateSync(p(rel), size)),
  ftruncate: sync((_rel: string, fd: number, size: number) => fs.ftruncateSync(fd, size)),
  unlink: sync((rel: string) => fs.unlinkSync(p(rel))),
  mkdir: sync((rel: string, mode: number) => fs.mkdirSync(p(rel), { mode })),
  rmdir: sync((rel: string) => fs.rmdirSync(p(rel))),
  rename: sync((a: string, b: string) => fs.renameSync(p(a), p(b))),
  utimens: sync((rel: string, atime: number, mtime: number) =>
    fs.utimesSync(p(rel), atime / 1000, mtime / 1000),
  ),
  chmod: sync((rel: string, mode: number) => fs.chmodSync(p(rel), mode)),
  symlink: sync((target: string, rel: string) => fs.symlinkSync(target, p(rel))),
  readlink: (rel, cb) => {
    try {
      cb(0, fs.readlinkSync(p(rel)));
    } catch (e) {
      cb(fail(e));
    }
  },
};

const fuse = new Fuse(mnt, ops, { force: true, mkdir: true });
fuse.mount((err) => {
  if (err) {
    process.stderr.write(`passthrough: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write('mounted\n');
});
process.on('SIGTERM', () => fuse.unmount(() => process.exit(0)));
