import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Event } from '../../protocol/index.js';
import { migrate, SCHEMA_VERSION, StoreOpenError } from './schema.js';

export type Synchronous = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

export interface EventStoreOptions {
  file: string;
  synchronous?: Synchronous;
  /** Largest number of events one group-commit transaction takes. */
  maxBatchEvents?: number;
}

export interface AppendInput {
  stream: string;
  agentId: string;
  expectedVersion?: number | undefined;
  events: { type: string; data: unknown }[];
}

export class VersionConflict extends Error {
  override name = 'VersionConflict';
  constructor(
    readonly stream: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`stream ${stream} is at version ${currentVersion}, not the expected ${expectedVersion}`);
  }
}

interface Pending {
  input: AppendInput;
  queuedAt: bigint;
  resolve: (events: Event[]) => void;
  reject: (e: Error) => void;
}

interface Row {
  seq: number;
  id: string;
  stream: string;
  stream_version: number;
  type: string;
  agent_id: string;
  ts: number;
  data: string;
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

const toEvent = (r: Row): Event => ({
  seq: r.seq,
  id: r.id,
  stream: r.stream,
  streamVersion: r.stream_version,
  type: r.type,
  agentId: r.agent_id,
  ts: new Date(r.ts).toISOString(),
  data: JSON.parse(r.data) as unknown,
});

function pathOf(data: unknown): string | null {
  if (data && typeof data === 'object' && 'path' in data) {
    const p = (data as { path: unknown }).path;
    if (typeof p === 'string') return p;
  }
  return null;
}

/**
 * The event store: SQLite in WAL mode. Appends queue up and one transaction commits every append
 * that arrived in the same turn of the event loop (group commit): one fsync serves them all, and
 * nobody is acknowledged before that commit returns.
 */
export class EventStore {
  readonly file: string;
  private readonly db: Database.Database;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private nextSeq: number;
  private readonly streamVersions = new Map<string, number>();
  private readonly maxBatchEvents: number;
  private readonly listeners: ((events: Event[]) => void)[] = [];
  private readonly commitListeners: ((s: CommitStats) => void)[] = [];
  private closed = false;
  private readonly stmts;
  private readonly queryCache = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, file: string, maxBatchEvents: number) {
    this.db = db;
    this.file = file;
    this.maxBatchEvents = maxBatchEvents;
    this.stmts = {
      insert: db.prepare(
        'INSERT INTO events (seq, id, stream, stream_version, type, agent_id, ts, path, data) VALUES (?,?,?,?,?,?,?,?,?)',
      ),
      streamVersion: db.prepare('SELECT MAX(stream_version) AS v FROM events WHERE stream = ?').pluck(),
      lastSeq: db.prepare('SELECT MAX(seq) FROM events').pluck(),
      count: db.prepare('SELECT COUNT(*) FROM events').pluck(),
      blobPut: db.prepare('INSERT OR IGNORE INTO blobs (hash, size, data) VALUES (?,?,?)'),
      blobGet: db.prepare('SELECT data FROM blobs WHERE hash = ?').pluck(),
      blobHas: db.prepare('SELECT 1 FROM blobs WHERE hash = ?').pluck(),
      blobCount: db.prepare('SELECT COUNT(*) FROM blobs').pluck(),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      metaSet: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
    };
    this.nextSeq = ((this.stmts.lastSeq.get() as number | null) ?? 0) + 1;
  }

  /** Opens (creating if needed), migrates and checks the store; a damaged file is refused. */
  static open(opts: EventStoreOptions): EventStore {
    const file = path.resolve(opts.file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (e) {
      throw new StoreOpenError(`cannot open the event store at ${file}: ${(e as Error).message}`);
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      const check = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
      const problems = check.map((r) => r.quick_check).filter((r) => r !== 'ok');
      if (problems.length > 0) {
        throw new StoreOpenError(
          `the event store at ${file} is damaged (quick_check: ${problems.slice(0, 3).join('; ')}). ` +
            'Refusing to start rather than serve wrong data. Restore a backup (see README, "Backup and restore").',
        );
      }
      migrate(db, file);
      return new EventStore(db, file, opts.maxBatchEvents ?? 20_000);
    } catch (e) {
      db.close();
      if (e instanceof StoreOpenError) throw e;
      throw new StoreOpenError(
        `the event store at ${file} is damaged or not a Lighthouse store (${(e as Error).message}). ` +
          'Refusing to start rather than serve wrong data. Restore a backup (see README, "Backup and restore").',
      );
    }
  }

  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  count(): number {
    return this.stmts.count.get() as number;
  }

  /** Called after every commit with the new events, in seq order. */
  onAppended(fn: (events: Event[]) => void): void {
    this.listeners.push(fn);
  }

  onCommit(fn: (s: CommitStats) => void): void {
    this.commitListeners.push(fn);
  }

  /** Appends atomically to one stream; resolves once the events are durable. */
  append(input: AppendInput): Promise<Event[]> {
    if (this.closed) return Promise.reject(new Error('the event store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, queuedAt: process.hrtime.bigint(), resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not nextTick: requests already read from sockets join this batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now. */
  flush(): void {
    this.flushScheduled = false;
    while (this.queue.length > 0) {
      let n = 0;
      let events = 0;
      while (
        n < this.queue.length &&
        (n === 0 || events + this.queue[n]!.input.events.length <= this.maxBatchEvents)
      ) {
        events += this.queue[n]!.input.events.length;
        n++;
      }
      const batch = this.queue.splice(0, n);
      this.commitBatch(batch);
    }
  }

  private currentVersion(stream: string): number {
    let v = this.streamVersions.get(stream);
    if (v === undefined) {
      v = (this.stmts.streamVersion.get(stream) as number | null) ?? 0;
      if (this.streamVersions.size > 100_000) this.streamVersions.clear();
      this.streamVersions.set(stream, v);
    }
    return v;
  }

  private commitBatch(batch: Pending[]): void {
    const results: (Event[] | VersionConflict)[] = [];
    const seqBefore = this.nextSeq;
    const touched = new Map<string, number>();
    const now = Date.now();
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          const { stream, agentId, expectedVersion } = p.input;
          const current = touched.get(stream) ?? this.currentVersion(stream);
          if (expectedVersion !== undefined && expectedVersion !== current) {
            results.push(new VersionConflict(stream, expectedVersion, current));
            continue;
          }
          const out: Event[] = [];
          let v = current;
          for (const e of p.input.events) {
            v++;
            const seq = this.nextSeq++;
            const id = randomUUID();
            const data = JSON.stringify(e.data ?? null);
            this.stmts.insert.run(seq, id, stream, v, e.type, agentId, now, pathOf(e.data), data);
            out.push({
              seq,
              id,
              stream,
              streamVersion: v,
              type: e.type,
              agentId,
              ts: new Date(now).toISOString(),
              data: e.data ?? null,
            });
          }
          touched.set(stream, v);
          results.push(out);
        }
      })();
    } catch (e) {
      this.nextSeq = seqBefore;
      this.streamVersions.clear();
      const err = new Error(`append failed, nothing was stored: ${(e as Error).message}`);
      for (const p of batch) p.reject(err);
      return;
    }
    for (const [s, v] of touched) this.streamVersions.set(s, v);
    const committed: Event[] = [];
    const done = process.hrtime.bigint();
    const latencies: number[] = [];
    batch.forEach((p, i) => {
      const r = results[i]!;
      latencies.push(Number(done - p.queuedAt) / 1e9);
      if (r instanceof VersionConflict) p.reject(r);
      else {
        committed.push(...r);
        p.resolve(r);
      }
    });
    for (const fn of this.commitListeners) fn({ events: committed.length, appends: batch.length, latencies });
    if (committed.length > 0) for (const fn of this.listeners) fn(committed);
  }

  /** Events matching a query, one page; `nextCursor` continues it. */
  query(q: StoreQuery): { events: Event[]; nextCursor: number | null } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const inList = (col: string, values: string[]) => {
      where.push(`${col} IN (${values.map(() => '?').join(',')})`);
      args.push(...values);
    };
    if (q.types?.length) {
      const exact = q.types.filter((t) => !t.endsWith('*'));
      const prefixes = q.types.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1));
      const ors: string[] = [];
      if (exact.length) {
        ors.push(`type IN (${exact.map(() => '?').join(',')})`);
        args.push(...exact);
      }
      for (const p of prefixes) {
        ors.push('substr(type, 1, ?) = ?');
        args.push(p.length, p);
      }
      where.push(`(${ors.join(' OR ')})`);
    }
    if (q.agents?.length) inList('agent_id', q.agents);
    if (q.streams?.length) inList('stream', q.streams);
    const cmp = (col: string, op: string, v: string | number | undefined) => {
      if (v === undefined) return;
      where.push(`${col} ${op} ?`);
      args.push(v);
    };
    cmp('path', '=', q.path);
    cmp('ts', '>=', q.since);
    cmp('ts', '<', q.until);
    cmp('seq', '>', q.after);
    cmp('seq', '<', q.before);
    const sql =
      `SELECT seq, id, stream, stream_version, type, agent_id, ts, data FROM events` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY seq ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    const rows = this.prepared(sql).all(...args, q.limit + 1) as Row[];
    const more = rows.length > q.limit;
    const page = (more ? rows.slice(0, q.limit) : rows).map(toEvent);
    return { events: page, nextCursor: more ? page[page.length - 1]!.seq : null };
  }

  private prepared(sql: string): Database.Statement {
    let st = this.queryCache.get(sql);
    if (!st) {
      if (this.queryCache.size >= 200) this.queryCache.clear();
      st = this.db.prepare(sql);
      this.queryCache.set(sql, st);
    }
    return st;
  }

  // ---- blobs: content-addressed, stored once ----

  putBlob(data: Buffer): { hash: string; size: number; created: boolean } {
    const hash = createHash('sha256').update(data).digest('hex');
    const r = this.stmts.blobPut.run(hash, data.length, data);
    return { hash, size: data.length, created: r.changes > 0 };
  }

  getBlob(hash: string): Buffer | undefined {
    return (this.stmts.blobGet.get(hash) as Buffer | undefined) ?? undefined;
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
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.partial`;
    await this.db.backup(tmp);
    fs.renameSync(tmp, dest);
    return fs.statSync(dest).size;
  }

  /** Every row for export, in seq order, a page at a time. */
  *iterateEvents(upTo = this.lastSeq, pageSize = 1000): Generator<Event> {
    let after = 0;
    const stmt = this.db.prepare(
      'SELECT seq, id, stream, stream_version, type, agent_id, ts, data FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
    );
    for (;;) {
      const rows = stmt.all(after, upTo, pageSize) as Row[];
      for (const r of rows) yield toEvent(r);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  *iterateBlobs(): Generator<{ hash: string; data: Buffer }> {
    const stmt = this.db.prepare('SELECT hash, data FROM blobs WHERE hash > ? ORDER BY hash LIMIT 100');
    let after = '';
    for (;;) {
      const rows = stmt.all(after) as { hash: string; data: Buffer }[];
      yield* rows;
      if (rows.length < 100) return;
      after = rows[rows.length - 1]!.hash;
    }
  }

  /** Restores exported events verbatim (seq, id, ts and all); only into an empty store. */
  importRows(events: Event[], blobs: Buffer[]): void {
    const insert = this.stmts.insert;
    if (this.lastSeq !== 0) throw new Error('import: the store is not empty');
    try {
      this.db.transaction(() => {
        for (const b of blobs)
          this.stmts.blobPut.run(createHash('sha256').update(b).digest('hex'), b.length, b);
        for (const e of events) {
          if (e.seq !== this.nextSeq) {
            throw new Error(
              `import: expected seq ${this.nextSeq} next, found ${e.seq} (the export has a gap or is out of order)`,
            );
          }
          insert.run(
            e.seq,
            e.id,
            e.stream,
            e.streamVersion,
            e.type,
            e.agentId,
            Date.parse(e.ts),
            pathOf(e.data),
            JSON.stringify(e.data ?? null),
          );
          this.nextSeq++;
        }
      })();
    } finally {
      this.nextSeq = ((this.stmts.lastSeq.get() as number | null) ?? 0) + 1;
      this.streamVersions.clear();
    }
  }

  /** Flushes queued appends, checkpoints the WAL into the main file and closes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}
