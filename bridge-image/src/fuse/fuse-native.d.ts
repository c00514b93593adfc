/** The part of fuse-native (which ships no types) that the daemon uses. */
declare module 'fuse-native' {
  namespace Fuse {
    interface Stat {
      mtime: Date;
      atime: Date;
      ctime: Date;
      nlink: number;
      size: number;
      mode: number;
      uid: number;
      gid: number;
    }
    interface StatFs {
      bsize: number;
      frsize: number;
      blocks: number;
      bfree: number;
      bavail: number;
      files: number;
      ffree: number;
      favail: number;
      fsid: number;
      flag: number;
      namemax: number;
    }
    type Cb = (code: number) => void;
    interface OPERATIONS {
      getattr?: (path: string, cb: (code: number, stat?: Stat) => void) => void;
      readdir?: (path: string, cb: (code: number, names?: string[], stats?: Stat[]) => void) => void;
      open?: (path: string, flags: number, cb: (code: number, fd?: number) => void) => void;
      create?: (path: string, mode: number, cb: (code: number, fd?: number) => void) => void;
      read?: (
        path: string,
        fd: number,
        buffer: Buffer,
        length: number,
        position: number,
        cb: (n: number) => void,
      ) => void;
      write?: (
        path: string,
        fd: number,
        buffer: Buffer,
        length: number,
        position: number,
        cb: (n: number) => void,
      ) => void;
      truncate?: (path: string, size: number, cb: Cb) => void;
      ftruncate?: (path: string, fd: number, size: number, cb: Cb) => void;
      flush?: (path: string, fd: number, cb: Cb) => void;
      fsync?: (path: string, fd: number, datasync: boolean, cb: Cb) => void;
      release?: (path: string, fd: number, cb: Cb) => void;
      unlink?: (path: string, cb: Cb) => void;
      mkdir?: (path: string, mode: number, cb: Cb) => void;
      rmdir?: (path: string, cb: Cb) => void;
      rename?: (src: string, dest: string, cb: Cb) => void;
      /** Times in milliseconds since the epoch (fuse-native passes numbers, not Dates). */
      utimens?: (path: string, atime: number, mtime: number, cb: Cb) => void;
      readlink?: (path: string, cb: (code: number, target?: string) => void) => void;
      /** `target` is the link text, `path` the new link. */
      symlink?: (target: string, path: string, cb: Cb) => void;
      chmod?: (path: string, mode: number, cb: Cb) => void;
      chown?: (path: string, uid: number, gid: number, cb: Cb) => void;
      statfs?: (path: string, cb: (code: number, stat?: StatFs) => void) => void;
      link?: (src: string, dest: string, cb: Cb) => void;
    }
  }
  class Fuse {
    constructor(mnt: string, ops: Fuse.OPERATIONS, opts?: Record<string, unknown>);
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    static EIO: number;
    static EBADF: number;
    static ENOENT: number;
    static ENOSYS: number;
  }
  export = Fuse;
}
