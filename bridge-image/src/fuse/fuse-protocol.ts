/** Messages between the bridge (the host of the file system) and the FUSE daemon process. Internal. */

export interface Attr {
  type: 'file' | 'dir' | 'symlink';
  size: number;
  /** Permission bits only; the daemon adds the file type. */
  perm: number;
  mtimeMs: number;
}

export type HostRequest =
  | { op: 'getattr'; path: string }
  | { op: 'readdir'; path: string }
  | { op: 'read'; path: string; offset: number; length: number }
  /** `mode`: of a file created through the mount (open's O_CREAT mode); else the file's own is kept. */
  | { op: 'writeFile'; path: string; data: Uint8Array; mode?: number }
  /** Files written in a burst, recorded in one append; the reply's `failed` names those refused. */
  | { op: 'writeMany'; files: { path: string; data: Uint8Array; mode?: number }[] }
  | { op: 'unlink'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'rename'; from: string; to: string }
  | { op: 'readlink'; path: string }
  /** ln -s: `target` is the link text. */
  | { op: 'symlink'; path: string; target: string }
  /** chmod(2): the permission bits. */
  | { op: 'chmod'; path: string; mode: number }
  /** Whether writes to this path are allowed at all (EROFS, EXDEV checks), before any data moves. */
  | { op: 'checkWritable'; path: string };

export type HostReply =
  | {
      ok: true;
      attr?: Attr;
      names?: string[];
      data?: Uint8Array;
      target?: string;
      failed?: { path: string; errno: Errno; message: string }[];
    }
  | { ok: false; errno: Errno; message: string };

export type Errno =
  'ENOENT' | 'EISDIR' | 'ENOTDIR' | 'ENOTEMPTY' | 'EEXIST' | 'EINVAL' | 'EROFS' | 'EXDEV' | 'EACCES' | 'EIO';

export interface MountRequest {
  kind: 'mount';
  mountPoint: string;
  /** The event store, which the daemon opens read-only. */
  dbFile: string;
  workspace: string;
  /** Absolute paths in the workspace that are the bridge's own state: in no view (hidden-paths.ts). */
  hidden: string[];
  /** How long the kernel may keep attributes, names and pages (LIGHTHOUSE_FUSE_CACHE_SECONDS). */
  cacheSeconds: number;
  /** Most workspace directories watched with inotify to drop stale cache entries. */
  watchLimit: number;
}

export type ToDaemon =
  | MountRequest
  /** Catch up with the event log and drop what the kernel caches of the changed paths; answer `synced`. */
  | { kind: 'sync'; id: number }
  /**
   * Record the writes gathered in this agent's shadow (every shadow without one), then answer
   * `synced`: asked before an HTTP request that may read them.
   */
  | { kind: 'settle'; id: number; agent?: string }
  /** The inode numbers of mount paths (null: not there), for a `probe`. */
  | { kind: 'probed'; id: number; inos: (number | null)[] }
  | { kind: 'reply'; id: number; reply: HostReply }
  | { kind: 'unmount' };

export type FromDaemon =
  | { kind: 'mounted' }
  | { kind: 'mount-failed'; message: string }
  | { kind: 'request'; id: number; req: HostRequest }
  | { kind: 'unmounted' }
  | { kind: 'synced'; id: number }
  /**
   * Asks the bridge to lstat these mount paths: the inode number the kernel shows is the node id that
   * invalidations name, and the daemon itself must never touch its own mount.
   */
  | { kind: 'probe'; id: number; paths: string[] };
