/**
 * The FUSE daemon's own, read-only view of the event store: a second SQLite connection (WAL lets it
 * read while the bridge writes) from which the daemon rebuilds every agent's overlay and follows the
 * log, so that lookups, stat, readdir and reads never cross over to the bridge.
 */
import Database from 'better-sqlite3';
import { reduce, type Overlay } from '../shadow/overlay.js';
import { isManifest, readRange, type BlobRow } from '../store/blob-chunks.js';
import type { BlobSource } from '../shadow/shadow-view.js';
import { readStoredJson } from '../store/stored-json.js';

export interface LoggedEvent {
  seq: number;
  stream: string;
  type: string;
  agentId: string;
  tsMs: number;
  data: unknown;
}

interface Row {
  seq: number;
  stream: string;
  type: string;
  agent_id: string;
  ts: number;
  data: string;
}

const toLogged = (r: Row): LoggedEvent => ({
  seq: r.seq,
  stream: r.stream,
  type: r.type,
  agentId: r.agent_id,
  tsMs: r.ts,
  data: readStoredJson(r.data),
});

/** Bytes of blobs and chunks held in memory at most, the least recently read dropped first. */
const BLOB_CACHE_BYTES = 64 * 1024 * 1024;

export class StoreReader implements BlobSource {
  private readonly db: Database.Database;
  private readonly stmts: {
    after: Database.Statement<[number, number]>;
    stream: Database.Statement<[string, number]>;
    blob: Database.Statement<[string]>;
    blobShape: Database.Statement<[string]>;
  };
  private last = 0;
  readonly overlays = new Map<string, Overlay>();
  /** Agents with an agent.registered or session event: their shadows exist even when empty. */
  readonly agents = new Set<string>();
  private readonly blobs = new Map<string, Buffer>();
  private blobBytes = 0;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.stmts = {
      after: this.db.prepare(
        'SELECT seq, stream, type, agent_id, ts, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      stream: this.db.prepare(
        'SELECT seq, stream, type, agent_id, ts, data FROM events WHERE stream = ? AND seq <= ? ORDER BY seq',
      ),
      blob: this.db.prepare('SELECT data FROM blobs WHERE hash = ?').pluck(),
      // length() of a blob is read from the record header, without loading the blob.
      blobShape: this.db.prepare('SELECT size, length(data) AS len FROM blobs WHERE hash = ?'),
    };
  }

  get lastSeq(): number {
    return this.last;
  }

  overlay(agent: string): Overlay {
    let o = this.overlays.get(agent);
    if (!o) this.overlays.set(agent, (o = new Map()));
    return o;
  }

  /** The next events after the last applied one (at most `limit`), without applying them. */
  peek(limit = 2000): LoggedEvent[] {
    return (this.stmts.after.all(this.last, limit) as Row[]).map(toLogged);
  }

  /** Applies peeked events (those not applied meanwhile); `before` and `after` see each one. */
  applyEvents(
    events: LoggedEvent[],
    before?: (e: LoggedEvent) => void,
    after?: (e: LoggedEvent) => void,
  ): number {
    let n = 0;
    for (const e of events) {
      if (e.seq !== this.last + 1) continue;
      before?.(e);
      this.apply(e);
      after?.(e);
      this.last = e.seq;
      n++;
    }
    return n;
  }

  /** Reads the events appended since the last call and applies them; `before` sees each one first. */
  catchUp(before?: (e: LoggedEvent) => void, after?: (e: LoggedEvent) => void): number {
    let n = 0;
    for (;;) {
      const events = this.peek();
      n += this.applyEvents(events, before, after);
      if (events.length < 2000) return n;
    }
  }

  private apply(e: LoggedEvent): void {
    if (e.type.startsWith('agent.') || e.type.startsWith('session.')) this.agents.add(e.agentId);
    if (e.stream.startsWith('shadow:') && e.type.startsWith('shadow.'))
      reduce(this.overlay(e.stream.slice('shadow:'.length)), e.type, e.data, e.seq, e.tsMs);
  }

  /** One agent's overlay as it stood at event `seq`. */
  overlayAt(agent: string, seq: number): Overlay {
    const past: Overlay = new Map();
    for (const r of this.stmts.stream.iterate(`shadow:${agent}`, seq) as Iterable<Row>)
      reduce(past, r.type, readStoredJson(r.data), r.seq, r.ts);
    return past;
  }

  /** A plain blob or a chunk, through the cache. */
  private cachedBlob(hash: string): Buffer | undefined {
    const hit = this.blobs.get(hash);
    if (hit) {
      this.blobs.delete(hash);
      this.blobs.set(hash, hit);
      return hit;
    }
    const data = (this.stmts.blob.get(hash) as Buffer | undefined) ?? undefined;
    if (data && data.length <= BLOB_CACHE_BYTES / 8) {
      this.blobs.set(hash, data);
      this.blobBytes += data.length;
      for (const [k, v] of this.blobs) {
        if (this.blobBytes <= BLOB_CACHE_BYTES) break;
        this.blobs.delete(k);
        this.blobBytes -= v.length;
      }
    }
    return data;
  }

  private row(hash: string): BlobRow | undefined {
    const r = this.stmts.blobShape.get(hash) as { size: number; len: number } | undefined;
    if (!r) return undefined;
    // Plain rows are read through the cache; a manifest (shorter than its size) as it is.
    if (r.len === r.size) {
      const data = this.cachedBlob(hash);
      return data && { size: r.size, data };
    }
    const data = (this.stmts.blob.get(hash) as Buffer | undefined) ?? undefined;
    return data && { size: r.size, data };
  }

  getBlob(hash: string): Buffer | undefined {
    const r = this.row(hash);
    if (!r) return undefined;
    return isManifest(r) ? this.readBlobRange(hash, 0, r.size) : r.data;
  }

  /** A byte range of a blob; a chunked blob is read chunk by chunk, never whole. */
  readBlobRange(hash: string, offset: number, length: number): Buffer | undefined {
    const r = this.row(hash);
    if (!r) return undefined;
    return readRange(r, offset, length, (h) => this.cachedBlob(h));
  }

  close(): void {
    this.db.close();
  }
}
