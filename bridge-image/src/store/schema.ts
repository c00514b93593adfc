import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  up: (db: Database.Database) => void;
}

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
    description: 'appends touch only the log; secondary indexes are filled behind it in sorted batches',
    up: (db) => {
      // The log itself keeps only its primary key (seq). Every other lookup goes through the ix_*
      // tables below, which the writer fills for seq <= index_state.upto, a batch at a time and in
      // key order; queries read the ix_* tables up to there and scan the short tail past it.
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
        CREATE TABLE ix_type (type TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (type, seq)) WITHOUT ROWID;
        CREATE TABLE ix_agent (agent_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (agent_id, seq)) WITHOUT ROWID;
        CREATE TABLE ix_stream (
          stream TEXT NOT NULL,
          stream_version INTEGER NOT NULL,
          seq INTEGER NOT NULL,
          PRIMARY KEY (stream, stream_version)
        ) WITHOUT ROWID;
        CREATE TABLE ix_ts (ts INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (ts, seq)) WITHOUT ROWID;
        CREATE TABLE ix_path (path TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (path, seq)) WITHOUT ROWID;
        CREATE TABLE index_state (one INTEGER PRIMARY KEY CHECK (one = 1), upto INTEGER NOT NULL);
        INSERT INTO ix_type SELECT type, seq FROM events ORDER BY type, seq;
        INSERT INTO ix_agent SELECT agent_id, seq FROM events ORDER BY agent_id, seq;
        INSERT INTO ix_stream SELECT stream, stream_version, seq FROM events ORDER BY stream, stream_version;
        INSERT INTO ix_ts SELECT ts, seq FROM events ORDER BY ts, seq;
        INSERT INTO ix_path SELECT path, seq FROM events WHERE path IS NOT NULL ORDER BY path, seq;
        INSERT INTO index_state (one, upto) VALUES (1, (SELECT COALESCE(MAX(seq), 0) FROM events));
      `);
    },
  },
];

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
