/**
 * An agent's private layer: the paths of its shadow that git ignores or keeps to itself (`.git/**`,
 * node_modules/, dist/, caches: see shadow/git-ignore.ts) are served from a directory of the bridge's
 * data dir, `<dataDir>/private/<agent>/files/`, as a copy-on-write layer over the workspace: reads
 * fall through to the workspace until the path is written (then that one file is copied up),
 * deletions of workspace entries are remembered as whiteouts, listings merge both. Everything here
 * is plain file system calls in the daemon: no round trip to the bridge, no events, so nothing of it
 * is ever in changes, review or apply.
 *
 * A path stays tracked (an ordinary shadow path) while the agent's overlay has a recorded change at
 * or below it: a .gitignore edit never hides what was already recorded.
 *
 * Only the daemon writes below the private root, one call at a time (its single thread), so a check
 * made before a call still holds during it; symlinks the agent makes there are never followed by the
 * calls below (lstat, lutimes, O_NOFOLLOW), and the kernel resolves them itself through the mount.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fuse from 'fuse-native';
import { AgentId } from '../../protocol/index.js';
import { GitIgnore, isRuleFile } from '../shadow/git-ignore.js';
import { inHidden, resolveInWorkspace, within } from '../shadow/path-safety.js';
import type { WorkspaceBase } from '../shadow/workspace-base.js';
import type { StoreReader } from './store-reader.js';

/** What the private layer needs to know of the tracked side of a shadow. */
export interface TrackedSide {
  /** A tracked file's content as the mount shows it (pending writes included); undefined: none. */
  read(mountPath: string): Buffer | undefined;
  /** The kind of the tracked entry at a mount path, if any. */
  kind(mountPath: string): 'file' | 'dir' | undefined;
}

type Ops = Fuse.OPERATIONS;
type Where = { agent: string; rel: string };
type Whiteout = 'gone' | 'opaque';

const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;
/** Modes shown: never writable by group or others (the kernel checks accesses against them). */
const SHOWN = 0o7755;
const S_IFMT = 0o170000;

/** A FUSE answer for an error code ("ENOENT"): minus its errno. */
const E = (c: string): number => {
  const n = (os.constants.errno as Record<string, number | undefined>)[c];
  return n === undefined ? Fuse.EIO : -n;
};

function errno(e: unknown): number {
  const c = (e as NodeJS.ErrnoException).code;
  if (c && c in os.constants.errno) return E(c);
  process.stderr.write(`fuse: private layer call failed: ${(e as Error).stack ?? String(e)}\n`);
  return Fuse.EIO;
}

/** A FUSE error for a condition this layer checks itself. */
class Refused extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
const refuse = (code: string): never => {
  throw new Refused(code);
};
const codeOf = (e: unknown): number => (e instanceof Refused ? E(e.code) : errno(e));

function toStat(st: fs.Stats) {
  return {
    mtime: st.mtime,
    atime: st.atime,
    ctime: st.ctime,
    nlink: st.nlink,
    size: st.size,
    mode: (st.mode & S_IFMT) | (st.mode & SHOWN),
    uid,
    gid,
  };
}

/** One agent's private files and whiteouts. */
class AgentLayer {
  readonly upper: string;
  private readonly log: string;
  private readonly whiteouts = new Map<string, Whiteout>();
  readonly rules: GitIgnore;

  constructor(
    root: string,
    readonly agent: string,
    private readonly readRule: (rel: string) => Buffer | undefined,
  ) {
    const dir = path.join(root, agent);
    this.upper = path.join(dir, 'files');
    this.log = path.join(dir, 'whiteouts');
    fs.mkdirSync(this.upper, { recursive: true, mode: 0o700 });
    try {
      for (const line of fs.readFileSync(this.log, 'utf8').split('\n')) {
        if (line.length < 2) continue;
        const rel = line.slice(2);
        if (line[0] === '-') this.whiteouts.delete(rel);
        else this.whiteouts.set(rel, line[0] === 'o' ? 'opaque' : 'gone');
      }
    } catch {
      // no whiteouts yet
    }
    this.rules = new GitIgnore({
      read: (rel) => this.readRule(rel),
      report: (rel, what) => process.stderr.write(`fuse: ${agent}'s ${rel} is cut: ${what}\n`),
    });
  }

  up(rel: string): string {
    return path.join(this.upper, rel);
  }

  /** Records (or with undefined, forgets) a whiteout; kept in an append-only log across restarts. */
  setWhiteout(rel: string, w: Whiteout | undefined): void {
    if (this.whiteouts.get(rel) === w) return;
    if (w === undefined) this.whiteouts.delete(rel);
    else this.whiteouts.set(rel, w);
    fs.appendFileSync(this.log, `${w === undefined ? '-' : w === 'opaque' ? 'o' : '+'} ${rel}\n`, {
      mode: 0o600,
    });
  }

  /** Forgets the whiteouts strictly below `rel` (it is gone or replaced as a whole). */
  dropWhiteoutsBelow(rel: string): void {
    for (const k of [...this.whiteouts.keys()]) if (k.startsWith(rel + '/')) this.setWhiteout(k, undefined);
  }

  /** Whether the workspace's entry at `rel` is hidden by a deletion in this layer. */
  lowerHidden(rel: string): boolean {
    if (this.whiteouts.size === 0) return false;
    if (this.whiteouts.get(rel) === 'gone') return true;
    for (let p = parentOf(rel); p !== ''; p = parentOf(p)) if (this.whiteouts.has(p)) return true;
    return false;
  }
}

/** The private layers of every shadow, and the dispatch in front of the daemon's operations. */
export class PrivateLayer {
  private readonly layers = new Map<string, AgentLayer>();
  /** Descriptors of files read or written here, by mount path (the kernel opens without telling). */
  private readonly fds = new Map<string, { fd: number; writable: boolean }>();
  /** Workspace directories resolved (checked inside the workspace, not hidden) recently. */
  private readonly lowerDirs = new Map<string, { real: string | null; at: number }>();
  /** Ancestors of recorded overlay entries per agent (those stay tracked), as of an event seq. */
  private readonly recordedDirs = new Map<string, { seq: number; set: Set<string> }>();
  /** Rule files read, per agent, with what their content was read from, and when last checked. */
  private readonly ruleStamps = new Map<
    string,
    { files: Map<string, { seq: number; base: string }>; seq: number; at: number }
  >();

  constructor(
    private readonly root: string,
    private readonly base: WorkspaceBase,
    private readonly reader: StoreReader | undefined,
    private readonly tracked: TrackedSide,
  ) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    fs.chmodSync(root, 0o700);
  }

  private layer(agent: string): AgentLayer {
    let l = this.layers.get(agent);
    if (!l) {
      l = new AgentLayer(this.root, agent, (rel) => this.readRule(agent, rel));
      this.layers.set(agent, l);
    }
    return l;
  }

  /** A rule file's content: .git/info/exclude from this layer, .gitignore files from the shadow. */
  private readRule(agent: string, rel: string): Buffer | undefined {
    let stamps = this.ruleStamps.get(agent);
    if (!stamps) {
      stamps = { files: new Map(), seq: this.reader?.lastSeq ?? 0, at: Date.now() };
      this.ruleStamps.set(agent, stamps);
    }
    stamps.files.set(rel, { seq: this.overlaySeq(agent, rel), base: this.baseStamp(rel) });
    const where = { agent, rel };
    try {
      if (this.ownsWhere(where, 'file')) {
        const l = this.layer(agent);
        if (this.upperStat(l, rel)?.isFile()) return fs.readFileSync(l.up(rel));
        return l.lowerHidden(rel) ? undefined : this.base.read(rel);
      }
      return this.tracked.read(`/shadows/${agent}/${rel}`);
    } catch {
      return undefined;
    }
  }

  /** What a rule file's content comes from: the event of its recorded change, the workspace file. */
  private overlaySeq(agent: string, rel: string): number {
    return this.reader?.overlays.get(agent)?.get(rel)?.seq ?? 0;
  }

  private baseStamp(rel: string): string {
    try {
      const st = fs.lstatSync(path.join(this.base.root, rel), { throwIfNoEntry: false });
      return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : '-';
    } catch {
      return '-';
    }
  }

  /**
   * Drops an agent's compiled rules when a rule file changed behind the mount's back: an event (an
   * HTTP write, an apply) at once, the workspace's files at most a second late.
   */
  private revalidateRules(agent: string): void {
    const stamps = this.ruleStamps.get(agent);
    if (!stamps) return;
    const seq = this.reader?.lastSeq ?? 0;
    const now = Date.now();
    const newEvents = seq !== stamps.seq;
    const baseDue = now - stamps.at >= 1000;
    if (!newEvents && !baseDue) return;
    stamps.seq = seq;
    if (baseDue) stamps.at = now;
    for (const [rel, st] of [...stamps.files]) {
      if (
        (newEvents && this.overlaySeq(agent, rel) !== st.seq) ||
        (baseDue && this.baseStamp(rel) !== st.base)
      )
        this.ruleFileChanged(agent, rel);
    }
  }

  /**
   * A rule file of `agent`'s shadow changed (or may have): what is private is decided again. With
   * `dir`, only the rule files at or below that directory are read again (one was written there,
   * or the directory moved).
   */
  rulesChanged(agent: string, dir?: string): void {
    const stamps = this.ruleStamps.get(agent);
    if (dir === undefined || dir === '' || !stamps) this.ruleStamps.delete(agent);
    else
      for (const rel of [...stamps.files.keys()])
        if (rel.startsWith(dir + '/') || (dir === '.git' && rel === '.git/info/exclude'))
          stamps.files.delete(rel);
    this.layers.get(agent)?.rules.invalidate(dir);
  }

  /** The rule file at `rel` changed: the rules of its directory are read again. */
  private ruleFileChanged(agent: string, rel: string): void {
    this.rulesChanged(agent, rel === '.git/info/exclude' ? '.git' : parentOf(rel));
  }

  private recorded(agent: string): Set<string> {
    const overlay = this.reader?.overlays.get(agent);
    if (!overlay || overlay.size === 0) return EMPTY;
    const seq = this.reader!.lastSeq;
    const hit = this.recordedDirs.get(agent);
    if (hit && hit.seq === seq) return hit.set;
    const set = new Set<string>();
    for (const [rel, e] of overlay) {
      if (e.kind === 'rmdir') continue;
      for (let p = rel; p !== '' && !set.has(p); p = parentOf(p)) set.add(p);
    }
    this.recordedDirs.set(agent, { seq, set });
    return set;
  }

  private where(mountPath: string): Where | undefined {
    if (!mountPath.startsWith('/shadows/')) return undefined;
    const slash = mountPath.indexOf('/', 9);
    if (slash < 0 || slash === mountPath.length - 1) return undefined;
    const agent = mountPath.slice(9, slash);
    if (!AgentId.safeParse(agent).success) return undefined;
    return { agent, rel: mountPath.slice(slash + 1) };
  }

  private ownsWhere(w: Where, kind?: 'file' | 'dir'): boolean {
    // The bridge's own state is refused (and recorded) by the tracked side.
    if (this.base.isHidden(w.rel)) return false;
    const l = this.layer(w.agent);
    // A .gitignore holds the rules that would decide it: it is private only in a private directory
    // (git reads it whatever it says of itself). Asking its own rules would read it to decide where
    // to read it from.
    if (baseName(w.rel) === '.gitignore') {
      const dir = parentOf(w.rel);
      return dir !== '' && l.rules.ignored(dir, true) && !this.recorded(w.agent).has(w.rel);
    }
    let ignored = l.rules.ignored(w.rel, kind === 'dir');
    // A directory-only rule ("node_modules/") needs to know what is there.
    if (!ignored && kind === undefined && l.rules.ignored(w.rel, true))
      ignored = this.kindHere(l, w) === 'dir';
    if (!ignored) return false;
    return !this.recorded(w.agent).has(w.rel);
  }

  private kindHere(l: AgentLayer, w: Where): 'file' | 'dir' | undefined {
    const st = this.upperStat(l, w.rel) ?? (l.lowerHidden(w.rel) ? undefined : this.lowerStat(w.rel));
    if (st) return st.isDirectory() ? 'dir' : 'file';
    return this.tracked.kind(`/shadows/${w.agent}/${w.rel}`);
  }

  /** The agent and path when `mountPath` is served here. */
  owns(mountPath: string, kind?: 'file' | 'dir'): Where | undefined {
    const w = this.where(mountPath);
    if (!w) return undefined;
    this.revalidateRules(w.agent);
    return this.ownsWhere(w, kind) ? w : undefined;
  }

  // ---- the two layers ----

  private upperStat(l: AgentLayer, rel: string): fs.Stats | undefined {
    try {
      return fs.lstatSync(l.up(rel), { throwIfNoEntry: false });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  /** The workspace directory `dir` as a checked real path (inside the workspace, not hidden), or null. */
  private lowerDir(dir: string): string | null {
    const now = Date.now();
    const hit = this.lowerDirs.get(dir);
    if (hit && now - hit.at < 2000) return hit.real;
    let real: string | null;
    try {
      real = resolveInWorkspace(this.base.root, dir, this.base.hidden) ?? null;
    } catch {
      real = null;
    }
    if (this.lowerDirs.size > 10_000) this.lowerDirs.clear();
    this.lowerDirs.set(dir, { real, at: now });
    return real;
  }

  /** The workspace's own entry at `rel`, a symlink shown as one; undefined: none (or refused). */
  private lowerStat(rel: string): fs.Stats | undefined {
    const dir = this.lowerDir(parentOf(rel));
    if (dir === null) return undefined;
    const abs = path.join(dir, baseName(rel));
    if (inHidden(this.base.hidden, abs)) return undefined;
    try {
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      return st && (st.isFile() || st.isDirectory() || st.isSymbolicLink()) ? st : undefined;
    } catch {
      return undefined;
    }
  }

  private lowerAbs(rel: string): string | undefined {
    const dir = this.lowerDir(parentOf(rel));
    return dir === null ? undefined : path.join(dir, baseName(rel));
  }

  /** The merged entry: this layer's own, else the workspace's unless deleted here. */
  private stat(l: AgentLayer, rel: string): { st: fs.Stats; upper: boolean } | undefined {
    const u = this.upperStat(l, rel);
    if (u) return { st: u, upper: true };
    if (l.lowerHidden(rel)) return undefined;
    const s = this.lowerStat(rel);
    return s && { st: s, upper: false };
  }

  private names(l: AgentLayer, rel: string): Map<string, fs.Stats> {
    const out = new Map<string, fs.Stats>();
    const opaque = rel !== '' && l.lowerHidden(rel + '/x');
    const lower = opaque ? undefined : this.lowerDir(rel);
    if (lower) {
      let list: string[] = [];
      try {
        list = fs.readdirSync(lower);
      } catch {
        // not a directory in the workspace, or gone
      }
      for (const n of list) {
        const child = rel === '' ? n : `${rel}/${n}`;
        if (l.lowerHidden(child) || this.base.isHidden(child)) continue;
        const st = this.lowerStat(child);
        if (st) out.set(n, st);
      }
    }
    let own: string[] = [];
    try {
      own = fs.readdirSync(l.up(rel));
    } catch {
      // nothing of this directory copied up
    }
    for (const n of own) {
      const st = this.upperStat(l, rel === '' ? n : `${rel}/${n}`);
      if (st) out.set(n, st);
    }
    return out;
  }

  /** Makes `dir` (and its parents) exist in this layer, with the modes they show. */
  private ensureDir(l: AgentLayer, dir: string): void {
    if (dir === '') return;
    const u = this.upperStat(l, dir);
    if (u) {
      if (!u.isDirectory()) refuse('ENOTDIR');
      return;
    }
    const m = this.stat(l, dir);
    if (!m) {
      // A parent that is tracked (not private) exists in the shadow; anything else does not.
      if (this.ownsWhere({ agent: l.agent, rel: dir }, 'dir')) refuse('ENOENT');
      const k = this.tracked.kind(`/shadows/${l.agent}/${dir}`);
      if (k === undefined) refuse('ENOENT');
      if (k === 'file') refuse('ENOTDIR');
    } else if (!m.st.isDirectory()) refuse('ENOTDIR');
    this.ensureDir(l, parentOf(dir));
    fs.mkdirSync(l.up(dir), { mode: m ? m.st.mode & 0o7777 : 0o755 });
  }

  /** Copies the workspace's file at `rel` into this layer before it changes (copy-up). */
  private copyUp(l: AgentLayer, rel: string, truncate = false): fs.Stats {
    const m = this.stat(l, rel) ?? refuse('ENOENT');
    if (m.upper) return m.st;
    this.ensureDir(l, parentOf(rel));
    const to = l.up(rel);
    if (m.st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(this.lowerAbs(rel)!), to);
    } else if (m.st.isDirectory()) {
      fs.mkdirSync(to, { mode: m.st.mode & 0o7777 });
    } else {
      const data = truncate ? Buffer.alloc(0) : (this.base.read(rel) ?? refuse('ENOENT'));
      fs.writeFileSync(to, data, { mode: m.st.mode & 0o7777, flag: 'wx' });
      fs.utimesSync(to, m.st.atime, m.st.mtime);
    }
    return fs.lstatSync(to);
  }

  /** Copies a whole subtree up (a directory about to move). */
  private copyUpTree(l: AgentLayer, rel: string): void {
    const st = this.copyUp(l, rel);
    if (!st.isDirectory()) return;
    for (const n of this.names(l, rel).keys()) this.copyUpTree(l, `${rel}/${n}`);
    // Everything visible is in this layer now: the workspace's directory shows nothing more.
    if (this.lowerStat(rel)) l.setWhiteout(rel, 'opaque');
  }

  private closeFd(mountPath: string): void {
    const f = this.fds.get(mountPath);
    if (!f) return;
    this.fds.delete(mountPath);
    fs.closeSync(f.fd);
  }

  private closeUnder(mountPath: string): void {
    for (const p of [...this.fds.keys()])
      if (p === mountPath || p.startsWith(mountPath + '/')) this.closeFd(p);
  }

  private fdFor(l: AgentLayer, mountPath: string, rel: string, writable: boolean): number {
    const f = this.fds.get(mountPath);
    if (f && (f.writable || !writable)) return f.fd;
    this.closeFd(mountPath);
    let fd: number;
    if (writable) {
      this.copyUp(l, rel);
      fd = fs.openSync(l.up(rel), fs.constants.O_RDWR | fs.constants.O_NOFOLLOW);
    } else {
      const m = this.stat(l, rel) ?? refuse('ENOENT');
      if (m.upper) fd = fs.openSync(l.up(rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      else {
        const o = this.base.openFile(rel);
        if (o === undefined) refuse('ENOENT');
        if (o === 'dir') refuse('EISDIR');
        fd = o as number;
      }
    }
    if (this.fds.size >= 256) this.closeFd(this.fds.keys().next().value!);
    this.fds.set(mountPath, { fd, writable });
    return fd;
  }

  // ---- operations ----

  private run(cb: (code: number) => void, fn: () => void): void {
    try {
      fn();
      cb(0);
    } catch (e) {
      cb(codeOf(e));
    }
  }

  /**
   * The daemon's operations with this layer in front: a private path is answered here, anything
   * else as before. Listings of tracked directories show the private entries in them too.
   */
  wrap(ops: Ops): Ops {
    const out: Ops = { ...ops };
    const mine = (p: string, kind?: 'file' | 'dir') => {
      const w = this.owns(p, kind);
      return w && { ...w, l: this.layer(w.agent) };
    };
    const noteRules = (p: string) => {
      const w = this.where(p);
      if (w && isRuleFile(w.rel)) this.ruleFileChanged(w.agent, w.rel);
    };
    out.getattr = (p, cb) => {
      const m = mine(p);
      if (!m) return ops.getattr!(p, cb);
      try {
        const s = this.stat(m.l, m.rel);
        if (!s) return cb(E('ENOENT'));
        cb(0, toStat(s.st));
      } catch (e) {
        cb(codeOf(e));
      }
    };
    out.readdir = (p, cb) => {
      const m = mine(p, 'dir');
      if (m) {
        try {
          const s = this.stat(m.l, m.rel);
          if (!s) return cb(E('ENOENT'));
          if (!s.st.isDirectory()) return cb(E('ENOTDIR'));
          const names = this.names(m.l, m.rel);
          return cb(0, [...names.keys()], [...names.values()].map(toStat));
        } catch (e) {
          return cb(codeOf(e));
        }
      }
      ops.readdir!(p, (code, names, stats) => {
        if (code !== 0 || !names) return cb(code, names, stats);
        cb(code, ...this.mergeListing(p, names, stats));
      });
    };
    out.read = (p, fd, buf, len, pos, cb) => {
      const m = mine(p, 'file');
      if (!m) return ops.read!(p, fd, buf, len, pos, cb);
      try {
        cb(fs.readSync(this.fdFor(m.l, p, m.rel, false), buf, 0, len, pos));
      } catch (e) {
        cb(codeOf(e));
      }
    };
    out.write = (p, fd, buf, len, pos, cb) => {
      const m = mine(p, 'file');
      if (!m) {
        noteRules(p);
        return ops.write!(p, fd, buf, len, pos, cb);
      }
      try {
        cb(fs.writeSync(this.fdFor(m.l, p, m.rel, true), buf, 0, len, pos));
        if (isRuleFile(m.rel)) this.ruleFileChanged(m.agent, m.rel);
      } catch (e) {
        cb(codeOf(e));
      }
    };
    out.create = (p, mode, cb) => {
      const m = mine(p, 'file');
      if (!m) {
        noteRules(p);
        return ops.create!(p, mode, cb);
      }
      try {
        this.ensureDir(m.l, parentOf(m.rel));
        this.closeFd(p);
        const fd = fs.openSync(
          m.l.up(m.rel),
          fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW,
          mode & 0o7777,
        );
        this.fds.set(p, { fd, writable: true });
        m.l.setWhiteout(m.rel, undefined);
        if (isRuleFile(m.rel)) this.ruleFileChanged(m.agent, m.rel);
        cb(0, 0);
      } catch (e) {
        cb(codeOf(e));
      }
    };
    const truncate = (p: string, size: number, cb: Fuse.Cb, inner: () => void) => {
      const m = mine(p, 'file');
      if (!m) {
        noteRules(p);
        return inner();
      }
      this.run(cb, () => {
        this.copyUp(m.l, m.rel, size === 0);
        fs.truncateSync(m.l.up(m.rel), size);
        if (isRuleFile(m.rel)) this.ruleFileChanged(m.agent, m.rel);
      });
    };
    out.truncate = (p, size, cb) => truncate(p, size, cb, () => ops.truncate!(p, size, cb));
    out.ftruncate = (p, fd, size, cb) => truncate(p, size, cb, () => ops.ftruncate!(p, fd, size, cb));
    out.release = (p, fd, cb) => {
      if (!this.fds.has(p)) return ops.release!(p, fd, cb);
      this.closeFd(p);
      cb(0);
    };
    out.fsync = (p, fd, datasync, cb) => {
      const f = this.fds.get(p);
      if (!f) return ops.fsync!(p, fd, datasync, cb);
      this.run(cb, () => fs.fsyncSync(f.fd));
    };
    out.unlink = (p, cb) => {
      const m = mine(p, 'file');
      if (!m) {
        noteRules(p);
        return ops.unlink!(p, cb);
      }
      this.run(cb, () => {
        const s = this.stat(m.l, m.rel) ?? refuse('ENOENT');
        if (s.st.isDirectory()) refuse('EISDIR');
        this.closeFd(p);
        if (s.upper) fs.unlinkSync(m.l.up(m.rel));
        if (this.lowerStat(m.rel)) m.l.setWhiteout(m.rel, 'gone');
        if (isRuleFile(m.rel)) this.ruleFileChanged(m.agent, m.rel);
      });
    };
    out.mkdir = (p, mode, cb) => {
      const m = mine(p, 'dir');
      if (!m) return ops.mkdir!(p, mode, cb);
      this.run(cb, () => {
        if (this.stat(m.l, m.rel)) refuse('EEXIST');
        this.ensureDir(m.l, parentOf(m.rel));
        fs.mkdirSync(m.l.up(m.rel), { mode: mode & 0o7777 });
        // A directory made where the workspace's was deleted shows none of the workspace's entries.
        if (m.l.lowerHidden(m.rel)) {
          m.l.dropWhiteoutsBelow(m.rel);
          m.l.setWhiteout(m.rel, 'opaque');
        }
      });
    };
    out.rmdir = (p, cb) => {
      const m = mine(p, 'dir');
      // An empty directory holds no rule file: removing a tracked one changes no rule.
      if (!m) return ops.rmdir!(p, cb);
      this.run(cb, () => {
        const s = this.stat(m.l, m.rel) ?? refuse('ENOENT');
        if (!s.st.isDirectory()) refuse('ENOTDIR');
        if (this.names(m.l, m.rel).size > 0) refuse('ENOTEMPTY');
        if (s.upper) fs.rmSync(m.l.up(m.rel), { recursive: true });
        m.l.dropWhiteoutsBelow(m.rel);
        m.l.setWhiteout(m.rel, this.lowerStat(m.rel) ? 'gone' : undefined);
      });
    };
    out.rename = (src, dest, cb) => {
      const a = mine(src);
      const b = mine(dest, a ? (this.kindHere(a.l, a) ?? 'file') : undefined);
      if (!a && !b) {
        // A rule file moved, or a directory that may hold some.
        const w = this.where(src);
        const to = this.where(dest);
        if (w) this.moved(w.agent, w.rel, to?.rel, this.tracked.kind(src) === 'dir');
        return ops.rename!(src, dest, cb);
      }
      // Between the private layer and the recorded shadow: mv copies, and each side stays what it is.
      if (!a || !b || a.agent !== b.agent) return cb(E('EXDEV'));
      this.run(cb, () => this.renameHere(a.l, src, a.rel, dest, b.rel));
    };
    out.chmod = (p, mode, cb) => {
      const m = mine(p);
      if (!m) return ops.chmod!(p, mode, cb);
      this.run(cb, () => {
        const st = this.copyUp(m.l, m.rel);
        if (!st.isSymbolicLink()) fs.chmodSync(m.l.up(m.rel), mode & 0o7777);
      });
    };
    out.utimens = (p, atime, mtime, cb) => {
      const m = mine(p);
      if (!m) return ops.utimens!(p, atime, mtime, cb);
      this.run(cb, () => {
        this.copyUp(m.l, m.rel);
        fs.lutimesSync(m.l.up(m.rel), atime, mtime);
      });
    };
    out.chown = (p, u, g, cb) => {
      if (!mine(p)) return ops.chown!(p, u, g, cb);
      cb(0);
    };
    const innerSymlink = ops.symlink;
    out.symlink = (target, p, cb) => {
      const m = mine(p, 'file');
      if (!m) return innerSymlink ? innerSymlink(target, p, cb) : cb(E('EPERM'));
      this.run(cb, () => {
        if (this.stat(m.l, m.rel)) refuse('EEXIST');
        this.ensureDir(m.l, parentOf(m.rel));
        fs.symlinkSync(target, m.l.up(m.rel));
        m.l.setWhiteout(m.rel, undefined);
      });
    };
    const innerReadlink = ops.readlink;
    out.readlink = (p, cb) => {
      const m = mine(p, 'file');
      if (!m) return innerReadlink ? innerReadlink(p, cb) : cb(E('EINVAL'));
      try {
        const s = this.stat(m.l, m.rel) ?? refuse('ENOENT');
        if (!s.st.isSymbolicLink()) refuse('EINVAL');
        cb(0, fs.readlinkSync(s.upper ? m.l.up(m.rel) : this.lowerAbs(m.rel)!));
      } catch (e) {
        cb(codeOf(e));
      }
    };
    const innerLink = ops.link;
    out.link = (src, dest, cb) => {
      const a = mine(src, 'file');
      const b = mine(dest, 'file');
      if (!a && !b) return innerLink ? innerLink(src, dest, cb) : cb(E('EPERM'));
      if (!a || !b || a.agent !== b.agent) return cb(E('EXDEV'));
      this.run(cb, () => {
        if (this.stat(b.l, b.rel)) refuse('EEXIST');
        const st = this.copyUp(a.l, a.rel);
        if (st.isDirectory()) refuse('EPERM');
        this.ensureDir(b.l, parentOf(b.rel));
        fs.linkSync(a.l.up(a.rel), b.l.up(b.rel));
        b.l.setWhiteout(b.rel, undefined);
      });
    };
    return out;
  }

  private renameHere(l: AgentLayer, srcPath: string, src: string, destPath: string, dest: string): void {
    if (src === dest) return;
    const s = this.stat(l, src) ?? refuse('ENOENT');
    const d = this.stat(l, dest);
    if (s.st.isDirectory()) {
      if (dest.startsWith(src + '/')) refuse('EINVAL');
      if (d && !d.st.isDirectory()) refuse('ENOTDIR');
      if (d && this.names(l, dest).size > 0) refuse('ENOTEMPTY');
    } else if (d?.st.isDirectory()) refuse('EISDIR');
    this.closeUnder(srcPath);
    this.closeUnder(destPath);
    this.copyUpTree(l, src);
    this.ensureDir(l, parentOf(dest));
    if (d && d.st.isDirectory() && d.upper) fs.rmdirSync(l.up(dest));
    fs.renameSync(l.up(src), l.up(dest));
    // What moved is whole in this layer: nothing of the workspace shows below its new name.
    l.dropWhiteoutsBelow(dest);
    l.setWhiteout(dest, s.st.isDirectory() && this.lowerStat(dest) ? 'opaque' : undefined);
    l.dropWhiteoutsBelow(src);
    l.setWhiteout(src, this.lowerStat(src) ? 'gone' : undefined);
    this.moved(l.agent, src, dest, s.st.isDirectory());
  }

  /** `src` moved to `dest`: the rules read at or below either are read again if it can matter. */
  private moved(agent: string, src: string, dest: string | undefined, isDir: boolean): void {
    for (const rel of [src, dest]) {
      if (rel === undefined) continue;
      if (isDir) this.rulesChanged(agent, rel);
      else if (isRuleFile(rel)) this.ruleFileChanged(agent, rel);
    }
  }

  /** A tracked directory's listing with the private entries in it in place of the workspace's. */
  private mergeListing(
    dirPath: string,
    names: string[],
    stats: Fuse.Stat[] | undefined,
  ): [string[], Fuse.Stat[] | undefined] {
    const w = this.where(dirPath + '/x');
    if (!w) return [names, stats];
    const dir = parentOf(w.rel);
    const l = this.layer(w.agent);
    const outNames: string[] = [];
    const outStats: Fuse.Stat[] = [];
    const seen = new Set<string>();
    const add = (n: string, st: Fuse.Stat | undefined) => {
      seen.add(n);
      outNames.push(n);
      if (st) outStats.push(st);
    };
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      const rel = dir === '' ? n : `${dir}/${n}`;
      const st = stats?.[i];
      const kind = st ? ((st.mode & S_IFMT) === 0o040000 ? 'dir' : 'file') : undefined;
      if (!this.ownsWhere({ agent: w.agent, rel }, kind)) {
        add(n, st);
        continue;
      }
      const m = this.stat(l, rel);
      if (m) add(n, toStat(m.st));
    }
    let own: string[] = [];
    try {
      own = fs.readdirSync(l.up(dir));
    } catch {
      // nothing private in this directory
    }
    for (const n of own) {
      if (seen.has(n)) continue;
      const rel = dir === '' ? n : `${dir}/${n}`;
      const st = this.upperStat(l, rel);
      if (st && this.ownsWhere({ agent: w.agent, rel }, st.isDirectory() ? 'dir' : 'file'))
        add(n, toStat(st));
    }
    return [outNames, stats && outStats.length === outNames.length ? outStats : undefined];
  }

  /** Forgets an agent's private files (its shadow discarded as a whole). */
  clear(agent: string): void {
    if (!AgentId.safeParse(agent).success) return;
    this.closeUnder(`/shadows/${agent}`);
    this.layers.delete(agent);
    const dir = path.join(this.root, agent);
    if (within(this.root, dir)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

const EMPTY = new Set<string>();
