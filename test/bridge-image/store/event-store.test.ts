import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CLAIMED, EventStore, VersionConflict } from '../../../bridge-image/src/store/event-store.js';
import { StoreOpenError } from '../../../bridge-image/src/store/schema.js';
import { tempDir, WRITER_JS } from '../../helpers/bridge-process.js';

const opened: EventStore[] = [];
const open = (file: string) => {
  const s = EventStore.open({ file, writerScript: WRITER_JS });
  opened.push(s);
  return s;
};
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

const ev = (type = 'custom.x', data: unknown = { n: 1 }) => ({ type, data });

describe('EventStore', () => {
  it('groups concurrent appends into one commit and gives gap-free seqs', async () => {
    const store = open(path.join(tempDir(), 'e.db'));
    const commits: number[] = [];
    store.onCommit((s) => commits.push(s.appends));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.append({ stream: `agent:a${i % 5}`, agentId: `a${i % 5}`, events: [ev()] }),
      ),
    );
    expect(commits).toEqual([50]);
    const seqs = results
      .flat()
      .map((e) => e.seq)
      .sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(store.lastSeq).toBe(50);
  });

  it('refuses a wrong expectedVersion without touching the rest of the batch', async () => {
    const store = open(path.join(tempDir(), 'e.db'));
    await store.append({ stream: 's:1', agentId: 'a', events: [ev(), ev()] });
    const [good, bad] = await Promise.allSettled([
      store.append({ stream: 's:1', agentId: 'a', expectedVersion: 2, events: [ev()] }),
      store.append({ stream: 's:1', agentId: 'a', expectedVersion: 2, events: [ev()] }),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    const err = (bad as PromiseRejectedResult).reason as VersionConflict;
    expect(err).toBeInstanceOf(VersionConflict);
    expect(err.currentVersion).toBe(3);
    expect(store.query({ streams: ['s:1'], limit: 10 }).events.map((e) => e.streamVersion)).toEqual([
      1, 2, 3,
    ]);
    expect(store.lastSeq).toBe(3);
  });

  it('queries by type prefix, agent, stream, path, time and pages both ways', async () => {
    const store = open(path.join(tempDir(), 'e.db'));
    for (let i = 0; i < 30; i++) {
      await store.append({
        stream: `agent:a${i % 3}`,
        agentId: `a${i % 3}`,
        events: [ev(i % 2 ? 'custom.odd' : 'custom.even', { path: `f${i % 4}.ts`, i })],
      });
    }
    expect(store.query({ types: ['custom.odd'], limit: 100 }).events).toHaveLength(15);
    expect(store.query({ types: ['custom.*'], limit: 100 }).events).toHaveLength(30);
    expect(store.query({ agents: ['a1'], limit: 100 }).events.every((e) => e.agentId === 'a1')).toBe(true);
    expect(store.query({ path: 'f2.ts', limit: 100 }).events.map((e) => (e.data as { i: number }).i)).toEqual(
      [2, 6, 10, 14, 18, 22, 26],
    );
    expect(store.query({ since: Date.now() + 60_000, limit: 10 }).events).toHaveLength(0);
    expect(store.query({ until: Date.now() + 60_000, limit: 100 }).events).toHaveLength(30);
    const seen: number[] = [];
    let after: number | undefined = 0;
    while (after !== undefined) {
      const page = store.query({ after, limit: 7 });
      seen.push(...page.events.map((e) => e.seq));
      after = page.nextCursor ?? undefined;
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const desc = store.query({ order: 'desc', limit: 5 });
    expect(desc.events.map((e) => e.seq)).toEqual([30, 29, 28, 27, 26]);
    expect(
      store.query({ order: 'desc', before: desc.nextCursor!, limit: 2 }).events.map((e) => e.seq),
    ).toEqual([25, 24]);
  });

  it('remembers the reply under an idempotency key in the same commit as the append', async () => {
    const store = open(path.join(tempDir(), 'e.db'));
    const commits: number[] = [];
    store.onCommit((s) => commits.push(s.appends));
    const [e] = await store.append({
      stream: 'custom:s',
      agentId: 'a',
      events: [ev()],
      idempotencyKey: 'key-one-1',
    });
    // One commit, one operation: the reply rode with the append.
    expect(commits).toEqual([1]);
    const first = store.recallReply('a', 'key-one-1')!;
    expect(first.status).toBe(201);
    expect(JSON.parse(first.body)).toEqual({
      stream: 'custom:s',
      streamVersion: 1,
      events: [{ seq: e!.seq, id: e!.id, streamVersion: 1 }],
    });
    const err = await store
      .append({
        stream: 'custom:s',
        agentId: 'a',
        expectedVersion: 0,
        events: [ev()],
        idempotencyKey: 'key-two-2',
      })
      .catch((x: unknown) => x);
    expect(err).toBeInstanceOf(VersionConflict);
    const refused = store.recallReply('a', 'key-two-2')!;
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body)).toEqual({
      error: {
        code: 'version_conflict',
        message: (err as VersionConflict).message,
        details: { stream: 'custom:s', expectedVersion: 0, currentVersion: 1 },
      },
    });
    expect(store.recallReply('b', 'key-one-1')).toBeUndefined();
  });

  it('marks a claimed key carried out in the same commit as the append, kept across a restart', async () => {
    const file = path.join(tempDir(), 'e.db');
    const store = open(file);
    const commits: number[] = [];
    store.onCommit((s) => commits.push(s.appends));
    const claim = { agentId: 'caller', key: 'claim-key-1' };
    // A handler that appends twice for one request claims once.
    await store.append({ stream: 'task:t1', agentId: 'caller', events: [ev()], claim });
    await store.append({ stream: 'task:t2', agentId: 'someone', events: [ev()], claim });
    expect(commits).toEqual([1, 1]);
    const peek = new Database(file, { readonly: true });
    const row = peek
      .prepare('SELECT status, body FROM idempotency WHERE agent_id = ? AND key = ?')
      .get('caller', 'claim-key-1');
    peek.close();
    expect(row).toEqual({ status: CLAIMED, body: '' });
    // A refused append carried nothing out, so it claims nothing.
    const conflict = await store
      .append({
        stream: 'task:t1',
        agentId: 'caller',
        expectedVersion: 0,
        events: [ev()],
        claim: { agentId: 'caller', key: 'claim-key-2' },
      })
      .catch((x: unknown) => x);
    expect(conflict).toBeInstanceOf(VersionConflict);

    // The bridge stops before the reply is kept: the claim is what a retry finds.
    await store.close();
    const again = open(file);
    expect(again.recallReply('caller', 'claim-key-1')).toEqual({ status: CLAIMED, body: '' });
    expect(again.recallReply('caller', 'claim-key-2')).toBeUndefined();
    expect(again.count()).toBe(2);
  });

  it('lets a reply replace a claim, but never another reply', async () => {
    const store = open(path.join(tempDir(), 'e.db'));
    await store.append({
      stream: 'task:t1',
      agentId: 'caller',
      events: [ev()],
      claim: { agentId: 'caller', key: 'claim-key-1' },
    });
    await store.rememberReply('caller', 'claim-key-1', 201, '{"id":"t1"}');
    expect(store.recallReply('caller', 'claim-key-1')).toEqual({ status: 201, body: '{"id":"t1"}' });
    await store.rememberReply('caller', 'claim-key-1', 404, '{"late":true}');
    expect(store.recallReply('caller', 'claim-key-1')).toEqual({ status: 201, body: '{"id":"t1"}' });
    // A claim after the reply (a handler's straggling append) does not hide the reply.
    await store.append({
      stream: 'task:t2',
      agentId: 'caller',
      events: [ev()],
      claim: { agentId: 'caller', key: 'claim-key-1' },
    });
    expect(store.recallReply('caller', 'claim-key-1')!.status).toBe(201);
  });

  it('stores a blob once by its SHA-256', async () => {
    const store = open(path.join(tempDir(), 'e.db'));
    const a = await store.putBlob(Buffer.from('hello'));
    const b = await store.putBlob(Buffer.from('hello'));
    expect(a.hash).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(store.blobCount()).toBe(1);
    expect(store.getBlob(a.hash)?.toString()).toBe('hello');
  });

  it('keeps events across close and reopen, and makes an online backup that opens', async () => {
    const dir = tempDir();
    let store = open(path.join(dir, 'e.db'));
    const pending = Array.from({ length: 20 }, () =>
      store.append({ stream: 'x', agentId: 'a', events: [ev()] }),
    );
    const backup = store.backup(path.join(dir, 'b.db'));
    await Promise.all(pending);
    await backup;
    await store.close();
    store = open(path.join(dir, 'e.db'));
    expect(store.lastSeq).toBe(20);
    const copy = open(path.join(dir, 'b.db'));
    expect(copy.count()).toBeGreaterThanOrEqual(0);
    expect(copy.query({ limit: 100 }).events.every((e, i) => e.seq === i + 1)).toBe(true);
  });

  it('refuses a damaged database with a clear message and never serves from it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'e.db');
    const store = open(file);
    for (let i = 0; i < 200; i++)
      await store.append({ stream: 'x', agentId: 'a', events: [ev('custom.x', { pad: 'y'.repeat(500) })] });
    await store.close();
    const buf = fs.readFileSync(file);
    // Overwrite the middle pages with garbage, leaving the header intact.
    for (let i = 4096 * 2; i < buf.length - 4096; i++) buf[i] = (i * 7) & 0xff;
    fs.writeFileSync(file, buf);
    expect(() => EventStore.open({ file, writerScript: WRITER_JS })).toThrow(StoreOpenError);
    expect(() => EventStore.open({ file, writerScript: WRITER_JS })).toThrow(/damaged/);
  });

  it('refuses a file that is not a database', () => {
    const file = path.join(tempDir(), 'e.db');
    fs.writeFileSync(
      file,
      'this is not sqlite at all, just text that is long enough to look like a header '.repeat(100),
    );
    expect(() => EventStore.open({ file, writerScript: WRITER_JS })).toThrow(
      /damaged or not a Lighthouse store/,
    );
  });

  it('refuses a store from a newer schema', async () => {
    const file = path.join(tempDir(), 'e.db');
    await open(file).close();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => EventStore.open({ file, writerScript: WRITER_JS })).toThrow(/schema version 99, newer/);
  });

  it('migrates a fresh file to the current schema version', async () => {
    const file = path.join(tempDir(), 'e.db');
    const s = open(file);
    await s.close();
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(s.schemaVersion);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
