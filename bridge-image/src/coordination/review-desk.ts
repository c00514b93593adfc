import { randomBytes } from 'node:crypto';
import { ReviewEventTypes, type Review } from '../../protocol/index.js';
import type { AgentRegistry } from '../agents.js';
import type { Claim, EventStore } from '../store/event-store.js';

export interface ReviewTimeouts {
  /** How long an expert has before the question goes to the developer. */
  expertMs: number;
  /** How long the developer has before the policy's default decides. */
  developerMs: number;
}

export class ReviewError extends Error {
  override name = 'ReviewError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Escalated validations: first to a connected expert with the capability, then to the developer,
 * then the policy's default. Every step is an event carrying the whole review, so the pending ones
 * (and their deadlines) are rebuilt after a restart.
 */
export class ReviewDesk {
  private readonly reviews = new Map<string, Review>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: EventStore,
    private readonly agents: AgentRegistry,
    private readonly timeouts: ReviewTimeouts,
    private readonly defaultDecision: () => 'approved' | 'blocked',
  ) {
    store.replay({ types: ['review.*'] }, (e) => this.reviews.set((e.data as Review).id, e.data as Review));
    this.timer = setInterval(() => void this.tick(), 500);
    this.timer.unref();
  }

  /** Capability an expert needs for a tool: shell commands or file edits. */
  static capabilityFor(tool: string): string {
    return /^(bash|shell|exec|run)/i.test(tool) ? 'shell' : 'files';
  }

  private async record(type: string, r: Review, by: string, claim?: Claim): Promise<Review> {
    await this.store.append({ stream: `review:${r.id}`, agentId: by, events: [{ type, data: r }], claim });
    this.reviews.set(r.id, r);
    if (r.state === 'answered' || r.state === 'expired')
      for (const w of this.waiters.get(r.id)?.splice(0) ?? []) w();
    return r;
  }

  async request(
    q: { agentId: string; tool: string; input: unknown; reason: string; rule: string | null },
    claim?: Claim,
  ): Promise<Review> {
    const capability = ReviewDesk.capabilityFor(q.tool);
    const expert = this.agents.connectedExperts(capability).length > 0;
    const now = Date.now();
    const r: Review = {
      id: randomBytes(8).toString('hex'),
      ...q,
      capability,
      state: expert ? 'pending-expert' : 'pending-developer',
      decision: null,
      answeredBy: null,
      answerReason: null,
      requestedAt: new Date(now).toISOString(),
      deadline: new Date(now + (expert ? this.timeouts.expertMs : this.timeouts.developerMs)).toISOString(),
    };
    return this.record(ReviewEventTypes.requested, r, q.agentId, claim);
  }

  get(id: string): Review {
    const r = this.reviews.get(id);
    if (!r) throw new ReviewError(404, `no review ${id}`);
    return r;
  }

  list(state?: Review['state']): Review[] {
    return [...this.reviews.values()].filter((r) => state === undefined || r.state === state);
  }

  /** Answers a pending review: an expert with the capability, or the developer (admin). */
  async answer(
    id: string,
    by: { agentId: string; role: string; capabilities: string[] },
    decision: 'approved' | 'blocked',
    reason: string,
    claim?: Claim,
  ) {
    const r = this.get(id);
    if (r.state === 'answered' || r.state === 'expired') {
      throw new ReviewError(
        409,
        `review ${id} is already ${r.state} (${r.decision} by ${r.answeredBy ?? 'the default'})`,
      );
    }
    if (by.role !== 'admin') {
      // The requester is the agent the review is about (r.agentId, the one whose command escalated):
      // an expert may judge others' commands, never its own.
      if (by.agentId === r.agentId)
        throw new ReviewError(
          403,
          `review ${id} was asked by ${r.agentId}: nobody answers their own review (another expert or the developer will)`,
        );
      if (r.state !== 'pending-expert')
        throw new ReviewError(403, `review ${id} now waits for the developer, not an expert`);
      if (!by.capabilities.includes(r.capability)) {
        throw new ReviewError(403, `review ${id} needs the capability "${r.capability}"`);
      }
    }
    return this.record(
      ReviewEventTypes.answered,
      { ...r, state: 'answered', decision, answeredBy: by.agentId, answerReason: reason },
      by.agentId,
      claim,
    );
  }

  /** Resolves when the review is answered or expired, or after `ms`. */
  async wait(id: string, ms: number): Promise<Review> {
    const r = this.get(id);
    if (r.state === 'answered' || r.state === 'expired' || ms <= 0) return r;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      const list = this.waiters.get(id) ?? [];
      list.push(() => {
        clearTimeout(t);
        resolve();
      });
      this.waiters.set(id, list);
    });
    return this.get(id);
  }

  /** Moves reviews past their deadline on: expert → developer → the policy's default. */
  async tick(now = Date.now()): Promise<void> {
    if (!this.store.isOpen) return;
    for (const r of [...this.reviews.values()]) {
      if (Date.parse(r.deadline) > now) continue;
      if (r.state === 'pending-expert') {
        await this.record(
          ReviewEventTypes.escalated,
          {
            ...r,
            state: 'pending-developer',
            deadline: new Date(now + this.timeouts.developerMs).toISOString(),
          },
          'bridge',
        ).catch(() => undefined);
      } else if (r.state === 'pending-developer') {
        const decision = this.defaultDecision();
        await this.record(
          ReviewEventTypes.expired,
          {
            ...r,
            state: 'expired',
            decision,
            answerReason: `no answer in time: the policy's default (${decision})`,
          },
          'bridge',
        ).catch(() => undefined);
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
