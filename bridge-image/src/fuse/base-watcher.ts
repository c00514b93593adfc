/**
 * Edits of the workspace on disk, for dropping what the kernel caches of them. One inotify watch per
 * directory (fs.watch), up to `limit` directories (LIGHTHOUSE_FUSE_WATCH_LIMIT, default 4096: well
 * under the usual fs.inotify.max_user_watches); directories beyond it are only refreshed when the
 * cache times out (LIGHTHOUSE_FUSE_CACHE_SECONDS).
 */
import fs from 'node:fs';
import path from 'node:path';

export class BaseWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Set when some directory could not be watched (the limit, or the system's inotify limit). */
  partial = false;

  constructor(
    private readonly root: string,
    private readonly limit: number,
    /** Workspace-relative paths that changed, a few milliseconds after the change. */
    private readonly onChange: (rels: string[]) => void,
    /** Directories not to watch (the mount point, the event store's directory). */
    private readonly skip: (rel: string) => boolean = () => false,
  ) {
    const queue = [''];
    while (queue.length > 0) {
      const rel = queue.shift()!;
      if (!this.watch(rel)) break;
      let names: fs.Dirent[] = [];
      try {
        names = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const d of names) {
        const child = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory() && !this.skip(child)) queue.push(child);
      }
    }
  }

  get watched(): number {
    return this.watchers.size;
  }

  private watch(rel: string): boolean {
    if (this.watchers.has(rel) || this.skip(rel)) return true;
    if (this.watchers.size >= this.limit) {
      this.partial = true;
      return false;
    }
    try {
      const w = fs.watch(path.join(this.root, rel), { persistent: false }, (event, name) => {
        const child = name ? (rel ? `${rel}/${name}` : String(name)) : rel;
        // Reading a file updates its atime, which inotify reports too; only a recent ctime is a change.
        if (this.skip(child) || (event === 'change' && !this.recentlyChanged(child))) return;
        this.queue(child);
        if (name) {
          try {
            if (fs.statSync(path.join(this.root, child)).isDirectory()) this.watch(child);
          } catch {
            // gone again
          }
        }
      });
      w.on('error', () => {
        w.close();
        this.watchers.delete(rel);
      });
      this.watchers.set(rel, w);
      return true;
    } catch {
      this.partial = true;
      return false;
    }
  }

  private recentlyChanged(rel: string): boolean {
    try {
      return fs.statSync(path.join(this.root, rel)).ctimeMs > Date.now() - 2000;
    } catch {
      return true;
    }
  }

  private queue(rel: string): void {
    this.pending.add(rel);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const rels = [...this.pending];
      this.pending = new Set();
      this.onChange(rels);
    }, 5);
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
