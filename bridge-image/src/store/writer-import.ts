/**
 * The writer's side of an import: one transaction, open from `begin` to `commit`, that rows are
 * written into as the main thread parses them. SQLite spills a transaction larger than its page
 * cache to the WAL, so memory stays bounded however large the export; a rollback drops it all, so
 * on any error the store is as it was. What can only be checked against earlier rows is checked
 * here, in the transaction: stream versions as events arrive, and each manifest against its chunks
 * at the end. Runs in the writer worker only, on the writer's connection.
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { chunkHash, isManifest, type BlobRow } from './blob-chunks.js';
import { GRANTS_FROM_SHADOW_EVENTS } from './schema.js';
import type { ImportBlob, ImportEvent, ImportGrant } from './writer-protocol.js';

const PAGE = 256;
/**
 * The page cache while an import is open, in KiB. Its pages are written once and not read again, so
 * a cache as large as the writer's usual one would only hold them, dirty, until SQLite spills them.
 */
const IMPORT_CACHE_KIB = 16 * 1024;

export class WriterImport {
  private readonly st;
  private open = false;
  /** The writer's own cache size, given back when the import ends. */
  private cacheSize: number | undefined;

  constructor(private readonly db: Database.Database) {
    // Per-import bookkeeping lives in temporary tables (on disk, like the transaction), not in maps
    // that would grow with the export. Made once: statements are kept for the connection's life.
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS import_streams (stream TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TEMP TABLE IF NOT EXISTS import_manifests (hash TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;
    `);
    this.st = {
      counts: db.prepare(
        'SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM blobs) AS blobs',
      ),
      clear: [db.prepare('DELETE FROM temp.import_streams'), db.prepare('DELETE FROM temp.import_manifests')],
      blobPut: db.prepare('INSERT OR IGNORE INTO blobs (hash, size, data) VALUES (?,?,?)'),
      grantPut: db.prepare('INSERT OR IGNORE INTO blob_grants (agent_id, hash) VALUES (?,?)'),
      grantsFromEvents: db.prepare(GRANTS_FROM_SHADOW_EVENTS),
      blobGet: db.prepare('SELECT size, data FROM blobs WHERE hash = ?'),
      manifestPut: db.prepare('INSERT OR IGNORE INTO temp.import_manifests (hash, line) VALUES (?,?)'),
      manifests: db.prepare(
        `SELECT hash, line FROM temp.import_manifests WHERE hash > ? ORDER BY hash LIMIT ${PAGE}`,
      ),
      insert: db.prepare(
        'INSERT INTO events (seq, id, stream, stream_version, type, agent_id, ts, path, data) VALUES (?,?,?,?,?,?,?,?,?)',
      ),
      // No row changes when the stream already has this version or a later one.
      version: db.prepare(
        'INSERT INTO temp.import_streams (stream, version) VALUES (?, ?) ' +
          'ON CONFLICT (stream) DO UPDATE SET version = excluded.version WHERE excluded.version > version',
      ),
      lastVersion: db.prepare('SELECT version FROM temp.import_streams WHERE stream = ?').pluck(),
      lastSeq: db.prepare('SELECT MAX(seq) FROM events').pluck(),
    };
  }

  /** An import is open: ordinary commits and index steps wait, or they would join its transaction. */
  get active(): boolean {
    return this.open;
  }

  begin(): void {
    if (this.open) throw new Error('an import is already open');
    this.db.exec('BEGIN IMMEDIATE');
    this.open = true;
    this.cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = -${IMPORT_CACHE_KIB}`);
    try {
      const n = this.st.counts.get() as { events: number; blobs: number };
      if (n.events > 0 || n.blobs > 0) {
        throw new Error(
          `import needs an empty store; this one already holds ${n.events} events and ${n.blobs} blobs`,
        );
      }
      for (const c of this.st.clear) c.run();
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  rows(blobs: ImportBlob[], events: ImportEvent[], grants: ImportGrant[] = []): void {
    this.guard(() => {
      for (const g of grants) this.st.grantPut.run(g.agentId, g.hash);
      for (const b of blobs) {
        this.st.blobPut.run(b.hash, b.size, Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
        if (b.size !== b.data.byteLength) this.st.manifestPut.run(b.hash, b.line);
      }
      for (const e of events) {
        // The log has no unique constraint on stream versions (the writer assigns them exactly), so an
        // import checks them itself: each stream's versions must rise.
        if (this.st.version.run(e.stream, e.streamVersion).changes === 0) {
          const last = this.st.lastVersion.get(e.stream) as number;
          throw new Error(
            `line ${e.line}: event ${e.seq} gives stream ${e.stream} version ${e.streamVersion}, not above ${last}`,
          );
        }
        this.st.insert.run(e.seq, e.id, e.stream, e.streamVersion, e.type, e.agentId, e.ts, e.path, e.data);
      }
    });
  }

  /** Checks every manifest against its chunks, then commits; returns the last seq. */
  commit(): number {
    return this.guard(() => {
      for (let after = ''; ;) {
        const page = this.st.manifests.all(after) as { hash: string; line: number }[];
        for (const m of page) this.checkManifest(m.hash, m.line);
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.hash;
      }
      // An export made before grants were exported (format 1 and 2) has none: its shadow events say
      // who stored what. Grant lines of a newer export add the blobs put with PUT /v1/blobs.
      this.st.grantsFromEvents.run();
      for (const c of this.st.clear) c.run();
      const lastSeq = (this.st.lastSeq.get() as number | null) ?? 0;
      this.db.exec('COMMIT');
      this.ended();
      return lastSeq;
    });
  }

  abort(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.ended();
  }

  private ended(): void {
    this.open = false;
    if (this.cacheSize !== undefined) this.db.pragma(`cache_size = ${this.cacheSize}`);
    this.cacheSize = undefined;
  }

  /** Any failure rolls the whole import back at once, whatever the main thread does next. */
  private guard<T>(fn: () => T): T {
    if (!this.open) throw new Error('no import is open (it failed, or was committed or aborted)');
    try {
      return fn();
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** A manifest's chunks must all be in the export and make up exactly the content its hash names. */
  private checkManifest(hash: string, line: number): void {
    const row = this.st.blobGet.get(hash) as BlobRow;
    // The same content came whole too (and was checked against its hash when it arrived).
    if (!isManifest(row)) return;
    const whole = createHash('sha256');
    let size = 0;
    for (let i = 0; i * 32 < row.data.length; i++) {
      const chunk = this.st.blobGet.get(chunkHash(row.data, i)) as BlobRow | undefined;
      if (!chunk || isManifest(chunk)) {
        throw new Error(
          `line ${line}: blob ${hash}: chunk ${i} (${chunkHash(row.data, i)}) is not in the export`,
        );
      }
      whole.update(chunk.data);
      size += chunk.data.length;
    }
    if (size !== row.size || whole.digest('hex') !== hash) {
      throw new Error(`line ${line}: blob ${hash} does not match its content (from its chunks)`);
    }
  }
}
