/**
 * Schema 3's secondary indexes, kept behind the log. An append writes only its events rows; the
 * writer later copies the new rows' keys into the ix_* tables a batch at a time, each batch sorted
 * by key so that every index is written in order instead of one random page per event, and moves
 * index_state.upto forward in the same transaction. Queries read the ix_* tables up to `upto` and
 * scan the events past it (a tail of at most a few batches), so nothing is ever missing from them.
 *
 * Runs in the writer worker only, on the writer's connection.
 */
import type Database from 'better-sqlite3';

interface TailRow {
  seq: number;
  stream: string;
  stream_version: number;
  type: string;
  agent_id: string;
  ts: number;
  path: string | null;
}

const byText =
  <K extends 'type' | 'agent_id' | 'stream' | 'path'>(k: K) =>
  (a: TailRow, b: TailRow): number => {
    const x = a[k] as string;
    const y = b[k] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  };

export class Indexer {
  private readonly st;
  private readonly byType = byText('type');
  private readonly byAgent = byText('agent_id');
  private readonly byStream = byText('stream');
  private readonly byPath = byText('path');

  constructor(private readonly db: Database.Database) {
    // Prepared once and kept for the connection's life.
    this.st = {
      upto: db.prepare('SELECT upto FROM index_state WHERE one = 1').pluck(),
      setUpto: db.prepare('UPDATE index_state SET upto = ? WHERE one = 1'),
      tail: db.prepare(
        'SELECT seq, stream, stream_version, type, agent_id, ts, path FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      type: db.prepare('INSERT INTO ix_type (type, seq) VALUES (?, ?)'),
      agent: db.prepare('INSERT INTO ix_agent (agent_id, seq) VALUES (?, ?)'),
      stream: db.prepare('INSERT INTO ix_stream (stream, stream_version, seq) VALUES (?, ?, ?)'),
      ts: db.prepare('INSERT INTO ix_ts (ts, seq) VALUES (?, ?)'),
      path: db.prepare('INSERT INTO ix_path (path, seq) VALUES (?, ?)'),
      streamVersion: db
        .prepare(
          `SELECT MAX(v) FROM (
             SELECT MAX(stream_version) AS v FROM ix_stream WHERE stream = ?
             UNION ALL
             SELECT MAX(stream_version) FROM events
               WHERE seq > (SELECT upto FROM index_state WHERE one = 1) AND stream = ?)`,
        )
        .pluck(),
    };
  }

  /** The last seq whose keys are in the ix_* tables. */
  upto(): number {
    return this.st.upto.get() as number;
  }

  /** The newest version of a stream (0 if it has none), from the index and the unindexed tail. */
  streamVersion(stream: string): number {
    return (this.st.streamVersion.get(stream, stream) as number | null) ?? 0;
  }

  /**
   * Indexes up to `max` events past `upto` in one transaction; returns how many. Index rows can be
   * rebuilt from the log, so this transaction need not reach the disk by itself (synchronous=NORMAL:
   * no sync at commit, checkpoints still safe): the next durable commit's sync carries it, and a
   * power loss before that merely leaves it to be done again.
   */
  step(max: number, durableSync: string): number {
    const st = this.st;
    const rows = st.tail.all(this.upto(), max) as TailRow[];
    if (rows.length === 0) return 0;
    this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(() => {
        // Each sort starts from seq order, and sorts are stable: key order, then seq.
        for (const r of rows.slice().sort(this.byType)) st.type.run(r.type, r.seq);
        for (const r of rows.slice().sort(this.byAgent)) st.agent.run(r.agent_id, r.seq);
        for (const r of rows.slice().sort(this.byStream)) st.stream.run(r.stream, r.stream_version, r.seq);
        // Timestamps grow with seq (one clock, one writer) but are not guaranteed to: sort anyway.
        for (const r of rows.slice().sort((a, b) => a.ts - b.ts)) st.ts.run(r.ts, r.seq);
        for (const r of rows.filter((x) => x.path !== null).sort(this.byPath)) st.path.run(r.path, r.seq);
        st.setUpto.run(rows[rows.length - 1]!.seq);
      })();
    } finally {
      this.db.pragma(`synchronous = ${durableSync}`);
    }
    return rows.length;
  }
}
