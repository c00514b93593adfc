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

/**
 * The kernel opens files of the mount without asking the daemon and keeps their pages across opens;
 * nothing may be read stale for that, and what was written is recorded by the time close returns.
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

  it('records what a program wrote by the time its close returns, one event per close', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    fs.writeFileSync(path.join(sa, 'kept.txt'), 'first\n');
    // An existing file, opened by the kernel without asking the daemon; two writes, one close.
    const fd = fs.openSync(path.join(sa, 'kept.txt'), 'r+');
    fs.writeSync(fd, 'second');
    fs.writeSync(fd, ', longer\n');
    fs.closeSync(fd);
    // No waiting: the events are in the store already.
    const { events } = await alice.query({ stream: 'shadow:alice', type: 'shadow.written' });
    const kept = events.filter((e) => (e.data as { path?: string }).path === 'kept.txt');
    // Created (empty), then one event for each close.
    expect(kept.map((e) => (e.data as { size: number }).size)).toEqual([0, 6, 15]);
    expect(fs.readFileSync(path.join(mnt, `history/${kept[2]!.seq}/alice/kept.txt`), 'utf8')).toBe(
      'second, longer\n',
    );
  });

  it('shows a write through the mount over HTTP as soon as it is closed', async () => {
    const sa = path.join(mnt, 'shadows/alice');
    fs.writeFileSync(path.join(sa, 'seen.txt'), 'one\n');
    expect((await alice.readFile('seen.txt')).toString()).toBe('one\n');
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
      let err: NodeJS.ErrnoException | undefined;
      try {
        fs.appendFileSync(path.join(mnt, 'shadows/alice/leased.txt'), 'more\n');
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      expect(err?.code).toBe('EACCES');
      expect((await alice.readFile('leased.txt')).toString()).toBe('before\n');
    } finally {
      await bob.releaseLease(lease.id);
    }
  });
});
