import { ExpertEventTypes, type Expert } from '../protocol/index.js';
import type { Claim, EventStore } from './store/event-store.js';

interface Named {
  agentId: string;
  capabilities: string[];
}

/** The stream the developer's naming of experts is kept in. */
export const EXPERTS_STREAM = 'experts';

/**
 * Who the developer named expert, and with which capabilities (from expert.named / expert.removed
 * events, rebuilt at start). An agent cannot name itself: only admin appends these events, and the
 * API takes no other writer of non-custom types.
 */
export class ExpertRoster {
  private readonly experts = new Map<string, Expert>();

  constructor(private readonly store: EventStore) {
    store.replay({ types: [ExpertEventTypes.named, ExpertEventTypes.removed] }, (e) =>
      this.apply(e.type, e.data as Named, e.agentId, e.ts),
    );
  }

  private apply(type: string, data: Named, by: string, ts: string): void {
    if (type === ExpertEventTypes.removed) this.experts.delete(data.agentId);
    else
      this.experts.set(data.agentId, {
        agentId: data.agentId,
        capabilities: [...data.capabilities],
        namedAt: ts,
        namedBy: by,
      });
  }

  async name(agentId: string, capabilities: string[], by: string, claim?: Claim): Promise<Expert> {
    const data: Named = { agentId, capabilities: [...new Set(capabilities)].sort() };
    const [e] = await this.store.append({
      stream: EXPERTS_STREAM,
      agentId: by,
      events: [{ type: ExpertEventTypes.named, data }],
      claim,
    });
    this.apply(ExpertEventTypes.named, data, by, e!.ts);
    return this.get(agentId)!;
  }

  /** False when the agent was not named. */
  async remove(agentId: string, by: string, claim?: Claim): Promise<boolean> {
    if (!this.experts.has(agentId)) return false;
    const data = { agentId };
    const [e] = await this.store.append({
      stream: EXPERTS_STREAM,
      agentId: by,
      events: [{ type: ExpertEventTypes.removed, data }],
      claim,
    });
    this.apply(ExpertEventTypes.removed, { agentId, capabilities: [] }, by, e!.ts);
    return true;
  }

  get(agentId: string): Expert | undefined {
    return this.experts.get(agentId);
  }

  /** The capabilities the developer named for this agent; none when it is not an expert. */
  capabilitiesOf(agentId: string): string[] {
    return this.experts.get(agentId)?.capabilities ?? [];
  }

  list(): Expert[] {
    return [...this.experts.values()].sort((a, b) => a.agentId.localeCompare(b.agentId));
  }
}
