import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStore, VersionConflict } from '../../../bridge-image/src/store/event-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../bridge-image/src/store/schema.js';
import { tempDir, WRITER_JS } from '../../helpers/bridge-process.js';

const opened: EventStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

/** A store as schema 2 left it, written with schema 2's own migrations. */
function schema2Store(file: string, n: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (const m of MIGRATIONS.filter((x) => x.version <= 2)) {
    m.up(db);
    db.pragma(`user_version = ${m.version}`);
  }
  const insert = db.prepare(
    'INSERT INTO events (seq, id, stream, stream_version, type, agent_id, ts, path, data) VALUES (?,?,?,?,?,?,?,?,?)',
  );
  const versions = new Map<string, number>();
  for (let seq = 1; seq <= n; seq++) {
    const stream = `agent:a${seq % 3}`;
    const v = (versions.get(stream) ?? 0) + 1;
    versions.set(stream, v);
    const p = seq % 2 ? `f${seq % 4}.ts` : null;
    insert.run(
      seq,
      `id-${seq}`,
      stream,
      v,
      seq % 2 ? 'custom.odd' : 'custom.even',
      `a${seq % 3}`,
      1_700_000_000_000 + seq * 1000,
      p,
      JSON.stringify({ seq, ...(p ? { path: p } : {}) }),
    );
  }
  db.prepare('INSERT INTO idempotency VALUES (?,?,?,?,?)').run('a1', 'key-1234', 201, '{"x":1}', Date.now());
  db.close();
}

describe('schema migrations', () => {
  it('migrates a schema 2 store to 3 with every event, its indexes filled, and versions going on', async () => {
    const file = path.join(tempDir(), 'e.db');
    schema2Store(file, 40);
    const store = EventStore.open({ file, writerScript: WRITER_JS, indexIdleMs: 3_600_000 });
    opened.push(store);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
      .pluck()
      .all();
    expect(indexes).toEqual([]);
    expect(db.prepare('SELECT upto FROM index_state').pluck().get()).toBe(40);
    // Block indexes: one row per key and block of 256 seqs (all 40 events are in block 0).
    expect(db.prepare('SELECT path, block FROM ix_path ORDER BY path').raw().all()).toEqual([
      ['f1.ts', 0],
      ['f3.ts', 0],
    ]);
    expect(db.prepare('SELECT COUNT(*) FROM ix_stream').pluck().get()).toBe(3);
    db.close();

    expect(store.lastSeq).toBe(40);
    const all = store.query({ limit: 100 }).events;
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(all[4]).toMatchObject({ id: 'id-5', stream: 'agent:a2', type: 'custom.odd', agentId: 'a2' });
    expect(store.query({ types: ['custom.even'], limit: 100 }).events.map((e) => e.seq)).toEqual(
      all.filter((e) => e.seq % 2 === 0).map((e) => e.seq),
    );
    expect(store.query({ path: 'f1.ts', limit: 100 }).events.map((e) => e.seq)).toEqual(
      all.filter((e) => e.seq % 4 === 1).map((e) => e.seq),
    );
    const since = Date.parse(all[29]!.ts);
    expect(store.query({ since, limit: 100 }).events.map((e) => e.seq)).toEqual(
      Array.from({ length: 11 }, (_, i) => i + 30),
    );
    expect(store.recallReply('a1', 'key-1234')).toEqual({ status: 201, body: '{"x":1}' });

    // agent:a1 holds seqs 1, 4, ..., 40: 14 events.
    const [next] = await store.append({
      stream: 'agent:a1',
      agentId: 'a1',
      expectedVersion: 14,
      events: [{ type: 'custom.more', data: null }],
    });
    expect(next).toMatchObject({ seq: 41, streamVersion: 15 });
    await expect(
      store.append({
        stream: 'agent:a1',
        agentId: 'a1',
        expectedVersion: 14,
        events: [{ type: 'custom.more', data: null }],
      }),
    ).rejects.toBeInstanceOf(VersionConflict);
  });
});
