import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  up: (db: Database.Database) => void;
}

/** Seqs per index block: 256. */
export const INDEX_BLOCK_BITS = 8;

/**
 * Fills the block indexes for the events in (@from, @to]: one statement per index, each sorted by
 * its key so that pages are written in order, each row inserted once per key and block.
 */
export const INDEX_FILL = [
  ['ix_type', 'type'],
  ['ix_agent', 'agent_id'],
  ['ix_stream', 'stream'],
  ['ix_path', 'path'],
]
  .map(
    ([table, col]) =>
      `INSERT OR IGNORE INTO ${table} (${col}, block) SELECT DISTINCT ${col}, seq >> ${INDEX_BLOCK_BITS} FROM events ` +
      `WHERE seq > @from AND seq <= @to${col === 'path' ? ' AND path IS NOT NULL' : ''} ORDER BY 1, 2`,
  )
  .concat(
    `INSERT INTO ix_time (block, min_ts, max_ts) SELECT seq >> ${INDEX_BLOCK_BITS}, MIN(ts), MAX(ts) FROM events ` +
      `WHERE seq > @from AND seq <= @to GROUP BY 1 ORDER BY 1 ` +
      'ON CONFLICT (block) DO UPDATE SET min_ts = MIN(min_ts, excluded.min_ts), max_ts = MAX(max_ts, excluded.max_ts)',
  );

/** Ordered migrations; PRAGMA user_version holds the last one applied. Never edit one that has shipped. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'events, blobs, meta',
    up: (db) => {
      db.exec(`
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          stream TEXT NOT NULL,
          stream_version INTEGER NOT NULL,
          type TEXT NOT NULL,
          agent_id TEXT NOT NULL,
          ts INTEGER NOT NULL,
          path TEXT,
          data TEXT NOT NULL,
          UNIQUE (stream, stream_version)
        );
        CREATE INDEX events_type ON events (type, seq);
        CREATE INDEX events_agent ON events (agent_id, seq);
        CREATE INDEX events_ts ON events (ts);
        CREATE INDEX events_path ON events (path, seq) WHERE path IS NOT NULL;
        CREATE TABLE blobs (
          hash TEXT PRIMARY KEY,
          size INTEGER NOT NULL,
          data BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'replies remembered by idempotency key',
    up: (db) => {
      db.exec(`
        CREATE TABLE idempotency (
          agent_id TEXT NOT NULL,
          key TEXT NOT NULL,
          status INTEGER NOT NULL,
          body TEXT NOT NULL,
          created INTEGER NOT NULL,
          PRIMARY KEY (agent_id, key)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 3,
    description: 'appends touch only the log; block indexes are filled behind it in batches',
    up: (db) => {
      // The log itself keeps only its primary key (seq). Lookups go through block indexes: for each
      // key, the blocks of 2^INDEX_BLOCK_BITS seqs that hold an event with it (and per block, its
      // time span). A key repeated within a block costs one index row, not one per event. The
      // writer fills them for seq <= index_state.upto, a batch at a time; queries scan the blocks
      // they name, filter the rows exactly, and scan the short unindexed tail past upto.
      db.exec(`
        CREATE TABLE events_v3 (
          seq INTEGER PRIMARY KEY,
          id TEXT NOT NULL,
          stream TEXT NOT NULL,
          stream_version INTEGER NOT NULL,
          type TEXT NOT NULL,
          agent_id TEXT NOT NULL,
          ts INTEGER NOT NULL,
          path TEXT,
          data TEXT NOT NULL
        );
        INSERT INTO events_v3 (seq, id, stream, stream_version, type, agent_id, ts, path, data)
          SELECT seq, id, stream, stream_version, type, agent_id, ts, path, data FROM events ORDER BY seq;
        DROP TABLE events;
        ALTER TABLE events_v3 RENAME TO events;
        CREATE TABLE ix_type (type TEXT NOT NULL, block INTEGER NOT NULL, PRIMARY KEY (type, block)) WITHOUT ROWID;
        CREATE TABLE ix_agent (agent_id TEXT NOT NULL, block INTEGER NOT NULL, PRIMARY KEY (agent_id, block)) WITHOUT ROWID;
        CREATE TABLE ix_stream (stream TEXT NOT NULL, block INTEGER NOT NULL, PRIMARY KEY (stream, block)) WITHOUT ROWID;
        CREATE TABLE ix_path (path TEXT NOT NULL, block INTEGER NOT NULL, PRIMARY KEY (path, block)) WITHOUT ROWID;
        CREATE TABLE ix_time (block INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL);
        CREATE TABLE index_state (one INTEGER PRIMARY KEY CHECK (one = 1), upto INTEGER NOT NULL);
        INSERT INTO index_state (one, upto) VALUES (1, 0);
      `);
      const last = (db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number | null) ?? 0;
      for (const fill of INDEX_FILL) db.prepare(fill).run({ from: 0, to: last });
      db.prepare('UPDATE index_state SET upto = ?').run(last);
    },
  },
];

/**
 * Who may read a blob: every agent that stored it (PUT /v1/blobs, its shadow writes and moves).
 * Content is addressed by its hash, and hashes are in events every agent can read, so a hash alone
 * must not let one agent read what another stored.
 */
export const GRANTS_FROM_SHADOW_EVENTS =
  'INSERT OR IGNORE INTO blob_grants (agent_id, hash) ' +
  "SELECT agent_id, data ->> '$.hash' FROM events " +
  "WHERE type IN ('shadow.written', 'shadow.moved') AND data ->> '$.hash' IS NOT NULL";

MIGRATIONS.push({
  version: 4,
  description: 'blob grants: an agent reads only the blobs it stored',
  up: (db) => {
    db.exec(`
      CREATE TABLE blob_grants (
        agent_id TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (agent_id, hash)
      ) WITHOUT ROWID;
    `);
    // What a store already holds: its shadow events say who stored which content. Blobs put with
    // PUT /v1/blobs before this migration left no trace of who put them; admin still reads them.
    db.exec(GRANTS_FROM_SHADOW_EVENTS);
  },
});

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

/** Brings the database to SCHEMA_VERSION, each migration in its own transaction. */
export function migrate(db: Database.Database, file: string): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new StoreOpenError(
      `the event store at ${file} has schema version ${from}, newer than this bridge understands (${SCHEMA_VERSION}); ` +
        'run a newer Lighthouse bridge, or restore a backup made by this version',
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return { from, to: SCHEMA_VERSION };
}
