import type { Node, ShadowView } from '../shadow/shadow-view.js';
import type { BaseStat } from '../shadow/workspace-base.js';
import type { Attr, Errno } from './fuse-protocol.js';

/**
 * What the two servers of the view share, the daemon (its own reads) and the bridge (everything
 * else, and all of it when the daemon cannot open the store): errors, and how entries look.
 */
export class FsError extends Error {
  constructor(
    readonly errno: Errno,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The permission bits a shadow's entry may show: the kernel checks accesses against them
 * (default_permissions), and only the daemon's own user may change a shadow.
 */
export const SHADOW_PERM = 0o755;

export const DIR: Attr = { type: 'dir', size: 0, perm: 0o755, mtimeMs: 0 };
export const RO_DIR: Attr = { type: 'dir', size: 0, perm: 0o555, mtimeMs: 0 };

/** A workspace entry as current/ shows it: read-only, with its own size and mtime. */
export function workspaceAttr(st: BaseStat): Attr {
  return {
    type: st.type,
    size: st.type === 'dir' ? 0 : st.size,
    // A symlink's own bits mean nothing (Linux shows 0777): the kernel checks what it leads to.
    perm: st.type === 'symlink' ? 0o777 : st.mode & 0o555,
    mtimeMs: st.mtimeMs,
  };
}

/** A shadow's (or history's) node as the mount shows it. */
export function nodeAttr(n: Node, writable: boolean): Attr {
  const perm = n.type === 'symlink' ? 0o777 : writable ? n.mode & SHADOW_PERM : n.mode & 0o555;
  return { type: n.type, size: n.type === 'dir' ? 0 : n.size, perm, mtimeMs: n.mtimeMs };
}

/** current/<rel>; current/ itself is a directory as old as the mount. */
export function currentAttr(
  base: { stat(rel: string): BaseStat | undefined },
  rel: string,
  mountedAt: number,
): Attr {
  const st = rel === '' ? { type: 'dir' as const, size: 0, mode: 0o755, mtimeMs: mountedAt } : base.stat(rel);
  if (!st) throw new FsError('ENOENT', `no ${rel} in the workspace`);
  return workspaceAttr(st);
}

/** A shadow or history view's entry; null: a directory above any agent's view. */
export function viewAttr(
  area: 'shadows' | 'history',
  sv: { view: ShadowView; rel: string; writable: boolean } | null,
  mountedAt: number,
): Attr {
  if (sv === null) return { ...(area === 'shadows' ? DIR : RO_DIR), mtimeMs: mountedAt };
  const n = sv.view.node(sv.rel);
  if (!n) throw new FsError('ENOENT', `no ${sv.rel}`);
  return nodeAttr(n, sv.writable);
}

/** What readlink(2) answers for a shadow or history path. */
export function viewLink(sv: { view: ShadowView; rel: string } | null): string {
  const n = sv?.view.node(sv.rel);
  if (!n) throw new FsError('ENOENT', `no ${sv?.rel ?? 'such link'}`);
  if (n.type !== 'symlink') throw new FsError('EINVAL', `${sv!.rel} is not a symlink`);
  return n.target;
}

/** What readlink(2) answers for current/<rel>. */
export function workspaceLink(base: { stat(rel: string): BaseStat | undefined }, rel: string): string {
  const st = rel === '' ? undefined : base.stat(rel);
  if (!st) throw new FsError(rel === '' ? 'EINVAL' : 'ENOENT', `no ${rel} in the workspace`);
  if (st.type !== 'symlink') throw new FsError('EINVAL', `${rel} is not a symlink`);
  return st.target;
}
