/**
 * Keeping the kernel's caches honest. The mount lets the kernel cache names, attributes and pages
 * (LIGHTHOUSE_FUSE_CACHE_SECONDS); whatever changes behind its back (an HTTP write, the workspace
 * edited on disk, the event log growing) is dropped with FUSE notify messages written to /dev/fuse:
 * FUSE_NOTIFY_INVAL_INODE (attributes and page cache of one node) and FUSE_NOTIFY_INVAL_ENTRY (one
 * name in a directory, with everything cached below it).
 */
import fs from 'node:fs';
import { ShadowView, type BlobSource } from '../shadow/shadow-view.js';
import type { WorkspaceBase } from '../shadow/workspace-base.js';
import type { LoggedEvent, StoreReader } from './store-reader.js';

const FUSE_NOTIFY_INVAL_INODE = 2;
const FUSE_NOTIFY_INVAL_ENTRY = 3;
const HEADER = 16;

/** struct fuse_out_header { u32 len; i32 error (the notify code); u64 unique (0) } + fuse_notify_inval_inode_out. */
export function invalInodeMessage(ino: number): Buffer {
  const b = Buffer.alloc(HEADER + 24);
  b.writeUInt32LE(b.length, 0);
  b.writeInt32LE(FUSE_NOTIFY_INVAL_INODE, 4);
  b.writeBigUInt64LE(0n, 8);
  b.writeBigUInt64LE(BigInt(ino), 16);
  b.writeBigInt64LE(0n, 24); // from offset 0
  b.writeBigInt64LE(0n, 32); // length 0: to the end
  return b;
}

/** fuse_notify_inval_entry_out { u64 parent; u32 namelen; u32 flags } followed by the name and a NUL. */
export function invalEntryMessage(parent: number, name: string): Buffer {
  const n = Buffer.from(name);
  const b = Buffer.alloc(HEADER + 16 + n.length + 1);
  b.writeUInt32LE(b.length, 0);
  b.writeInt32LE(FUSE_NOTIFY_INVAL_ENTRY, 4);
  b.writeBigUInt64LE(0n, 8);
  b.writeBigUInt64LE(BigInt(parent), 16);
  b.writeUInt32LE(n.length, 24);
  b.writeUInt32LE(0, 28);
  n.copy(b, 32);
  return b;
}

/** The /dev/fuse descriptor libfuse opened in this process, or undefined. */
export function findFuseFd(): number | undefined {
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${name}`) === '/dev/fuse') return Number(name);
    } catch {
      // closed meanwhile
    }
  }
  return undefined;
}

const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const join = (dir: string, rel: string) => (rel === '' ? dir : `${dir}/${rel}`);

/**
 * An annotation changes context/ (new names) and the content of its path's file there, whose pages
 * the kernel would otherwise keep when the size happens to stay the same.
 */
function noteAnnotation(e: LoggedEvent, t: Targets): void {
  if (!e.type.startsWith('annotation.')) return;
  t.entries.add('/context');
  const p = (e.data as { path?: unknown }).path;
  if (typeof p === 'string' && p !== '') t.inodes.add(`/context/${p}.json`);
}

/** Mount paths whose cached name (entry) or node (inode) must be dropped. */
export class Targets {
  readonly entries = new Set<string>();
  readonly inodes = new Set<string>();
  get empty(): boolean {
    return this.entries.size === 0 && this.inodes.size === 0;
  }
  /** A path that changed: its name and its node. */
  changed(mountPath: string): void {
    this.entries.add(mountPath);
    this.inodes.add(mountPath);
  }
}

type Kind = 'file' | 'dir' | 'symlink' | undefined;

/**
 * Works out, event by event, which mount paths a change of the log makes stale. Call `before` and
 * `after` around applying each event (StoreReader.catchUp does).
 */
export class ChangeTracker {
  private kinds = new Map<string, Kind>();

  constructor(
    private readonly reader: StoreReader & BlobSource,
    private readonly base: WorkspaceBase,
    readonly targets: Targets,
  ) {}

  private touched(e: LoggedEvent): { agent: string; paths: string[] } | undefined {
    if (!e.stream.startsWith('shadow:') || !e.type.startsWith('shadow.')) return undefined;
    const d = e.data as { path?: unknown; from?: unknown; paths?: unknown };
    const paths = [d.path, d.from, ...(Array.isArray(d.paths) ? (d.paths as unknown[]) : [])].filter(
      (p): p is string => typeof p === 'string' && p !== '',
    );
    return { agent: e.stream.slice('shadow:'.length), paths };
  }

  private kindsOf(agent: string, paths: string[]): Map<string, Kind> {
    const view = new ShadowView(this.reader.overlay(agent), this.base, this.reader);
    const out = new Map<string, Kind>();
    for (const p of paths)
      for (let q = p; q !== ''; q = parentOf(q)) {
        if (out.has(q)) continue;
        try {
          out.set(q, view.node(q)?.type);
        } catch {
          out.set(q, undefined);
        }
      }
    return out;
  }

  before = (e: LoggedEvent): void => {
    const t = this.touched(e);
    this.kinds = t ? this.kindsOf(t.agent, t.paths) : new Map();
  };

  after = (e: LoggedEvent): void => {
    this.targets.inodes.add('/streams/events.jsonl');
    noteAnnotation(e, this.targets);
    const t = this.touched(e);
    if (!t) return;
    const now = this.kindsOf(t.agent, t.paths);
    const top = `/shadows/${t.agent}`;
    for (const p of t.paths) this.targets.changed(join(top, p));
    // A directory that appears or vanishes with the change (implicit ones, moved ones) or changes kind.
    for (const [q, k] of now) if (this.kinds.get(q) !== k) this.targets.changed(join(top, q));
  };

  /**
   * Every mount path these events may touch (each changed path and its ancestors), so that their
   * inode numbers can be learnt before the change is applied.
   */
  candidates(events: LoggedEvent[]): Targets {
    const t = new Targets();
    for (const p of this.targets.entries) t.entries.add(p);
    for (const p of this.targets.inodes) t.inodes.add(p);
    if (events.length > 0) t.inodes.add('/streams/events.jsonl');
    for (const e of events) {
      noteAnnotation(e, t);
      const touched = this.touched(e);
      if (!touched) continue;
      const top = `/shadows/${touched.agent}`;
      for (const p of touched.paths) for (let q = p; q !== ''; q = parentOf(q)) t.changed(join(top, q));
    }
    return t;
  }

  /** Takes the targets noted so far. */
  take(): Targets {
    const t = new Targets();
    for (const p of this.targets.entries) t.entries.add(p);
    for (const p of this.targets.inodes) t.inodes.add(p);
    this.targets.entries.clear();
    this.targets.inodes.clear();
    return t;
  }

  /** The workspace changed at `rel`: current/ and every shadow that shows the workspace there. */
  baseChanged(rel: string, agents: Iterable<string>): void {
    this.targets.changed(join('/current', rel));
    for (const a of agents) this.targets.changed(join(`/shadows/${a}`, rel));
    // history/ views read unchanged paths from the workspace too; they are rare, drop them whole.
    this.targets.entries.add('/history');
  }
}

/** The mount paths whose inode numbers an invalidation needs (root's is 1). */
export function pathsToProbe(t: Targets): string[] {
  const out = new Set<string>(t.inodes);
  for (const e of t.entries) {
    const parent = e.slice(0, e.lastIndexOf('/')) || '/';
    if (parent !== '/') out.add(parent);
  }
  return [...out];
}

/** The notify messages for `t`, given the probed inode numbers (null: not there, nothing cached). */
export function messages(
  t: Targets,
  inos: Map<string, number | null>,
  only: 'inodes' | 'all' = 'all',
): Buffer[] {
  const out: Buffer[] = [];
  for (const p of t.inodes) {
    const ino = inos.get(p);
    if (ino) out.push(invalInodeMessage(ino));
  }
  if (only === 'inodes') return out;
  for (const e of t.entries) {
    const cut = e.lastIndexOf('/');
    const parent = e.slice(0, cut) || '/';
    const ino = parent === '/' ? 1 : inos.get(parent);
    if (ino) out.push(invalEntryMessage(ino, e.slice(cut + 1)));
  }
  return out;
}
