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

export class Indexer {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    // Prepared once and kept for the connection's life.
    this.st = {
      upto: db.prepare('SELECT upto FROM index_state WHERE one = 1').pluck(),
      setUpto: db.prepare('UPDATE index_state SET upto = ? WHERE one = 1'),
      lastSeq: db.prepare('SELECT MAX(seq) FROM events').pluck(),
      // Each index from one range of the log, in its own key order (SQLite sorts, in C): every
      // index's pages are then written front to back instead of one random page per event.
      fill: [
        'INSERT INTO ix_type (type, seq) SELECT type, seq FROM events WHERE seq > @from AND seq <= @to ORDER BY type, seq',
        'INSERT INTO ix_agent (agent_id, seq) SELECT agent_id, seq FROM events WHERE seq > @from AND seq <= @to ORDER BY agent_id, seq',
        'INSERT INTO ix_stream (stream, stream_version, seq) SELECT stream, stream_version, seq FROM events WHERE seq > @from AND seq <= @to ORDER BY stream, stream_version',
        'INSERT INTO ix_ts (ts, seq) SELECT ts, seq FROM events WHERE seq > @from AND seq <= @to ORDER BY ts, seq',
        'INSERT INTO ix_path (path, seq) SELECT path, seq FROM events WHERE seq > @from AND seq <= @to AND path IS NOT NULL ORDER BY path, seq',
      ].map((sql) => db.prepare(sql)),
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
    const from = this.upto();
    const to = Math.min(from + max, (st.lastSeq.get() as number | null) ?? 0);
    if (to <= from) return 0;
    this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(() => {
        for (const fill of st.fill) fill.run({ from, to });
        st.setUpto.run(to);
      })();
    } finally {
      this.db.pragma(`synchronous = ${durableSync}`);
    }
    return to - from;
  }
}
