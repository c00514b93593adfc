import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Event } from '../../protocol/index.js';
import { conflictMessage } from './append-reply.js';
import { isManifest, readRange, split, type BlobRow } from './blob-chunks.js';
import { INDEX_BLOCK_BITS, migrate, SCHEMA_VERSION, StoreOpenError } from './schema.js';
import { uuid7 } from './uuid7.js';
import { EVENT_COLUMNS, pathOf, toEvent, type EventRow } from './event-row.js';
import { ImportTxn } from './import-txn.js';
import { Snapshots, type SnapshotReader } from './snapshots.js';
import type { FromWriter, OpResult, ToWriter, WriteOp, WriterData } from './writer-protocol.js';

export type Synchronous = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

export interface EventStoreOptions {
  file: string;
  synchronous?: Synchronous;
  /** Largest number of events one group-commit transaction takes. */
  maxBatchEvents?: number;
  /** The writer worker's script (bundled as store-writer.js beside the bridge). */
  writerScript?: string;
  /** Events per step of the index behind the log; also how far it may fall behind under load. */
  indexBatch?: number;
  /** The writer indexes the rest of the log once it has had no commit for this long. */
  indexIdleMs?: number;
}

/** Memory-mapped reads: catch-up and queries read pages without a syscall each. */
export const MMAP_BYTES = 256 * 1024 * 1024;

const WRITER_YOUNG_MB = Number(process.env.LIGHTHOUSE_WRITER_YOUNG_MB ?? 2);

export const DEFAULT_WRITER_SCRIPT = path.join(__dirname, 'store-writer.js');

export interface AppendInput {
  stream: string;
  agentId: string;
  expectedVersion?: number | undefined;
  events: { type: string; data: unknown }[];
  /**
   * An idempotency key: the reply (201 body, or the 409 refusal) is remembered in the same
   * transaction as the append, under (agentId, key). See append-reply.ts for the bodies.
   */
  idempotencyKey?: string | undefined;
  /** The keyed request this append is made for; see Claim. */
  claim?: Claim | undefined;
}

/**
 * A keyed request (agent and Idempotency-Key) whose handler writes: each append made for it marks
 * the key carried out in the append's own transaction, before its reply is kept in a later one. A
 * retry that finds the mark but no reply (the bridge stopped between the two) is refused, not rerun.
 */
export interface Claim {
  agentId: string;
  key: string;
}

/** How recallReply shows a claimed key whose reply was never kept. */
export const CLAIMED = 0;

export class VersionConflict extends Error {
  override name = 'VersionConflict';
  constructor(
    readonly stream: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(conflictMessage(stream, expectedVersion, currentVersion));
  }
}

interface Pending {
  op: WriteOp;
  input: AppendInput | undefined;
  queuedAt: bigint;
  resolve: (r: Event[] | { hash: string; size: number; created: boolean }) => void;
  reject: (e: Error) => void;
}

/** A query in the store's terms; type entries ending in `*` are prefixes. */
export interface StoreQuery {
  types?: string[] | undefined;
  agents?: string[] | undefined;
  streams?: string[] | undefined;
  path?: string | undefined;
  /** Milliseconds since the epoch, inclusive. */
  since?: number | undefined;
  /** Milliseconds since the epoch, exclusive. */
  until?: number | undefined;
  after?: number | undefined;
  before?: number | undefined;
  limit: number;
  order?: 'asc' | 'desc';
}

export interface CommitStats {
  events: number;
  appends: number;
  /** Seconds from each append's arrival to its commit. */
  latencies: number[];
}

/**
 * The event store: SQLite in WAL mode. Appends queue up on the main thread; one transaction in the
 * writer worker commits every append that arrived meanwhile (group commit), so one fsync serves
 * them all and nobody is acknowledged before that commit returns. While a commit runs, the next
 * batch gathers. Reads run on the main thread's own connection and never see past the last
 * acknowledged seq, so readers and live subscribers agree on what exists.
 */
export class EventStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly worker: Worker;
  private queue: Pending[] = [];
  /** Batches posted to the writer and not yet answered, by message id. */
  private readonly inFlight = new Map<number, Pending[]>();
  private flushScheduled = false;
  private commitId = 0;
  private published: number;
  private readonly maxBatchEvents: number;
  private readonly listeners: ((events: Event[]) => void)[] = [];
  private readonly commitListeners: ((s: CommitStats) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private closed = false;
  private broken: string | undefined;
  private readonly stmts;
  /**
   * Query statements by their SQL. Lists travel as JSON parameters, so the SQL depends only on which
   * filters a query has: a few hundred shapes at most. Never evicted: better-sqlite3 under Node 24
   * can abort when a statement it still tracks is garbage-collected, so every statement lives as
   * long as the store.
   */
  private readonly queryCache = new Map<string, Database.Statement>();
  private readonly warningListeners: ((message: string) => void)[] = [];
  /** Runs a function in one read transaction (one snapshot of the database). */
  private readonly inRead: <T>(fn: () => T) => T;
  private readonly snapshots: Snapshots;
  /** The import under way, if any (see beginImport). */
  private importing: ImportTxn | undefined;

  private constructor(db: Database.Database, file: string, opts: EventStoreOptions) {
    this.db = db;
    this.file = file;
    this.maxBatchEvents = opts.maxBatchEvents ?? 20_000;
    this.stmts = {
      insert: db.prepare(
        'INSERT INTO events (seq, id, stream, stream_version, type, agent_id, ts, path, data) VALUES (?,?,?,?,?,?,?,?,?)',
      ),
      lastSeq: db.prepare('SELECT MAX(seq) FROM events').pluck(),
      blobPut: db.prepare('INSERT OR IGNORE INTO blobs (hash, size, data) VALUES (?,?,?)'),
      blobGet: db.prepare('SELECT data FROM blobs WHERE hash = ?').pluck(),
      blobRow: db.prepare('SELECT size, data FROM blobs WHERE hash = ?'),
      blobHas: db.prepare('SELECT 1 FROM blobs WHERE hash = ?').pluck(),
      blobGranted: db.prepare('SELECT 1 FROM blob_grants WHERE agent_id = ? AND hash = ?').pluck(),
      blobCount: db.prepare('SELECT COUNT(*) FROM blobs').pluck(),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      indexedUpTo: db.prepare('SELECT upto FROM index_state WHERE one = 1').pluck(),
      replyGet: db.prepare('SELECT status, body FROM idempotency WHERE agent_id = ? AND key = ?'),
      eventsPage: db.prepare(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
      ),
      metaSet: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
    };
    this.published = (this.stmts.lastSeq.get() as number | null) ?? 0;
    const read = db.transaction((fn: () => unknown) => fn());
    this.inRead = <T>(fn: () => T): T => read(fn) as T;
    this.snapshots = new Snapshots(file);
    const data: WriterData = {
      file,
      synchronous: opts.synchronous ?? 'FULL',
      indexBatch: opts.indexBatch ?? 8192,
      indexIdleMs: opts.indexIdleMs ?? 20,
    };
    // The writer keeps little on its heap (statements, a stream-version map): a small young generation
    // saves a few MB of resident memory and costs it nothing measurable.
    this.worker = new Worker(opts.writerScript ?? DEFAULT_WRITER_SCRIPT, {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_MB },
    });
    this.worker.on('message', (m: FromWriter) => this.onWriter(m));
    this.worker.on('error', (e) => this.fail(`the store writer crashed: ${e.message}`));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(`the store writer exited (${code})`);
    });
  }

  /** Opens (creating if needed), migrates and checks the store; a damaged file is refused. */
  static open(opts: EventStoreOptions): EventStore {
    const file = path.resolve(opts.file);
    privateFiles(file);
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (e) {
      throw new StoreOpenError(`cannot open the event store at ${file}: ${(e as Error).message}`);
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      db.pragma('busy_timeout = 5000');
      db.pragma(`mmap_size = ${MMAP_BYTES}`);
      const check = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
      const problems = check.map((r) => r.quick_check).filter((r) => r !== 'ok');
      if (problems.length > 0) {
        throw new StoreOpenError(
          `the event store at ${file} is damaged (quick_check: ${problems.slice(0, 3).join('; ')}). ` +
            'Refusing to start rather than serve wrong data. Restore a backup (see README, "Backup and restore").',
        );
      }
      migrate(db, file);
    } catch (e) {
      db.close();
      if (e instanceof StoreOpenError) throw e;
      throw new StoreOpenError(
        `the event store at ${file} is damaged or not a Lighthouse store (${(e as Error).message}). ` +
          'Refusing to start rather than serve wrong data. Restore a backup (see README, "Backup and restore").',
      );
    }
    return new EventStore(db, file, opts);
  }

  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  /** The newest acknowledged seq; seqs are gap-free, so this is also the number of events. */
  get lastSeq(): number {
    return this.published;
  }

  /** Open and able to write. */
  get isOpen(): boolean {
    return !this.closed && this.broken === undefined;
  }

  count(): number {
    return this.published;
  }

  /** Called after every commit with the new events, in seq order. */
  onAppended(fn: (events: Event[]) => void): void {
    this.listeners.push(fn);
  }

  onCommit(fn: (s: CommitStats) => void): void {
    this.commitListeners.push(fn);
  }

  /** Problems that cost speed but no data, e.g. the index behind the log failing to advance. */
  onWarning(fn: (message: string) => void): void {
    this.warningListeners.push(fn);
  }

  /** Appends atomically to one stream; resolves once the events are durable. */
  append(input: AppendInput): Promise<Event[]> {
    const n = input.events.length;
    const ids = new Array<string>(n);
    const types = new Array<string>(n);
    const data = new Array<string>(n);
    const paths = new Array<string | null>(n);
    const now = Date.now();
    for (let k = 0; k < n; k++) {
      const e = input.events[k]!;
      ids[k] = uuid7(now);
      types[k] = e.type;
      data[k] = JSON.stringify(e.data ?? null);
      paths[k] = pathOf(e.data);
    }
    const op: WriteOp = {
      op: 'append',
      stream: input.stream,
      agentId: input.agentId,
      expectedVersion: input.expectedVersion ?? null,
      remember: input.idempotencyKey ?? null,
      claim: input.claim ?? null,
      ids,
      types,
      data,
      paths,
    };
    return this.enqueue(op, input) as Promise<Event[]>;
  }

  /** Remembers the reply to a request under its idempotency key; resolves once durable. */
  rememberReply(agentId: string, key: string, status: number, body: string): Promise<void> {
    return this.enqueue({ op: 'reply', agentId, key, status, body }, undefined).then(() => undefined);
  }

  /** The reply remembered for this key, if any; status CLAIMED: carried out, reply not kept. */
  recallReply(agentId: string, key: string): { status: number; body: string } | undefined {
    return (
      (this.stmts.replyGet.get(agentId, key) as { status: number; body: string } | undefined) ?? undefined
    );
  }

  /**
   * Stores content once, by its SHA-256; resolves once durable. Large content goes in 1 MiB chunks.
   * `agentId`: the agent storing it, granted reading it (blobGranted) in the same transaction.
   */
  putBlob(data: Buffer, agentId?: string): Promise<{ hash: string; size: number; created: boolean }> {
    const hash = createHash('sha256').update(data).digest('hex');
    const parts = split(data);
    if (parts) {
      // The chunks are queued first, so the manifest never commits before them.
      const chunks = parts.chunks.map((c) =>
        this.enqueue({ op: 'blob', hash: c.hash, data: c.data }, undefined),
      );
      const manifest = this.enqueue(
        {
          op: 'blob',
          hash,
          data: parts.manifest,
          size: data.length,
          ...(agentId === undefined ? {} : { agentId }),
        },
        undefined,
      );
      return Promise.all([...chunks, manifest]).then(() => manifest) as Promise<{
        hash: string;
        size: number;
        created: boolean;
      }>;
    }
    return this.enqueue(
      { op: 'blob', hash, data, ...(agentId === undefined ? {} : { agentId }) },
      undefined,
    ) as Promise<{
      hash: string;
      size: number;
      created: boolean;
    }>;
  }

  private enqueue(op: WriteOp, input: AppendInput | undefined): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the event store is closed'));
    if (this.broken) return Promise.reject(new Error(`the event store cannot write: ${this.broken}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ op, input, queuedAt: process.hrtime.bigint(), resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not nextTick: requests already read from sockets join this batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Sends what has queued up this turn of the loop. The writer takes every batch that reaches it
   * during one transaction into the next (group commit on its side), so nothing waits here for an
   * answer: the main thread's round trip never leaves the writer idle.
   */
  private flush(): void {
    this.flushScheduled = false;
    while (this.queue.length > 0 && !this.broken) {
      let n = 0;
      let events = 0;
      while (n < this.queue.length) {
        const op = this.queue[n]!.op;
        const size = op.op === 'append' ? op.ids.length : 1;
        if (n > 0 && events + size > this.maxBatchEvents) break;
        events += size;
        n++;
      }
      const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n);
      this.queue = n === this.queue.length ? [] : this.queue.slice(n);
      const id = ++this.commitId;
      this.inFlight.set(id, batch);
      const ops = new Array<WriteOp>(batch.length);
      for (let i = 0; i < batch.length; i++) ops[i] = batch[i]!.op;
      const msg: ToWriter = { kind: 'commit', id, ts: Date.now(), ops };
      this.worker.postMessage(msg);
    }
  }

  private onWriter(m: FromWriter): void {
    if (m.kind === 'committed') {
      const settled: { batch: Pending[]; results: OpResult[] }[] = [];
      for (const b of m.batches) {
        settled.push({ batch: this.inFlight.get(b.id)!, results: b.results });
        this.inFlight.delete(b.id);
      }
      this.settle(settled);
      this.whenIdle();
    } else if (m.kind === 'failed') {
      const err = new Error(`append failed, nothing was stored: ${m.message}`);
      for (const id of m.ids) {
        for (const p of this.inFlight.get(id) ?? []) p.reject(err);
        this.inFlight.delete(id);
      }
      this.whenIdle();
    } else if (m.kind === 'fatal') {
      this.fail(m.message);
    } else if (m.kind === 'import') {
      this.importing?.answer(m);
    } else if (m.kind === 'warning') {
      for (const fn of this.warningListeners) fn(m.message);
    }
  }

  private whenIdle(): void {
    if (this.inFlight.size === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private settle(batches: { batch: Pending[]; results: OpResult[] }[]): void {
    const committed: Event[] = [];
    const done = process.hrtime.bigint();
    const latencies: number[] = [];
    const now = new Date().toISOString();
    let appends = 0;
    for (const { batch, results } of batches) {
      appends += batch.length;
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!;
        const r = results[i]!;
        latencies.push(Number(done - p.queuedAt) / 1e9);
        if (p.op.op === 'reply') {
          p.resolve([]);
          continue;
        }
        if (p.op.op === 'blob') {
          p.resolve({
            hash: p.op.hash,
            size: p.op.size ?? p.op.data.byteLength,
            created: 'blobCreated' in r && r.blobCreated,
          });
          continue;
        }
        const input = p.input!;
        if ('ok' in r && !r.ok) {
          p.reject(new VersionConflict(input.stream, input.expectedVersion!, r.currentVersion));
          continue;
        }
        const ok = r as { seqStart: number; versionStart: number };
        const { ids, types } = p.op;
        const out = new Array<Event>(ids.length);
        for (let k = 0; k < ids.length; k++) {
          const e: Event = {
            seq: ok.seqStart + k,
            id: ids[k]!,
            stream: input.stream,
            streamVersion: ok.versionStart + k,
            type: types[k]!,
            agentId: input.agentId,
            ts: now,
            data: input.events[k]!.data ?? null,
          };
          out[k] = e;
          committed.push(e);
        }
        this.published = Math.max(this.published, out[out.length - 1]!.seq);
        p.resolve(out);
      }
    }
    // Batches are committed in the order they were sent, so seqs already rise through `committed`.
    for (const fn of this.commitListeners) fn({ events: committed.length, appends, latencies });
    if (committed.length > 0) for (const fn of this.listeners) fn(committed);
  }

  private fail(reason: string): void {
    if (this.broken) return;
    this.broken = reason;
    const err = new Error(`the event store cannot write: ${reason}`);
    const all = [...[...this.inFlight.values()].flat(), ...this.queue.splice(0)];
    this.inFlight.clear();
    for (const p of all) p.reject(err);
    this.importing?.fail(err);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when nothing is queued or being committed. */
  drained(): Promise<void> {
    if (this.inFlight.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Events matching a query, one page; `nextCursor` continues it. With a filter that an index
   * serves, two arms are merged in seq order: the index up to index_state.upto, and a scan of the
   * not yet indexed tail past it (both read in the statement's one snapshot, so nothing falls between
   * them). Every filter is also applied to the rows themselves, so an index only narrows the search.
   */
  query(q: StoreQuery): { events: Event[]; nextCursor: number | null } {
    const conds: string[] = ['e.seq <= ?'];
    const args: (string | number)[] = [this.published];
    const exact = q.types?.filter((t) => !t.endsWith('*')) ?? [];
    const prefixes = q.types?.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1)) ?? [];
    if (exact.length || prefixes.length) {
      const ors: string[] = [];
      if (exact.length) {
        ors.push('e.type IN (SELECT value FROM json_each(?))');
        args.push(JSON.stringify(exact));
      }
      if (prefixes.length) {
        ors.push('EXISTS (SELECT 1 FROM json_each(?) p WHERE substr(e.type, 1, length(p.value)) = p.value)');
        args.push(JSON.stringify(prefixes));
      }
      conds.push(ors.length === 1 ? ors[0]! : `(${ors.join(' OR ')})`);
    }
    const inList = (col: string, values: string[] | undefined) => {
      if (!values?.length) return;
      conds.push(`${col} IN (SELECT value FROM json_each(?))`);
      args.push(JSON.stringify(values));
    };
    inList('e.agent_id', q.agents);
    inList('e.stream', q.streams);
    const cmp = (col: string, op: string, v: string | number | undefined) => {
      if (v === undefined) return;
      conds.push(`${col} ${op} ?`);
      args.push(v);
    };
    cmp('e.path', '=', q.path);
    cmp('e.ts', '>=', q.since);
    cmp('e.ts', '<', q.until);
    cmp('e.seq', '>', q.after);
    cmp('e.seq', '<', q.before);

    // The index that narrows the search most, and the blocks it names.
    let blocks: string | undefined;
    const bargs: (string | number)[] = [];
    if (q.streams?.length) {
      blocks = 'SELECT block FROM ix_stream WHERE stream IN (SELECT value FROM json_each(?))';
      bargs.push(JSON.stringify(q.streams));
    } else if (q.path !== undefined) {
      blocks = 'SELECT block FROM ix_path WHERE path = ?';
      bargs.push(q.path);
    } else if (q.agents?.length) {
      blocks = 'SELECT block FROM ix_agent WHERE agent_id IN (SELECT value FROM json_each(?))';
      bargs.push(JSON.stringify(q.agents));
    } else if (exact.length || prefixes.length) {
      // Each exact type and each prefix is a key range [lo, hi] of ix_type.
      const ranges = [...exact.map((t) => [t, t]), ...prefixes.map((p) => [p, `${p}\u{10FFFF}`])];
      blocks =
        'SELECT x.block FROM json_each(?) r JOIN ix_type x ON x.type >= (r.value ->> 0) AND x.type <= (r.value ->> 1)';
      bargs.push(JSON.stringify(ranges));
    } else if (q.since !== undefined || q.until !== undefined) {
      blocks = 'SELECT block FROM ix_time WHERE max_ts >= ? AND min_ts < ?';
      bargs.push(q.since ?? Number.MIN_SAFE_INTEGER, q.until ?? Number.MAX_SAFE_INTEGER);
    }
    const cols = 'e.seq, e.id, e.stream, e.stream_version, e.type, e.agent_id, e.ts, e.data';
    const where = conds.join(' AND ');
    const desc = q.order === 'desc';
    const dir = desc ? 'DESC' : 'ASC';
    const page = (rows: EventRow[]) => {
      const more = rows.length > q.limit;
      const events = (more ? rows.slice(0, q.limit) : rows).map(toEvent);
      return { events, nextCursor: more ? events[events.length - 1]!.seq : null };
    };
    if (blocks === undefined) {
      const sql = `SELECT ${cols} FROM events e WHERE ${where} ORDER BY e.seq ${dir} LIMIT ?`;
      return page(this.prepared(sql).all(...args, q.limit + 1) as EventRow[]);
    }
    const B = INDEX_BLOCK_BITS;
    const range: string[] = [];
    const rangeArgs: number[] = [];
    if (q.after !== undefined) {
      range.push('block >= ?');
      rangeArgs.push(Math.floor((q.after + 1) / (1 << B)));
    }
    if (q.before !== undefined) {
      range.push('block <= ?');
      rangeArgs.push(Math.floor((q.before - 1) / (1 << B)));
    }
    const blockSql =
      `SELECT DISTINCT block FROM (${blocks})` +
      `${range.length ? ` WHERE ${range.join(' AND ')}` : ''} ORDER BY block ${dir}`;
    const scanSql = `SELECT ${cols} FROM events e WHERE e.seq BETWEEN ? AND ? AND ${where} ORDER BY e.seq ${dir} LIMIT ?`;
    const tailSql = `SELECT ${cols} FROM events e WHERE e.seq > ? AND ${where} ORDER BY e.seq ${dir} LIMIT ?`;
    const want = q.limit + 1;
    // One read transaction: the blocks, the rows in them up to `upto`, and the tail past it all
    // come from one snapshot, so an index step in between can neither hide nor repeat an event.
    return page(
      this.inRead(() => {
        const upto = this.stmts.indexedUpTo.get() as number;
        const rows: EventRow[] = [];
        const tail = () => {
          if (rows.length < want)
            for (const r of this.prepared(tailSql).all(upto, ...args, want - rows.length) as EventRow[])
              rows.push(r);
        };
        if (desc) tail();
        const scan = this.prepared(scanSql);
        for (const block of this.prepared(blockSql)
          .pluck()
          .all(...bargs, ...rangeArgs) as number[]) {
          if (rows.length >= want) break;
          const lo = block << B;
          const hi = Math.min(lo + (1 << B) - 1, upto);
          if (hi < lo) continue;
          for (const r of scan.all(lo, hi, ...args, want - rows.length) as EventRow[]) rows.push(r);
        }
        if (!desc) tail();
        return rows;
      }),
    );
  }

  private prepared(sql: string): Database.Statement {
    let st = this.queryCache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.queryCache.set(sql, st);
    }
    return st;
  }

  /** Every matching event in seq order, a page at a time: how in-memory state is rebuilt at start. */
  replay(q: Omit<StoreQuery, 'limit' | 'order' | 'after'>, fn: (e: Event) => void): void {
    let after = 0;
    for (;;) {
      const page = this.query({ ...q, after, limit: 5000 });
      for (const e of page.events) fn(e);
      if (page.nextCursor === null) return;
      after = page.nextCursor;
    }
  }

  // ---- blobs: content-addressed, stored once ----

  getBlob(hash: string): Buffer | undefined {
    const row = this.stmts.blobRow.get(hash) as BlobRow | undefined;
    if (!row) return undefined;
    return isManifest(row) ? this.readBlobRange(hash, 0, row.size) : row.data;
  }

  /** A byte range of a blob; a chunked one is read only in the chunks that hold the range. */
  readBlobRange(hash: string, offset: number, length: number): Buffer | undefined {
    const row = this.stmts.blobRow.get(hash) as BlobRow | undefined;
    if (!row) return undefined;
    return readRange(
      row,
      offset,
      length,
      (h) => (this.stmts.blobGet.get(h) as Buffer | undefined) ?? undefined,
    );
  }

  /** Whether this agent stored this blob (and so may read it). */
  blobGranted(agentId: string, hash: string): boolean {
    return this.stmts.blobGranted.get(agentId, hash) !== undefined;
  }

  hasBlob(hash: string): boolean {
    return this.stmts.blobHas.get(hash) !== undefined;
  }

  blobCount(): number {
    return this.stmts.blobCount.get() as number;
  }

  getMeta(key: string): string | undefined {
    return (this.stmts.metaGet.get(key) as string | undefined) ?? undefined;
  }

  setMeta(key: string, value: string): void {
    this.stmts.metaSet.run(key, value);
  }

  // ---- maintenance ----

  sizeBytes(): number {
    let n = 0;
    for (const f of [this.file, `${this.file}-wal`, `${this.file}-shm`]) {
      try {
        n += fs.statSync(f).size;
      } catch {
        // absent: 0
      }
    }
    return n;
  }

  /** Online backup: a consistent copy while appends go on. */
  async backup(dest: string): Promise<number> {
    fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
    const tmp = `${dest}.partial`;
    // Made 0600 before SQLite writes into it: a backup holds everything the store does.
    fs.closeSync(fs.openSync(tmp, 'w', 0o600));
    fs.chmodSync(tmp, 0o600);
    await this.db.backup(tmp);
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, dest);
    return fs.statSync(dest).size;
  }

  /** Every event up to `upTo`, in seq order, a page at a time. */
  *iterateEvents(upTo = this.lastSeq, pageSize = 1000): Generator<Event> {
    let after = 0;
    for (;;) {
      const rows = this.stmts.eventsPage.all(after, upTo, pageSize) as EventRow[];
      for (const r of rows) yield toEvent(r);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /**
   * Reads through one snapshot of the store (see snapshots.ts), while appends go on: what `body`
   * yields, lazily. The snapshot begins at the generator's first step and ends when it is done or
   * returned; every event acknowledged before the first step is in it.
   */
  readSnapshot<T>(body: (r: SnapshotReader) => Iterable<T>): Generator<T> {
    return this.snapshots.read(body);
  }

  /**
   * Opens an import into this store: one transaction in the writer, refused unless the store holds
   * no events and no blobs, that the caller fills a batch at a time and then commits or aborts
   * (import-txn.ts). Other writes wait until it ends.
   */
  async beginImport(): Promise<ImportTxn> {
    await this.drained();
    if (this.closed || this.broken)
      throw new Error(`the event store cannot write: ${this.broken ?? 'closed'}`);
    if (this.importing) throw new Error('an import is already under way');
    const txn = new ImportTxn(
      (m) => this.worker.postMessage(m),
      (lastSeq) => {
        this.importing = undefined;
        if (lastSeq !== undefined) this.published = lastSeq;
      },
    );
    this.importing = txn;
    try {
      await txn.begin();
    } catch (e) {
      await txn.abort().catch(() => undefined);
      throw e;
    }
    return txn;
  }

  /** Commits what is queued, checkpoints the WAL into the main file and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.drained();
    await this.importing?.abort().catch(() => undefined);
    this.closed = true;
    // Before the writer's last checkpoint, which a long read's snapshot would hold back.
    this.snapshots.close();
    if (!this.broken) {
      const closed = new Promise<void>((resolve) => {
        const onMsg = (m: FromWriter) => {
          if (m.kind === 'closed') resolve();
        };
        this.worker.on('message', onMsg);
        this.worker.once('exit', () => resolve());
      });
      this.worker.postMessage({ kind: 'close' } satisfies ToWriter);
      await closed;
    }
    await this.worker.terminate();
    this.db.close();
  }
}

/**
 * The store holds every agent's content and the log of everything: its directory is made 0700 and
 * the database 0600 before SQLite opens it (SQLite makes its -wal and -shm files with the
 * database's own mode), and a store made by an older bridge with looser modes is tightened.
 */
function privateFiles(file: string): void {
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      try {
        fs.chmodSync(f, 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'EPERM' && err.code !== 'EACCES') throw e;
    throw new StoreOpenError(
      `cannot make the event store private (${err.path ?? dir}: ${err.code}): the data directory and its ` +
        `files must belong to the bridge's user (uid ${process.getuid?.() ?? '?'}), which keeps them ` +
        '0700 and 0600; chown them to that user',
    );
  }
}
