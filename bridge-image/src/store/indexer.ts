/**
 * Schema 3's block indexes, kept behind the log (see schema.ts). An append writes only its events
 * rows; the writer later records, a batch at a time and sorted by key, which blocks of seqs hold
 * each type, agent, stream and path (and each block's time span), and moves index_state.upto
 * forward in the same transaction. Queries read the blocks up to `upto` and scan the events past
 * it (a tail of at most a few batches), so nothing is ever missing from them.
 *
 * Runs in the writer worker only, on the writer's connection.
 */
import type Database from 'better-sqlite3';
import { INDEX_BLOCK_BITS, INDEX_FILL } from './schema.js';

export class Indexer {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    // Prepared once and kept for the connection's life.
    this.st = {
      upto: db.prepare('SELECT upto FROM index_state WHERE one = 1').pluck(),
      setUpto: db.prepare('UPDATE index_state SET upto = ? WHERE one = 1'),
      lastSeq: db.prepare('SELECT MAX(seq) FROM events').pluck(),
      fill: INDEX_FILL.map((sql) => db.prepare(sql)),
      // Versions rise with seq within a stream: its newest version is in the last block that has
      // it, or in the unindexed tail.
      streamVersion: db
        .prepare(
          `SELECT MAX(v) FROM (
             SELECT MAX(stream_version) AS v FROM events
               WHERE seq BETWEEN (SELECT MAX(block) FROM ix_stream WHERE stream = @s) << ${INDEX_BLOCK_BITS}
                 AND ((SELECT MAX(block) FROM ix_stream WHERE stream = @s) << ${INDEX_BLOCK_BITS}) + ${(1 << INDEX_BLOCK_BITS) - 1}
                 AND stream = @s
             UNION ALL
             SELECT MAX(stream_version) FROM events
               WHERE seq > (SELECT upto FROM index_state WHERE one = 1) AND stream = @s)`,
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
    return (this.st.streamVersion.get({ s: stream }) as number | null) ?? 0;
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
