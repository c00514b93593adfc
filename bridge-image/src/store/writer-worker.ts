/**
 * The event store's only writer, in a worker thread: its commits (and their fsyncs) run while the
 * main thread goes on parsing and answering requests, so one slow fsync never stalls the API.
 * Bundled on its own as bridge-image/dist/store-writer.js.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { appendedBody, conflictBody } from './append-reply.js';
import { Indexer } from './indexer.js';
import { WriterImport } from './writer-import.js';
import type { FromWriter, ImportOp, OpResult, ToWriter, WriteOp, WriterData } from './writer-protocol.js';

const { file, synchronous, indexBatch, indexIdleMs } = workerData as WriterData;
const port = parentPort!;
const post = (m: FromWriter) => port.postMessage(m);

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous}`);
db.pragma('busy_timeout = 5000');
// A bigger page cache and rarer checkpoints: index pages dirtied by many commits are written to the
// database file once per checkpoint instead of once per thousand WAL pages.
db.pragma('cache_size = -65536');
db.pragma('wal_autocheckpoint = 10000');
db.pragma('mmap_size = 268435456');

const insert = db.prepare(
  'INSERT INTO events (seq, id, stream, stream_version, type, agent_id, ts, path, data) VALUES (?,?,?,?,?,?,?,?,?)',
);
const indexer = new Indexer(db);
const importer = new WriterImport(db);
const lastSeqStmt = db.prepare('SELECT MAX(seq) FROM events').pluck();
const blobPut = db.prepare('INSERT OR IGNORE INTO blobs (hash, size, data) VALUES (?,?,?)');
const grantPut = db.prepare('INSERT OR IGNORE INTO blob_grants (agent_id, hash) VALUES (?,?)');
// A final reply takes the place of a claim (status 0) but never of another final reply.
const replyPut = db.prepare(
  'INSERT INTO idempotency (agent_id, key, status, body, created) VALUES (?,?,?,?,?) ' +
    'ON CONFLICT (agent_id, key) DO UPDATE SET status = excluded.status, body = excluded.body, ' +
    'created = excluded.created WHERE idempotency.status = 0',
);
// A handler that appends several times claims once.
const claimPut = db.prepare(
  "INSERT OR IGNORE INTO idempotency (agent_id, key, status, body, created) VALUES (?,?,0,'',?)",
);
// Remembered replies are for retries after a failure, not forever.
db.prepare('DELETE FROM idempotency WHERE created < ?').run(Date.now() - 24 * 3600_000);

let nextSeq = 1;
let indexedUpTo = 0;
let lastCommitAt = 0;
const versions = new Map<string, number>();
const reload = () => {
  nextSeq = ((lastSeqStmt.get() as number | null) ?? 0) + 1;
  indexedUpTo = indexer.upto();
  versions.clear();
};
reload();

let indexFailing = false;
function indexSome(): void {
  if (importer.active) return;
  try {
    indexedUpTo += indexer.step(indexBatch, synchronous);
    indexFailing = false;
  } catch (e) {
    indexFailing = true;
    // The log is intact; queries still see every event through the tail scan. Say so, and retry later.
    indexedUpTo = indexer.upto();
    post({ kind: 'warning', message: `indexing behind the log failed: ${(e as Error).message}` });
  }
}

// Idle: once no commit has come for indexIdleMs, index what is left, a batch per timer. The timer
// is armed only while something is unindexed, so an idle, indexed store never wakes the writer.
let idleTimer: NodeJS.Timeout | undefined;
function armIdleIndexing(): void {
  if (idleTimer !== undefined || nextSeq - 1 <= indexedUpTo) return;
  idleTimer = setTimeout(
    () => {
      idleTimer = undefined;
      if (Date.now() - lastCommitAt >= indexIdleMs) indexSome();
      armIdleIndexing();
    },
    indexFailing ? Math.max(indexIdleMs, 10_000) : indexIdleMs,
  );
  idleTimer.unref();
}

function version(stream: string): number {
  let v = versions.get(stream);
  if (v === undefined) {
    v = indexer.streamVersion(stream);
    if (versions.size > 100_000) versions.clear();
    versions.set(stream, v);
  }
  return v;
}

function apply(ts: number, ops: WriteOp[]): OpResult[] {
  const results: OpResult[] = [];
  for (const op of ops) {
    if (op.op === 'reply') {
      results.push({ replyStored: replyPut.run(op.agentId, op.key, op.status, op.body, ts).changes > 0 });
      continue;
    }
    if (op.op === 'blob') {
      const r = blobPut.run(
        op.hash,
        op.size ?? op.data.byteLength,
        Buffer.from(op.data.buffer, op.data.byteOffset, op.data.byteLength),
      );
      if (op.agentId !== undefined) grantPut.run(op.agentId, op.hash);
      results.push({ blobCreated: r.changes > 0 });
      continue;
    }
    const current = version(op.stream);
    if (op.expectedVersion !== null && op.expectedVersion !== current) {
      if (op.remember !== null) {
        const body = conflictBody(op.stream, op.expectedVersion, current);
        replyPut.run(op.agentId, op.remember, 409, JSON.stringify(body), ts);
      }
      results.push({ ok: false, currentVersion: current });
      continue;
    }
    const seqStart = nextSeq;
    let v = current;
    const { ids, types, data, paths } = op;
    for (let k = 0; k < ids.length; k++)
      insert.run(nextSeq++, ids[k], op.stream, ++v, types[k], op.agentId, ts, paths[k], data[k]);
    versions.set(op.stream, v);
    if (op.claim !== null) claimPut.run(op.claim.agentId, op.claim.key, ts);
    if (op.remember !== null) {
      const body = appendedBody(op.stream, ids, seqStart, current + 1);
      replyPut.run(op.agentId, op.remember, 201, JSON.stringify(body), ts);
    }
    results.push({ ok: true, seqStart, versionStart: current + 1 });
  }
  return results;
}

type Commit = Extract<ToWriter, { kind: 'commit' }>;

const commitAll = db.transaction((msgs: Commit[]) =>
  msgs.map((m) => ({ id: m.id, results: apply(m.ts, m.ops) })),
);

/**
 * Group commit, on this side: commit messages that arrive while a transaction (and its fsync) runs
 * wait in the port; the next turn of the loop delivers them all, and one transaction takes them all.
 * The main thread sends what it has every turn of its own loop and never waits for an answer first.
 */
let pending: Commit[] = [];
let scheduled = false;

function commitPending(): void {
  scheduled = false;
  // They wait for the import to end (in the same transaction they would be undone with it).
  if (importer.active) return;
  const msgs = pending;
  pending = [];
  if (msgs.length === 0) return;
  try {
    post({ kind: 'committed', batches: commitAll(msgs) });
    lastCommitAt = Date.now();
  } catch (e) {
    // The transaction rolled back: nothing of these batches is stored, and our counters must say so.
    reload();
    post({ kind: 'failed', ids: msgs.map((m) => m.id), message: (e as Error).message });
    return;
  }
  // Under steady load the writer is never idle: keep the index at most a batch or two behind.
  if (nextSeq - 1 - indexedUpTo >= indexBatch) indexSome();
  armIdleIndexing();
}

/** One step of an import; every step is answered, in order. */
function importStep(m: ImportOp): void {
  try {
    let lastSeq = 0;
    if (m.step === 'begin') importer.begin();
    else if (m.step === 'rows') importer.rows(m.blobs, m.events, m.grants ?? []);
    else if (m.step === 'commit') {
      lastSeq = importer.commit();
      // The counters were read before these rows existed.
      reload();
    } else importer.abort();
    post({ kind: 'import', ok: true, lastSeq });
  } catch (e) {
    post({ kind: 'import', ok: false, message: (e as Error).message });
  }
  if (!importer.active) {
    commitPending();
    armIdleIndexing();
  }
}

port.on('message', (m: ToWriter) => {
  if (m.kind === 'import') {
    importStep(m);
  } else if (m.kind === 'commit') {
    pending.push(m);
    if (!scheduled) {
      scheduled = true;
      setImmediate(commitPending);
    }
  } else if (m.kind === 'reload') {
    commitPending();
    reload();
    armIdleIndexing();
  } else if (m.kind === 'close') {
    importer.abort();
    commitPending();
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
      post({ kind: 'closed' });
    }
  }
});

armIdleIndexing();
post({ kind: 'ready', lastSeq: nextSeq - 1 });
