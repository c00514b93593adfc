import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inHidden, openResolved, PathRejected, resolveInWorkspace, within } from './path-safety.js';

export type BaseStat =
  | { type: 'file' | 'dir'; size: number; mode: number; mtimeMs: number }
  /** A symlink as itself: its text, never what it leads to (which may lie outside the workspace). */
  | { type: 'symlink'; size: number; mode: number; mtimeMs: number; target: string };

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * What the workspace says of a regular file, a directory or a symlink (anything else: undefined).
 * `abs` is read (readlink) only for a symlink.
 */
function baseStat(st: fs.Stats, abs: string): BaseStat | undefined {
  if (st.isSymbolicLink()) {
    const target = fs.readlinkSync(abs);
    return { type: 'symlink', size: Buffer.byteLength(target), mode: 0o777, mtimeMs: st.mtimeMs, target };
  }
  if (!st.isFile() && !st.isDirectory()) return undefined;
  return {
    type: st.isDirectory() ? 'dir' : 'file',
    size: st.size,
    mode: st.mode & 0o7777,
    mtimeMs: st.mtimeMs,
  };
}

/** The workspace as it is on disk: read-only to the bridge, every access checked against the root. */
export class WorkspaceBase {
  readonly root: string;
  private readonly hashes = new Map<string, { mtimeMs: number; size: number; hash: string }>();

  /**
   * `hidden`: absolute paths inside the workspace that are not part of it: the bridge's own state
   * (hidden-paths.ts decides which) and the FUSE mount point (the daemon must never look into its own
   * mount). They are in no listing; naming one, or a symlink leading into one, is refused.
   */
  constructor(
    root: string,
    readonly hidden: readonly string[] = [],
  ) {
    fs.mkdirSync(root, { recursive: true });
    this.root = fs.realpathSync(root);
  }

  /** Whether `rel` is in a hidden part, decided on the path alone, before anything is looked up. */
  isHidden(rel: string): boolean {
    return inHidden(this.hidden, path.join(this.root, rel));
  }

  /** Refuses a path in a hidden part (403, recorded as a security event by whoever answers it). */
  guard(rel: string): void {
    if (this.isHidden(rel))
      throw new PathRejected(rel, "is the bridge's own state, not part of the workspace", 403);
  }

  private resolve(rel: string): string | undefined {
    this.guard(rel);
    return resolveInWorkspace(this.root, rel, this.hidden);
  }

  /**
   * A descriptor of the file or directory at `rel`, opened without following a symlink swapped in
   * after the path was checked, and checked again for what it really is (see openResolved).
   */
  private open(rel: string): number | undefined {
    const abs = this.resolve(rel);
    return abs === undefined ? undefined : openResolved(this.root, abs, rel, this.hidden);
  }

  /** Runs `fn` on the open descriptor of a regular file at `rel`; undefined when there is none. */
  private withFile<T>(rel: string, fn: (fd: number, st: fs.Stats) => T): T | undefined {
    const fd = this.open(rel);
    if (fd === undefined) return undefined;
    try {
      const st = fs.fstatSync(fd);
      return st.isFile() ? fn(fd, st) : undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Whether the symlink at `abs` (text `target`) leads into the bridge's own state: such a link is
   * in no listing and refused by name, as the state itself is. Decided on its text, and for a
   * target inside the workspace also on where it really leads (a chain of links). A link leading
   * outside the workspace is shown as itself: following it through the mount is the kernel's doing
   * (with the caller's own rights, the daemon reads nothing for it), and the bridge never follows it.
   */
  private intoHidden(abs: string, target: string): boolean {
    const named = path.resolve(path.dirname(abs), target);
    if (inHidden(this.hidden, named)) return true;
    if (!within(this.root, named)) return false;
    try {
      return inHidden(this.hidden, fs.realpathSync.native(abs));
    } catch {
      return false; // dangling, or a loop: leads nowhere
    }
  }

  /** A directory entry's stat; undefined when it is in no view (a link into the bridge's state). */
  private entryStat(abs: string): BaseStat | undefined {
    const st = baseStat(fs.lstatSync(abs), abs);
    return st?.type === 'symlink' && this.intoHidden(abs, st.target) ? undefined : st;
  }

  /**
   * What is at `rel`; a symlink there is answered as itself (its text), wherever it leads, unless it
   * leads into the bridge's state (refused, see intoHidden): the directory holding it is resolved
   * and checked, the link is not followed. Symlinked directories on the way are followed (and
   * checked) as before.
   */
  stat(rel: string): BaseStat | undefined {
    this.guard(rel);
    const slash = rel.lastIndexOf('/');
    const dir = this.resolve(slash < 0 ? '' : rel.slice(0, slash));
    if (!dir) return undefined;
    const abs = path.join(dir, rel.slice(slash + 1));
    // A directory on the way that leads back into the bridge's own state (d -> .) does not show it.
    if (inHidden(this.hidden, abs))
      throw new PathRejected(rel, "a workspace symlink leads into the bridge's own state", 403);
    let st: BaseStat | undefined;
    try {
      st = baseStat(fs.lstatSync(abs), abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EINVAL') return undefined;
      throw e;
    }
    if (st?.type === 'symlink' && this.intoHidden(abs, st.target))
      throw new PathRejected(rel, "a workspace symlink leads into the bridge's own state", 403);
    return st;
  }

  read(rel: string): Buffer | undefined {
    return this.withFile(rel, (fd) => fs.readFileSync(fd));
  }

  /** A byte range of a workspace file, read without loading the rest (large files stream). */
  readRange(rel: string, offset: number, length: number): Buffer | undefined {
    return this.withFile(rel, (fd) => {
      const buf = Buffer.allocUnsafe(length);
      const n = fs.readSync(fd, buf, 0, length, offset);
      return buf.subarray(0, n);
    });
  }

  /**
   * A descriptor of the regular file at `rel` for the caller to read and close (the FUSE daemon keeps
   * it while the file is open); 'dir' for a directory, undefined when there is neither.
   */
  openFile(rel: string): number | 'dir' | undefined {
    const fd = this.open(rel);
    if (fd === undefined) return undefined;
    const st = fs.fstatSync(fd);
    if (st.isFile()) return fd;
    fs.closeSync(fd);
    return st.isDirectory() ? 'dir' : undefined;
  }

  /**
   * SHA-256 of a workspace file, cached by size and mtime; of a symlink, of its text (as git hashes
   * a link; the shadow stores a link's text as its content); null when there is neither.
   */
  hash(rel: string): string | null {
    const st = this.stat(rel);
    if (st?.type === 'symlink') return sha256(st.target);
    return st?.type === 'file' ? this.fileHash(rel) : null;
  }

  private fileHash(rel: string): string | null {
    const hash = this.withFile(rel, (fd, st) => {
      const cached = this.hashes.get(rel);
      if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.hash;
      const hash = sha256(fs.readFileSync(fd));
      if (this.hashes.size > 100_000) this.hashes.clear();
      this.hashes.set(rel, { mtimeMs: st.mtimeMs, size: st.size, hash });
      return hash;
    });
    return hash ?? null;
  }

  /**
   * hash() for many paths at once, reading each directory once instead of resolving every path on
   * its own: listing 10,000 changes would otherwise cost two system calls per path. A path that is
   * refused (hidden, or a symlink leading outside) has no workspace content here: null.
   */
  hashMany(rels: Iterable<string>): Map<string, string | null> {
    const byDir = new Map<string, string[]>();
    for (const rel of rels) {
      const slash = rel.lastIndexOf('/');
      const dir = slash < 0 ? '' : rel.slice(0, slash);
      const list = byDir.get(dir);
      if (list) list.push(rel);
      else byDir.set(dir, [rel]);
    }
    const out = new Map<string, string | null>();
    const refusedAsNull = <T>(fn: () => T): T | null => {
      try {
        return fn();
      } catch (e) {
        if (e instanceof PathRejected) return null;
        throw e;
      }
    };
    for (const [dir, list] of byDir) {
      const abs = refusedAsNull(() => this.resolve(dir));
      let entries: Map<string, fs.Dirent> | undefined;
      try {
        entries = abs
          ? new Map(fs.readdirSync(abs, { withFileTypes: true }).map((d) => [d.name, d]))
          : undefined;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
      }
      for (const rel of list) {
        const entry = entries?.get(rel.slice(dir.length ? dir.length + 1 : 0));
        // Absent, or anything but a plain file or symlink (a symlink's text is hashed, see hash()).
        out.set(
          rel,
          entry?.isFile()
            ? refusedAsNull(() => this.fileHash(rel))
            : entry?.isSymbolicLink()
              ? refusedAsNull(() => this.hash(rel))
              : null,
        );
      }
    }
    return out;
  }
  /**
   * Names in a workspace directory (regular files, directories and symlinks, these as themselves).
   * The directory is resolved once; each entry lies inside it and needs one lstat, not a resolution
   * of its own (a shadow's listing through the mount reads this for every directory `grep -r` enters).
   */
  list(rel: string): Map<string, BaseStat> {
    const out = new Map<string, BaseStat>();
    const abs = this.resolve(rel);
    if (!abs) return out;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return out;
      throw e;
    }
    for (const d of entries) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (this.isHidden(child)) continue;
      try {
        const at = path.join(abs, d.name);
        // A directory on the way that leads back into the bridge's own state does not list it.
        if (inHidden(this.hidden, at)) continue;
        const st = this.entryStat(at);
        if (st) out.set(d.name, st);
      } catch {
        // gone since the directory was read: simply not listed
      }
    }
    return out;
  }
}
