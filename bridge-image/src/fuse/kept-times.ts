import fs from 'node:fs';

export interface KeptTime {
  mtimeMs: number;
  /** The shadow's own mtime when the time was set (see daemon.ts `timed`); null: not known yet. */
  over: number | null;
}

/**
 * The modification times set with utimens(2) through the mount, by mount path, kept in a file of the
 * bridge's data directory so that they outlive a restart (make and rsync compare them). Written a
 * second after a change and when the daemon leaves; a file that cannot be read starts empty.
 */
export class KeptTimes extends Map<string, KeptTime> {
  private file: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** Reads the times kept in `file`, and keeps them there from now on. */
  keepIn(file: string): void {
    this.file = file;
    try {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as [string, KeptTime][];
      for (const [k, v] of saved)
        if (typeof k === 'string' && typeof v?.mtimeMs === 'number') super.set(k, v);
    } catch {
      // none kept yet, or unreadable: the times set from now on are kept
    }
  }

  override set(key: string, value: KeptTime): this {
    super.set(key, value);
    this.later();
    return this;
  }

  override delete(key: string): boolean {
    const had = super.delete(key);
    if (had) this.later();
    return had;
  }

  private later(): void {
    if (!this.file || this.timer) return;
    this.timer = setTimeout(() => this.save(), 1000);
    this.timer.unref();
  }

  /** Writes the times now (a new file renamed over the old: never half written). */
  save(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.file) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify([...this]), { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch (e) {
      process.stderr.write(`fuse: could not keep the times set through the mount: ${(e as Error).message}\n`);
    }
  }
}
