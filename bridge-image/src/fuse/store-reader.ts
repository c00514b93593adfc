/**
 * The FUSE daemon's own, read-only view of the event store: a second SQLite connection (WAL lets it
 * read while the bridge writes) from which the daemon rebuilds every agent's overlay and follows the
 * log, so that lookups, stat, readdir and reads never cross over to the bridge.
 */
import Database from 'better-sqlite3';
import { reduce, type Overlay } from '../shadow/overlay.js';
import type { BlobSource } from '../shadow/shadow-view.js';

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
  data: JSON.parse(r.data) as unknown,
});

/** Blobs held in memory at most (whole blobs, the most recently read first). */
const BLOB_CACHE_BYTES = 64 * 1024 * 1024;

export class StoreReader implements BlobSource {
  private readonly db: Database.Database;
  private readonly stmts: {
    after: Database.Statement<[number, number]>;
    stream: Database.Statement<[string, number]>;
    blob: Database.Statement<[string]>;
    blobSize: Database.Statement<[string]>;
    chunk: Database.Statement<[string, number]>;
  };
  private readonly hasChunks: boolean;
  private last = 0;
  readonly overlays = new Map<string, Overlay>();
  /** Agents with an agent.registered or session event: their shadows exist even when empty. */
  readonly agents = new Set<string>();
  private readonly blobs = new Map<string, Buffer>();
  private blobBytes = 0;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.hasChunks =
      this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'blob_chunks'").get() !==
      undefined;
    this.stmts = {
      after: this.db.prepare(
        'SELECT seq, stream, type, agent_id, ts, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      stream: this.db.prepare(
        'SELECT seq, stream, type, agent_id, ts, data FROM events WHERE stream = ? AND seq <= ? ORDER BY seq',
      ),
      blob: this.db.prepare('SELECT data FROM blobs WHERE hash = ?').pluck(),
      blobSize: this.db.prepare('SELECT size FROM blobs WHERE hash = ?').pluck(),
      chunk: this.hasChunks
        ? this.db.prepare('SELECT data FROM blob_chunks WHERE hash = ? AND idx = ?').pluck()
        : this.db.prepare('SELECT NULL WHERE ? IS NULL AND ? IS NULL').pluck(),
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

  /** Reads the events appended since the last call and applies them; `before` sees each one first. */
  catchUp(before?: (e: LoggedEvent) => void, after?: (e: LoggedEvent) => void): number {
    let n = 0;
    for (;;) {
      const rows = this.stmts.after.all(this.last, 2000) as Row[];
      for (const r of rows) {
        const e = toLogged(r);
        before?.(e);
        this.apply(e);
        after?.(e);
        this.last = e.seq;
        n++;
      }
      if (rows.length < 2000) return n;
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
      reduce(past, r.type, JSON.parse(r.data) as unknown, r.seq, r.ts);
    return past;
  }

  getBlob(hash: string): Buffer | undefined {
    const hit = this.blobs.get(hash);
    if (hit) {
      this.blobs.delete(hash);
      this.blobs.set(hash, hit);
      return hit;
    }
    let data = (this.stmts.blob.get(hash) as Buffer | undefined) ?? undefined;
    if (data && data.length === 0 && this.hasChunks) data = this.assemble(hash);
    if (!data) return undefined;
    if (data.length <= BLOB_CACHE_BYTES / 4) {
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

  private assemble(hash: string): Buffer | undefined {
    const size = this.stmts.blobSize.get(hash) as number | undefined;
    if (size === undefined) return undefined;
    if (size === 0) return Buffer.alloc(0);
    return this.readBlobRange(hash, 0, size);
  }

  /** A byte range of a blob; a chunked blob is read chunk by chunk, never whole. */
  readBlobRange(hash: string, offset: number, length: number): Buffer | undefined {
    const cached = this.blobs.get(hash);
    if (cached) return cached.subarray(offset, offset + length);
    const size = this.stmts.blobSize.get(hash) as number | undefined;
    if (size === undefined) return undefined;
    const end = Math.min(size, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    const first = this.hasChunks ? (this.stmts.chunk.get(hash, 0) as Buffer | undefined) : undefined;
    if (!first) return this.getBlob(hash)?.subarray(offset, end);
    const chunkSize = first.length;
    const parts: Buffer[] = [];
    for (let i = Math.floor(offset / chunkSize); i * chunkSize < end; i++) {
      const c = i === 0 ? first : (this.stmts.chunk.get(hash, i) as Buffer | undefined);
      if (!c) return undefined;
      const from = Math.max(0, offset - i * chunkSize);
      const to = Math.min(c.length, end - i * chunkSize);
      parts.push(c.subarray(from, to));
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  close(): void {
    this.db.close();
  }
}
