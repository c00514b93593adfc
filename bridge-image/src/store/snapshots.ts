/**
 * Long reads (an export) see one snapshot of the store, through a read-only connection of their own:
 * a read transaction held on the main connection would hide every later commit from its queries.
 * Connections are kept for the store's life and reused, never left to the garbage collector (a
 * collected better-sqlite3 object can abort the process under Node 24), and they read without
 * memory mapping, so what a long read touches is not left resident.
 */
import Database from 'better-sqlite3';
import type { BlobRow } from './blob-chunks.js';
import { EVENT_COLUMNS, type EventRow } from './event-row.js';

const PAGE = 256;

/** One snapshot's rows, a page at a time: no statement stays open between two reads. */
export class SnapshotReader {
  private readonly db: Database.Database;
  private readonly st;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma('mmap_size = 0');
    this.db.pragma('cache_size = -2048');
    this.st = {
      blobKeys: this.db.prepare(`SELECT hash FROM blobs WHERE hash > ? ORDER BY hash LIMIT ${PAGE}`).pluck(),
      blob: this.db.prepare('SELECT size, data FROM blobs WHERE hash = ?'),
      grants: this.db.prepare(
        `SELECT agent_id, hash FROM blob_grants WHERE (agent_id, hash) > (?, ?) ORDER BY agent_id, hash LIMIT ${PAGE}`,
      ),
      events: this.db.prepare(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ${PAGE}`,
      ),
    };
  }

  /**
   * Every blob row, in hash order, one row's data in memory at a time: keys come a page at a time
   * and each row is read by itself (an old store may hold a large blob as one row).
   */
  *blobs(): Generator<BlobRow & { hash: string }> {
    for (let after = ''; ;) {
      const keys = this.st.blobKeys.all(after) as string[];
      for (const hash of keys) yield { hash, ...(this.st.blob.get(hash) as BlobRow) };
      if (keys.length < PAGE) return;
      after = keys[keys.length - 1]!;
    }
  }

  /** Every blob grant, in (agent, hash) order, a page at a time. */
  *grants(): Generator<{ agentId: string; hash: string }> {
    for (let after = ['', '']; ;) {
      const rows = this.st.grants.all(...after) as { agent_id: string; hash: string }[];
      for (const r of rows) yield { agentId: r.agent_id, hash: r.hash };
      if (rows.length < PAGE) return;
      after = [rows[rows.length - 1]!.agent_id, rows[rows.length - 1]!.hash];
    }
  }

  /** Events (after, upTo], in seq order. */
  *events(upTo: number): Generator<EventRow> {
    for (let after = 0; ;) {
      const rows = this.st.events.all(after, upTo) as EventRow[];
      yield* rows;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  begin(): void {
    this.db.exec('BEGIN');
  }

  /** Ends the snapshot; after close() there is none left to end. */
  end(): void {
    if (this.db.open && this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export class Snapshots {
  private readonly idle: SnapshotReader[] = [];
  private readonly all: SnapshotReader[] = [];
  private closed = false;

  constructor(private readonly file: string) {}

  /**
   * Runs `body` over one snapshot. The snapshot begins with its first read and ends when the
   * generator ends, throws or is returned (a for-of that stops early returns it), so a reader that
   * gives up midway leaves no read transaction pinning the WAL.
   */
  *read<T>(body: (r: SnapshotReader) => Iterable<T>): Generator<T> {
    if (this.closed) throw new Error('the event store is closed');
    let r = this.idle.pop();
    if (!r) {
      r = new SnapshotReader(this.file);
      this.all.push(r);
    }
    r.begin();
    try {
      yield* body(r);
    } finally {
      r.end();
      if (!this.closed) this.idle.push(r);
    }
  }

  /**
   * Closes every connection, also those of reads still under way (a slow client's export): their
   * next read fails, and the store's final checkpoint is not held up by their snapshots.
   */
  close(): void {
    this.closed = true;
    for (const r of this.all) r.close();
  }
}
