import type { Event } from '../../protocol/index.js';
import type { EventStore } from '../store/event-store.js';

/**
 * streams/events.jsonl: every event as a JSON line, readable at any offset while it grows. Keeps the
 * end offset of each line (8 bytes an event), so a read finds its first line by binary search.
 */
export class EventsJsonl {
  private ends: number[] = [];
  private built = false;

  constructor(private readonly store: EventStore) {
    store.onAppended((events) => {
      if (this.built) for (const e of events) this.push(e);
    });
  }

  private line(e: Event): Buffer {
    return Buffer.from(JSON.stringify(e) + '\n');
  }

  private push(e: Event): void {
    if (e.seq !== this.ends.length + 1) return;
    this.ends.push((this.ends[this.ends.length - 1] ?? 0) + this.line(e).length);
  }

  private build(): void {
    if (this.built) return;
    for (const e of this.store.iterateEvents()) this.push(e);
    this.built = true;
  }

  size(): number {
    this.build();
    return this.ends[this.ends.length - 1] ?? 0;
  }

  read(offset: number, length: number): Buffer {
    this.build();
    const total = this.size();
    if (offset >= total || length <= 0) return Buffer.alloc(0);
    let lo = 0;
    let hi = this.ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid]! > offset) hi = mid;
      else lo = mid + 1;
    }
    const startSeq = lo + 1;
    const lineStart = lo === 0 ? 0 : this.ends[lo - 1]!;
    const chunks: Buffer[] = [];
    let have = lineStart;
    const page = this.store.query({ after: startSeq - 1, limit: 1000 });
    for (const e of page.events) {
      const l = this.line(e);
      chunks.push(l);
      have += l.length;
      if (have >= offset + length) break;
    }
    const all = Buffer.concat(chunks);
    return all.subarray(offset - lineStart, offset - lineStart + length);
  }
}
