/** Messages between the bridge (the host of the file system) and the FUSE daemon process. Internal. */

export interface Attr {
  type: 'file' | 'dir';
  size: number;
  /** Permission bits only; the daemon adds the file type. */
  perm: number;
  mtimeMs: number;
}

export type HostRequest =
  | { op: 'getattr'; path: string }
  | { op: 'readdir'; path: string }
  | { op: 'read'; path: string; offset: number; length: number }
  | { op: 'writeFile'; path: string; data: Uint8Array }
  | { op: 'unlink'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'rename'; from: string; to: string }
  /** Whether writes to this path are allowed at all (EROFS, EXDEV checks), before any data moves. */
  | { op: 'checkWritable'; path: string };

export type HostReply =
  | { ok: true; attr?: Attr; names?: string[]; data?: Uint8Array }
  | { ok: false; errno: Errno; message: string };

export type Errno =
  'ENOENT' | 'EISDIR' | 'ENOTDIR' | 'ENOTEMPTY' | 'EEXIST' | 'EINVAL' | 'EROFS' | 'EXDEV' | 'EACCES' | 'EIO';

export type ToDaemon =
  | { kind: 'mount'; mountPoint: string }
  | { kind: 'reply'; id: number; reply: HostReply }
  | { kind: 'unmount' };

export type FromDaemon =
  | { kind: 'mounted' }
  | { kind: 'mount-failed'; message: string }
  | { kind: 'request'; id: number; req: HostRequest }
  | { kind: 'unmounted' };
