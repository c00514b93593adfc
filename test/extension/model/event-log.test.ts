/**
 * The Event Log view's memory: what a user sees when filtering by type or agent and scrolling
 * (newest first), that old events make room for new ones, and the filter pickers' choices. Every
 * answer is checked against a plain recomputation over all the events kept.
 */
import { describe, expect, it } from 'vitest';
import type { Event } from '../../../bridge-image/protocol/index.js';
import { EventLogModel, NO_FILTER, type EventFilter } from '../../../extension/model/event-log.js';

function ev(seq: number, type: string, agentId = 'alice'): Event {
  return {
    seq,
    id: `id-${seq}`,
    stream: `agent:${agentId}`,
    streamVersion: seq,
    type,
    agentId,
    ts: new Date(1_700_000_000_000 + seq).toISOString(),
    data: { n: seq },
  };
}

const seqs = (events: Event[]) => events.map((e) => e.seq);

/** What the filter should let through, written out plainly. */
function passes(e: Event, f: EventFilter): boolean {
  if (f.agent !== undefined && e.agentId !== f.agent) return false;
  if (!f.types.length) return true;
  return f.types.some((t) => {
    const prefix = t.endsWith('.') ? t : `${t}.`;
    return e.type === t || e.type.startsWith(prefix);
  });
}

const sample = [
  ev(1, 'agent.registered', 'alice'),
  ev(2, 'shadow.written', 'alice'),
  ev(3, 'shadow.moved', 'bob'),
  ev(4, 'shadowy.thing', 'bob'),
  ev(5, 'validation.passed', 'alice'),
  ev(6, 'shadow.written', 'bob'),
  ev(7, 'system.started', ''),
];

describe('EventLogModel', () => {
  it('pages newest first, by offset and limit', () => {
    const m = new EventLogModel(100);
    m.add(sample);
    expect(seqs(m.page(0, 3))).toEqual([7, 6, 5]);
    expect(seqs(m.page(3, 3))).toEqual([4, 3, 2]);
    expect(seqs(m.page(6, 3))).toEqual([1]);
    expect(m.page(7, 3)).toEqual([]);
    expect(m.page(0, 0)).toEqual([]);
    expect(m.newestSeq).toBe(7);
    expect(m.size).toBe(7);
  });

  it('filters by type prefix on a dot boundary: "shadow" is not "shadowy"', () => {
    const m = new EventLogModel(100);
    m.add(sample);
    m.setFilter({ types: ['shadow'], agent: undefined });
    expect(seqs(m.page(0, 10))).toEqual([6, 3, 2]);
    m.setFilter({ types: ['shadow.'], agent: undefined });
    expect(seqs(m.page(0, 10))).toEqual([6, 3, 2]);
    m.setFilter({ types: ['shadow.written'], agent: undefined });
    expect(seqs(m.page(0, 10))).toEqual([6, 2]);
    m.setFilter({ types: ['shadow.wr'], agent: undefined });
    expect(m.matchCount).toBe(0);
    m.setFilter({ types: ['agent', 'validation'], agent: undefined });
    expect(seqs(m.page(0, 10))).toEqual([5, 1]);
  });

  it('filters by agent, and by agent and type together', () => {
    const m = new EventLogModel(100);
    m.add(sample);
    m.setFilter({ types: [], agent: 'bob' });
    expect(seqs(m.page(0, 10))).toEqual([6, 4, 3]);
    m.setFilter({ types: ['shadow'], agent: 'bob' });
    expect(seqs(m.page(0, 10))).toEqual([6, 3]);
    expect(m.matchCount).toBe(2);
    expect(seqs(m.all())).toEqual([3, 6]); // export: oldest first
    m.setFilter(NO_FILTER);
    expect(m.matchCount).toBe(7);
  });

  it('applies the filter to events that arrive after it is set', () => {
    const m = new EventLogModel(100);
    m.setFilter({ types: ['shadow'], agent: undefined });
    m.add(sample.slice(0, 3));
    m.add(sample.slice(3));
    expect(seqs(m.page(0, 10))).toEqual([6, 3, 2]);
    expect(m.size).toBe(7);
  });

  it('keeps its own copy of the filter', () => {
    const m = new EventLogModel(100);
    m.add(sample);
    const f: EventFilter = { types: ['shadow'], agent: undefined };
    m.setFilter(f);
    f.types.push('agent');
    expect(m.filter.types).toEqual(['shadow']);
    expect(m.matchCount).toBe(3);
  });

  it('ignores events it already has (a reconnect replays some)', () => {
    const m = new EventLogModel(100);
    m.add(sample.slice(0, 5));
    m.add(sample); // 1-5 again, then 6 and 7
    expect(seqs(m.all())).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('drops the oldest events beyond its capacity, keeping the filter right', () => {
    const m = new EventLogModel(100);
    m.setFilter({ types: ['shadow'], agent: undefined });
    const all: Event[] = [];
    for (let seq = 1; seq <= 126; seq++) all.push(ev(seq, seq % 3 ? 'shadow.written' : 'agent.heartbeat'));
    m.add(all.slice(0, 125));
    expect(m.size).toBe(125); // up to a quarter over before trimming: trimming is not per event
    m.add(all.slice(125));
    expect(m.size).toBe(100);
    expect(seqs(m.page(0, 1000))).toEqual(seqs(all.slice(26).filter((e) => passes(e, m.filter))).reverse());
    m.setFilter(NO_FILTER);
    expect(seqs(m.all())).toEqual(seqs(all.slice(26)));
  });

  it('offers the types and agents seen, sorted, without the empty agent', () => {
    const m = new EventLogModel(100);
    m.add(sample);
    expect(m.facets()).toEqual({
      types: [
        'agent.registered',
        'shadow.moved',
        'shadow.written',
        'shadowy.thing',
        'system.started',
        'validation.passed',
      ],
      agents: ['alice', 'bob'],
    });
  });

  it('starts over after clear', () => {
    const m = new EventLogModel(100);
    m.add(sample);
    m.clear();
    expect([m.size, m.matchCount, m.newestSeq]).toEqual([0, 0, 0]);
    expect(m.page(0, 10)).toEqual([]);
    m.add([ev(1, 'agent.registered')]);
    expect(seqs(m.page(0, 10))).toEqual([1]);
  });

  it('pages 20,000 events under every filter exactly as a plain recomputation does', () => {
    const types = [
      'shadow.written',
      'shadow.moved',
      'agent.heartbeat',
      'validation.failed',
      'custom.build_done',
    ];
    const agents = ['alice', 'bob', 'carol', ''];
    const all: Event[] = [];
    for (let seq = 1; seq <= 20_000; seq++) all.push(ev(seq, types[(seq * 7) % 5]!, agents[(seq * 11) % 4]!));
    const filters: EventFilter[] = [
      NO_FILTER,
      { types: ['shadow'], agent: undefined },
      { types: ['validation.failed', 'custom'], agent: undefined },
      { types: [], agent: 'carol' },
      { types: ['shadow.moved'], agent: 'bob' },
      { types: ['nothing'], agent: undefined },
    ];
    const m = new EventLogModel(5000);
    // Batches of different sizes, as the live connection delivers them.
    for (let i = 0, n = 1; i < all.length; i += n, n = (n * 3) % 97 || 1) m.add(all.slice(i, i + n));
    expect(m.size).toBeGreaterThanOrEqual(5000);
    expect(m.size).toBeLessThanOrEqual(6250);
    const kept = all.slice(all.length - m.size);
    expect(seqs(m.all())).toEqual(seqs(kept));
    for (const f of filters) {
      m.setFilter(f);
      const expected = seqs(kept.filter((e) => passes(e, f))).reverse();
      expect(m.matchCount, JSON.stringify(f)).toBe(expected.length);
      const paged: number[] = [];
      for (let offset = 0; ; offset += 200) {
        const page = m.page(offset, 200);
        if (!page.length) break;
        paged.push(...seqs(page));
      }
      expect(paged, JSON.stringify(f)).toEqual(expected);
    }
  });
});
