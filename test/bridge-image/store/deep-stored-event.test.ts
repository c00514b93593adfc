import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_STORED_DEPTH,
  UNREADABLE,
  type Event,
  type EventPage,
} from '../../../bridge-image/protocol/index.js';
import { BRIDGE_JS, startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

/**
 * Stores written before the bridge bounded JSON depth may hold an event nested thousands of levels
 * deep (4,111 was enough: JSON.parse takes it, JSON.stringify overflows the stack). Such a row is
 * written here straight into SQLite while the bridge is stopped; every reader must still work.
 */
const DEPTH = 4111;
const deepText = '['.repeat(DEPTH) + ']'.repeat(DEPTH);

let b: BridgeProcess;
let deepSeq: number;
let badSeq: number;
let lastSeq: number;

beforeAll(async () => {
  const first = await startBridge();
  await first.agent('writer').append({ events: [{ type: 'custom.before', data: { n: 1 } }] });
  expect(await first.stop()).toBe(0);
  const db = new Database(path.join(first.dataDir, 'events.db'));
  const last = db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number;
  const insert = db.prepare(
    'INSERT INTO events (seq, id, stream, stream_version, type, agent_id, ts, path, data) VALUES (?,?,?,?,?,?,?,?,?)',
  );
  deepSeq = last + 1;
  badSeq = last + 2;
  const row = (seq: number, v: number, data: string) =>
    insert.run(seq, `0190-deep-${seq}`, 'custom:deep', v, 'custom.deep', 'writer', Date.now(), null, data);
  row(deepSeq, 1, `{"keep":"me","deep":${deepText}}`);
  row(badSeq, 2, '{"not json');
  db.close();
  b = await startBridge({ dataDir: first.dataDir, secret: first.secret });
  // The restart appended system.started after the rows.
  await b.agent('writer').append({ events: [{ type: 'custom.after', data: { n: 2 } }] });
  lastSeq = (await b.admin().query({ order: 'desc', limit: 1 })).lastSeq;
});
afterAll(async () => {
  await b.stop();
});

/** The marker standing in for the clipped part, and how many arrays lead to it. */
function markerIn(deep: unknown): { levels: number; marker: Record<string, unknown> } {
  let levels = 0;
  let v = deep;
  while (Array.isArray(v)) {
    expect(v).toHaveLength(1);
    v = v[0];
    levels++;
  }
  return { levels, marker: v as Record<string, unknown> };
}

function expectReadable(events: Event[]) {
  const deep = events.find((e) => e.seq === deepSeq)!;
  const data = deep.data as { keep: string; deep: unknown };
  expect(data.keep).toBe('me');
  // data is level 1, its arrays levels 2..; the one at MAX_STORED_DEPTH became the marker, holding
  // the stored text of everything from there down.
  const { levels, marker } = markerIn(data.deep);
  expect(levels).toBe(MAX_STORED_DEPTH - 2);
  expect(marker[UNREADABLE]).toBe(`nests deeper than ${MAX_STORED_DEPTH} levels`);
  const rest = DEPTH - levels;
  expect(marker.json).toBe('['.repeat(rest) + ']'.repeat(rest));
  const bad = events.find((e) => e.seq === badSeq)!;
  expect(bad.data).toEqual({ [UNREADABLE]: 'not valid JSON', json: '{"not json' });
}

describe('a store holding an event nested 4,111 deep (and a row that is not JSON)', () => {
  it('GET /v1/events pages through every event, the deep one served clipped to a marker', async () => {
    const admin = b.admin();
    const seen: Event[] = [];
    let after = 0;
    for (;;) {
      const page: EventPage = await admin.query({ after, limit: 1 });
      seen.push(...page.events);
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
    // Every seq, none missing (sessions opened since add events of their own past lastSeq).
    expect(seen.length).toBeGreaterThanOrEqual(lastSeq);
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    expectReadable(seen);
    // Filtered queries read the same rows.
    expectReadable((await admin.query({ stream: 'custom:deep' })).events);
  });

  it('WebSocket catch-up from 0 delivers every event and catches up; the bridge keeps running', async () => {
    const got: Event[] = [];
    let caughtUp = -1;
    const sub = b
      .agent('reader')
      .subscribe({ after: 0, onEvent: (e) => got.push(e), onCaughtUp: (s) => (caughtUp = s) });
    const deadline = Date.now() + 10_000;
    while (caughtUp < lastSeq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sub.close();
    expect(caughtUp).toBeGreaterThanOrEqual(lastSeq);
    expect(got.filter((e) => e.seq <= lastSeq).map((e) => e.seq)).toEqual(
      Array.from({ length: lastSeq }, (_, i) => i + 1),
    );
    expectReadable(got);
    expect((await b.admin().health()).status).toBe('ok');
  });

  it('exports whole (HTTP and `bridge.js export`), and the export imports into an empty store', async () => {
    const http = await b.admin().exportJsonl();
    const lines = http.trimEnd().split('\n');
    const events = lines
      .map((l) => JSON.parse(l) as { kind: string } & Event)
      .filter((l) => l.kind === 'event');
    expect(events.map((e) => e.seq).slice(0, lastSeq)).toEqual(
      Array.from({ length: lastSeq }, (_, i) => i + 1),
    );
    expectReadable(events);

    const dir = tempDir();
    const file = path.join(dir, 'cli.jsonl');
    const ex = spawnSync(process.execPath, [BRIDGE_JS, 'export', '--data-dir', b.dataDir, '--out', file], {
      encoding: 'utf8',
    });
    expect(ex.stderr).toBe('');
    expect(ex.status).toBe(0);
    const im = spawnSync(
      process.execPath,
      [BRIDGE_JS, 'import', '--data-dir', path.join(dir, 'fresh'), '--from', file],
      { encoding: 'utf8' },
    );
    expect(im.stderr).toBe('');
    expect(im.status).toBe(0);
    const restored = await startBridge({ dataDir: path.join(dir, 'fresh'), secret: b.secret });
    try {
      const page = await restored.admin().query({ limit: 10_000 });
      expectReadable(page.events);
      // Read back again, the marker is ordinary data: the same on every later export.
      expect(page.events.find((e) => e.seq === deepSeq)!.data).toEqual(
        events.find((e) => e.seq === deepSeq)!.data,
      );
    } finally {
      await restored.stop();
    }
    expect(fs.statSync(file).size).toBeGreaterThan(2 * DEPTH);
  });
});
