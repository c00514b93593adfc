import { MAX_CHANGES_PAGE } from '../../bridge-image/protocol/paging.js';
import type { ShadowChange, ShadowChanges } from '../../bridge-image/protocol/index.js';

/** Asks the bridge for one page of an agent's changes (BridgeClient.changes). */
export type FetchPage = (agentId: string, page: { limit: number; cursor?: string }) => Promise<ShadowChanges>;

/** What an expanded agent shows: the changes fetched, by path, and the counts of its whole list. */
export interface AgentList {
  changes: ShadowChange[];
  byPath: ReadonlyMap<string, ShadowChange>;
  total: number;
  conflicts: number;
  /** How many changes the list has beyond those fetched: the "Show more" row's number. */
  remaining: number;
}

/**
 * The Shadow Files lists a page at a time: an agent with thousands of changes (node_modules, dist)
 * shows its first page and a row for more, never its whole list at once. Each agent remembers how
 * many it shows, so that a refresh (every burst of shadow events) fetches as many again, afresh.
 */
export class ShadowPages {
  private readonly shown = new Map<string, number>();
  private readonly lists = new Map<string, AgentList>();

  constructor(
    private readonly fetch: FetchPage,
    readonly pageSize = 200,
  ) {}

  /** The agent's list as the bridge has it now: as many changes as it showed, a page at first. */
  async load(agentId: string): Promise<AgentList> {
    const want = this.shown.get(agentId) ?? this.pageSize;
    const changes: ShadowChange[] = [];
    let page: ShadowChanges;
    let cursor: string | undefined;
    do {
      page = await this.fetch(agentId, { limit: Math.min(MAX_CHANGES_PAGE, want - changes.length), cursor });
      changes.push(...page.changes);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && changes.length < want);
    const list: AgentList = {
      changes,
      byPath: new Map(changes.map((c) => [c.path, c])),
      total: page.total,
      conflicts: page.conflicts,
      remaining: cursor === undefined ? 0 : Math.max(0, page.total - changes.length),
    };
    this.lists.set(agentId, list);
    return list;
  }

  /** One page more for this agent the next time it is drawn (the "Show more" row). */
  showMore(agentId: string): void {
    this.shown.set(agentId, (this.shown.get(agentId) ?? this.pageSize) + this.pageSize);
  }

  /** The list last fetched for this agent, for file decorations; undefined if never expanded. */
  get(agentId: string): AgentList | undefined {
    return this.lists.get(agentId);
  }

  /** Every list fetched, by agent (staleLists compares their counts with the summary). */
  remembered(): ReadonlyMap<string, AgentList> {
    return this.lists;
  }

  forget(agentId: string): void {
    this.lists.delete(agentId);
  }
}
