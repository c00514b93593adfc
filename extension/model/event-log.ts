import type { Event } from '../../bridge-image/protocol/index.js';

export interface EventFilter {
  /** Type prefixes ("shadow." matches shadow.written); empty: every type. */
  types: string[];
  /** An agent id; undefined: every agent. */
  agent: string | undefined;
}

export const NO_FILTER: EventFilter = { types: [], agent: undefined };

/**
 * The Event Log's memory: the newest `capacity` events in seq order, and the seqs that pass the
 * filter, kept up to date as events arrive so that a page costs O(page), not O(events).
 */
export class EventLogModel {
  private events: Event[] = [];
  private matching: number[] = []; // indexes into `events` of those that pass the filter
  private filterValue: EventFilter = NO_FILTER;
  private dropped = 0;

  constructor(private readonly capacity: number) {}

  get filter(): EventFilter {
    return this.filterValue;
  }

  /** All events kept, and how many pass the filter. */
  get size(): number {
    return this.events.length;
  }
  get matchCount(): number {
    return this.matching.length;
  }
  get newestSeq(): number {
    return this.events[this.events.length - 1]?.seq ?? 0;
  }

  /** Adds events in seq order; events already seen are ignored. */
  add(batch: readonly Event[]): void {
    for (const e of batch) {
      if (e.seq <= this.newestSeq) continue;
      this.events.push(e);
      if (this.matches(e)) this.matching.push(this.events.length - 1);
    }
    if (this.events.length > this.capacity * 1.25) this.trim();
  }

  private trim(): void {
    const drop = this.events.length - this.capacity;
    this.events = this.events.slice(drop);
    this.dropped += drop;
    this.matching = this.matching.filter((i) => i >= drop).map((i) => i - drop);
  }

  setFilter(f: EventFilter): void {
    this.filterValue = { types: [...f.types], agent: f.agent };
    this.matching = [];
    this.events.forEach((e, i) => {
      if (this.matches(e)) this.matching.push(i);
    });
  }

  matches(e: Event): boolean {
    const f = this.filterValue;
    if (f.agent !== undefined && e.agentId !== f.agent) return false;
    if (
      f.types.length &&
      !f.types.some((t) => e.type === t || e.type.startsWith(t.endsWith('.') ? t : `${t}.`))
    )
      return false;
    return true;
  }

  /** Newest first: the events at positions [offset, offset + limit) of the filtered list. */
  page(offset: number, limit: number): Event[] {
    const out: Event[] = [];
    for (let k = this.matching.length - 1 - offset; k >= 0 && out.length < limit; k--) {
      out.push(this.events[this.matching[k]!]!);
    }
    return out;
  }

  /** Every filtered event, oldest first (for export). */
  all(): Event[] {
    return this.matching.map((i) => this.events[i]!);
  }

  /** Types and agents seen, for the filter pickers. */
  facets(): { types: string[]; agents: string[] } {
    const types = new Set<string>();
    const agents = new Set<string>();
    for (const e of this.events) {
      types.add(e.type);
      if (e.agentId) agents.add(e.agentId);
    }
    return { types: [...types].sort(), agents: [...agents].sort() };
  }

  clear(): void {
    this.events = [];
    this.matching = [];
  }
}
