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
