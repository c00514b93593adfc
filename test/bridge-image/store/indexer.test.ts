import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../../bridge-image/protocol/index.js';
import {
  EventStore,
  VersionConflict,
  type EventStoreOptions,
  type StoreQuery,
} from '../../../bridge-image/src/store/event-store.js';
import { tempDir, WRITER_JS } from '../../helpers/bridge-process.js';

const opened: EventStore[] = [];
const open = (file: string, opts: Partial<EventStoreOptions> = {}) => {
  const s = EventStore.open({ file, writerScript: WRITER_JS, ...opts });
  opened.push(s);
  return s;
};
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

const upto = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT upto FROM index_state').pluck().get() as number;
  } finally {
    db.close();
  }
};

/** What a query must return, worked out from the events themselves. */
function reference(all: Event[], q: StoreQuery): number[] {
  const matches = all.filter((e) => {
    if (
      q.types?.length &&
      !q.types.some((t) => (t.endsWith('*') ? e.type.startsWith(t.slice(0, -1)) : e.type === t))
    )
      return false;
    if (q.agents?.length && !q.agents.includes(e.agentId)) return false;
    if (q.streams?.length && !q.streams.includes(e.stream)) return false;
    if (q.path !== undefined && (e.data as { path?: string }).path !== q.path) return false;
    const ts = Date.parse(e.ts);
    if (q.since !== undefined && ts < q.since) return false;
    if (q.until !== undefined && ts >= q.until) return false;
    if (q.after !== undefined && e.seq <= q.after) return false;
    if (q.before !== undefined && e.seq >= q.before) return false;
    return true;
  });
  const seqs = matches.map((e) => e.seq);
  if (q.order === 'desc') seqs.reverse();
  return seqs.slice(0, q.limit);
}

const QUERIES: StoreQuery[] = [
  { limit: 1000 },
  { types: ['custom.a'], limit: 1000 },
  { types: ['custom.a', 'custom.b.*'], limit: 1000 },
  { types: ['custom.b.*'], order: 'desc', limit: 5 },
  { agents: ['ag1', 'ag2'], limit: 1000 },
  { agents: ['ag0'], types: ['custom.c'], limit: 1000 },
  { streams: ['s:0'], limit: 1000 },
  { streams: ['s:1', 's:2'], after: 10, before: 60, limit: 1000 },
  { streams: ['s:1'], order: 'desc', limit: 3 },
  { path: 'p3.ts', limit: 1000 },
  { path: 'p1.ts', agents: ['ag1'], limit: 1000 },
  { since: 0, limit: 1000 },
  { since: 0, until: 1, limit: 1000 },
  { after: 20, limit: 7 },
  { types: ['custom.a'], after: 250, limit: 20 },
  { types: ['custom.c'], before: 520, order: 'desc', limit: 30 },
  { agents: ['ag3'], after: 100, before: 560, limit: 1000 },
  { path: 'p5.ts', order: 'desc', limit: 1000 },
  { types: ['custom.*'], after: 30, limit: 1000 },
];

async function appendMany(store: EventStore, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const type = ['custom.a', 'custom.b.x', 'custom.b.y', 'custom.c'][i % 4]!;
    await store.append({
      stream: `s:${i % 3}`,
      agentId: `ag${i % 5}`,
      events: [{ type, data: { i, ...(i % 2 ? { path: `p${i % 7}.ts` } : {}) } }],
    });
  }
}

describe('the index behind the log', () => {
  it('answers every query the same with nothing, part or all of the log indexed', async () => {
    const file = path.join(tempDir(), 'e.db');
    // Idle indexing off; a step of 7 events after any commit that leaves 7 or more unindexed.
    const store = open(file, { indexBatch: 7, indexIdleMs: 3_600_000 });
    const check = () => {
      const all = store.query({ limit: 100_000 }).events;
      for (const q of QUERIES) {
        expect(
          store.query(q).events.map((e) => e.seq),
          JSON.stringify(q),
        ).toEqual(reference(all, q));
      }
    };
    await appendMany(store, 0, 6);
    expect(upto(file)).toBe(0);
    check();
    await appendMany(store, 6, 80);
    const part = upto(file);
    expect(part).toBeGreaterThan(0);
    expect(part).toBeLessThan(store.lastSeq);
    check();
    // Past the first blocks of 256 seqs, several events per append.
    for (let i = 86; i < 606; i += 8) {
      await store.append({
        stream: `s:${i % 3}`,
        agentId: `ag${i % 5}`,
        events: Array.from({ length: 8 }, (_, k) => ({
          type: ['custom.a', 'custom.b.x', 'custom.c'][(i + k) % 3]!,
          data: { i: i + k, ...((i + k) % 2 ? { path: `p${(i + k) % 7}.ts` } : {}) },
        })),
      });
    }
    expect(upto(file)).toBeGreaterThan(512);
    expect(upto(file)).toBeLessThan(store.lastSeq);
    check();
    await store.close();
    opened.length = 0;
    // Reopened with idle indexing: the rest gets indexed.
    const again = open(file, { indexIdleMs: 5 });
    const t0 = Date.now();
    while (upto(file) < again.lastSeq && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(upto(file)).toBe(again.lastSeq);
    const all = again.query({ limit: 100_000 }).events;
    expect(all).toHaveLength(606);
    for (const q of QUERIES) expect(again.query(q).events.map((e) => e.seq)).toEqual(reference(all, q));
  });

  it('keeps stream versions exact across the indexed part and the tail, after a restart too', async () => {
    const file = path.join(tempDir(), 'e.db');
    let store = open(file, { indexBatch: 5, indexIdleMs: 3_600_000 });
    for (let i = 0; i < 12; i++)
      await store.append({ stream: 's', agentId: 'a', events: [{ type: 'custom.x', data: i }] });
    expect(upto(file)).toBe(10);
    await store.close();
    opened.length = 0;
    store = open(file, { indexBatch: 5, indexIdleMs: 3_600_000 });
    const [ok] = await store.append({
      stream: 's',
      agentId: 'a',
      expectedVersion: 12,
      events: [{ type: 'custom.x', data: 12 }],
    });
    expect(ok!.streamVersion).toBe(13);
    const err = await store
      .append({ stream: 's', agentId: 'a', expectedVersion: 12, events: [{ type: 'custom.x', data: 13 }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VersionConflict);
    expect((err as VersionConflict).currentVersion).toBe(13);
    expect(store.query({ streams: ['s'], limit: 100 }).events.map((e) => e.streamVersion)).toEqual(
      Array.from({ length: 13 }, (_, i) => i + 1),
    );
  });
});
