import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const fuseAvailable = fs.existsSync('/dev/fuse') && process.getuid?.() === 0;

/** Reads `file` until it holds `want` or `ms` pass; returns what it read last. */
async function readUntil(file: string, want: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  let got = fs.readFileSync(file, 'utf8');
  while (got !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    got = fs.readFileSync(file, 'utf8');
  }
  return got;
}

/** The error code `fn` fails with, or undefined when it succeeds. */
function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
}

/**
 * The kernel opens files of the mount without asking the daemon and keeps their pages across opens;
 * nothing may be read stale for that, and nothing written may wait for a close the daemon never sees.
 * Only the workspace root is watched (limit 1) and the kernel's cache time is 1 s, so that edits
 * beyond the watch limit show within the test.
 */
describe.skipIf(!fuseAvailable)('the kernel page cache of the mount', () => {
  let b: BridgeProcess;
  let ws: string;
  let mnt: string;
  let alice: BridgeClient;

  beforeAll(async () => {
    const top = tempDir();
    ws = path.join(top, 'ws');
    mnt = path.join(top, 'mnt');
    fs.mkdirSync(path.join(ws, 'deep/down'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'deep/down/edited.txt'), 'version 1\n');
    fs.writeFileSync(path.join(ws, 'deep/down/replaced.txt'), 'replaced 1\n');
    b = await startBridge({
      workspace: ws,
      fuseMount: mnt,
      env: { LIGHTHOUSE_FUSE_WATCH_LIMIT: '1', LIGHTHOUSE_FUSE_CACHE_SECONDS: '1' },
    });
    alice = b.agent('alice');
    await alice.registerAgent({ capabilities: [] });
    // A shadow that changes something, but not the files edited below.
    await alice.writeFile('other.txt', 'mine\n');
  });
  afterAll(async () => {
    await b.stop();
  });

  it('shows same-size edits of workspace files that no inotify watch sees, in current/ and a shadow', async () => {
    expect(b.stderr()).toMatch(/watching 1 workspace directories \(limit 1\)/);
    const views = ['current', 'shadows/alice'].map((v) => path.join(mnt, v, 'deep/down'));
    for (const dir of views)
      for (let i = 0; i < 2; i++) {
        expect(fs.readFileSync(path.join(dir, 'edited.txt'), 'utf8')).toBe('version 1\n');
        expect(fs.readFileSync(path.join(dir, 'replaced.txt'), 'utf8')).toBe('replaced 1\n');
      }

    // Edited in place, and replaced by a rename (an editor's save): the sizes stay the same, so only
    // the mtime tells. It is set well apart, whatever the file system's time resolution.
    const later = new Date(Date.now() + 60_000);
    fs.writeFileSync(path.join(ws, 'deep/down/edited.txt'), 'version 2\n');
    fs.utimesSync(path.join(ws, 'deep/down/edited.txt'), later, later);
    fs.writeFileSync(path.join(ws, 'deep/down/replaced.tmp'), 'replaced 2\n');
    fs.utimesSync(path.join(ws, 'deep/down/replaced.tmp'), later, later);
    fs.renameSync(path.join(ws, 'deep/down/replaced.tmp'), path.join(ws, 'deep/down/replaced.txt'));

    for (const dir of views) {
      expect(await readUntil(path.join(dir, 'edited.txt'), 'version 2\n', 10_000)).toBe('version 2\n');
      expect(await readUntil(path.join(dir, 'replaced.txt'), 'replaced 2\n', 10_000)).toBe('replaced 2\n');
    }
  });

  /** The event log as the mount serves it (no HTTP request, which would have writes recorded first). */
  const logged = (all = false) =>
    fs
      .readFileSync(path.join(mnt, 'streams/events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { seq: number; type: string; data: { path?: string; size?: number; id?: string } },
      )
      .filter((e) => all || e.type === 'shadow.written');

  it('records a write to an existing file that no close reports, once the writer pauses', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    fs.writeFileSync(path.join(sa, 'kept.txt'), 'first\n');
    fs.writeFileSync(path.join(sa, 'kept.txt'), 'second, longer\n');
    expect(fs.readFileSync(path.join(sa, 'kept.txt'), 'utf8')).toBe('second, longer\n');
    const recorded = () => logged().find((e) => e.data.path === 'kept.txt' && e.data.size === 15);
    const deadline = Date.now() + 10_000;
    while (!recorded() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const e = recorded();
    expect(e).toBeDefined();
    expect(fs.readFileSync(path.join(mnt, `history/${e!.seq}/alice/kept.txt`), 'utf8')).toBe(
      'second, longer\n',
    );
  });

  it('records what a program that keeps writing has written so far, at least every 5 s', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    fs.writeFileSync(path.join(sa, 'build.log'), '');
    const fd = fs.openSync(path.join(sa, 'build.log'), 'a');
    const sizes = () =>
      logged()
        .filter((e) => e.data.path === 'build.log')
        .map((e) => e.data.size!);
    try {
      // A line every 100 ms never leaves the file alone for the daemon's idle time.
      const started = Date.now();
      const deadline = started + 12_000;
      let lines = 0;
      while (Date.now() < deadline && !sizes().some((n) => n > 0)) {
        fs.writeSync(fd, `line ${lines++}\n`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const recorded = Math.max(...sizes());
      expect(recorded).toBeGreaterThan(0);
      // Recorded while the writing went on, once about 5 s of it had gathered.
      expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
      for (let i = 0; i < 10; i++) {
        fs.writeSync(fd, `line ${lines++}\n`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(fs.statSync(path.join(sa, 'build.log')).size).toBeGreaterThan(recorded);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('records a write by the time fsync returns', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    fs.writeFileSync(path.join(sa, 'synced.txt'), 'one\n');
    // An existing file: the kernel opens it without the daemon, and its close reports nothing.
    const fd = fs.openSync(path.join(sa, 'synced.txt'), 'r+');
    try {
      fs.writeSync(fd, 'two, and more\n');
      fs.fsyncSync(fd);
      // No waiting and no HTTP request: the event is in the log the mount serves.
      const e = logged().find((x) => x.data.path === 'synced.txt' && x.data.size === 14);
      expect(e).toBeDefined();
      expect(fs.readFileSync(path.join(mnt, `history/${e!.seq}/alice/synced.txt`), 'utf8')).toBe(
        'two, and more\n',
      );
    } finally {
      fs.closeSync(fd);
    }
  });

  it('records a write gathered in one shadow before another agent takes a lease on its path', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    fs.writeFileSync(path.join(sa, 'contested.txt'), 'alice 1\n');
    await alice.stat('contested.txt');
    const carol = b.agent('carol');
    await carol.registerAgent({ capabilities: [] });
    const fd = fs.openSync(path.join(sa, 'contested.txt'), 'r+');
    try {
      fs.writeSync(fd, 'alice 2\n');
      // Within the daemon's idle time: only the lease itself can have alice's write recorded first.
      const lease = await carol.acquireLease({ globs: ['contested.txt'], ttlMs: 60_000 });
      try {
        const log = logged(true);
        const written = log.find(
          (x) =>
            x.type === 'shadow.written' &&
            x.data.path === 'contested.txt' &&
            fs.readFileSync(path.join(mnt, `history/${x.seq}/alice/contested.txt`), 'utf8') === 'alice 2\n',
        );
        const leased = log.find((x) => x.type === 'lease.acquired' && x.data.id === lease.id);
        expect(written).toBeDefined();
        expect(leased).toBeDefined();
        expect(written!.seq).toBeLessThan(leased!.seq);
        // What alice writes from now on is refused at the write.
        expect(errnoOf(() => fs.writeSync(fd, 'alice 3\n'))).toBe('EACCES');
        expect((await alice.readFile('contested.txt')).toString()).toBe('alice 2\n');
      } finally {
        await carol.releaseLease(lease.id);
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  it('shows a write through the mount over HTTP at once, also when no close reports it', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    fs.writeFileSync(path.join(sa, 'seen.txt'), 'one\n');
    expect((await alice.readFile('seen.txt')).toString()).toBe('one\n');
    // An existing file: the kernel neither opens nor releases it with the daemon.
    execFileSync('bash', ['-c', 'printf two >> seen.txt && printf three > other.txt'], { cwd: sa });
    expect((await alice.readFile('seen.txt')).toString()).toBe('one\ntwo');
    expect((await alice.stat('other.txt')).size).toBe(5);
    const changed = (await alice.changes()).changes.map((c) => c.path).sort();
    expect(changed).toEqual(expect.arrayContaining(['other.txt', 'seen.txt']));
    expect((await alice.readFile('other.txt')).toString()).toBe('three');
  });

  it('refuses a write under another agent’s exclusive lease at the write itself (EACCES)', async () => {
    await alice.writeFile('leased.txt', 'before\n');
    const bob = b.agent('bob');
    await bob.registerAgent({ capabilities: [] });
    const lease = await bob.acquireLease({ globs: ['leased.txt'], ttlMs: 60_000 });
    try {
      expect(errnoOf(() => fs.appendFileSync(path.join(mnt, 'shadows/alice/leased.txt'), 'more\n'))).toBe(
        'EACCES',
      );
      expect((await alice.readFile('leased.txt')).toString()).toBe('before\n');
    } finally {
      await bob.releaseLease(lease.id);
    }
  });
});
