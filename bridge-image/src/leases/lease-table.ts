import { randomBytes } from 'node:crypto';
import picomatch from 'picomatch';
import { LeaseEventTypes, type Lease } from '../../protocol/index.js';
import type { Claim, EventStore } from '../store/event-store.js';

export class LeaseHeld extends Error {
  override name = 'LeaseHeld';
  constructor(
    readonly lease: Lease,
    readonly glob: string,
    what: string,
  ) {
    super(`${what} is under an exclusive lease held by ${lease.agentId} until ${lease.expiresAt} (${glob})`);
  }
}

export class LeaseNotFound extends Error {
  override name = 'LeaseNotFound';
}

interface Held {
  lease: Lease;
  expiresMs: number;
  matchers: ((p: string) => boolean)[];
}

const matcher = (glob: string) => picomatch(glob, { dot: true });
const WILDCARD = /[*?[{]/;

/**
 * Leases on path globs: exclusive ones stop other agents' writes under them (423); all expire by
 * themselves. State is rebuilt from lease.* events, so a restart keeps every lease still in time.
 */
export class LeaseTable {
  private readonly held = new Map<string, Held>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly store: EventStore) {
    store.replay({ types: ['lease.*'] }, (e) => this.reduce(e.type, e.data as Lease));
    this.timer = setInterval(() => void this.expire(), 1000);
    this.timer.unref();
  }

  private reduce(type: string, lease: Lease): void {
    if (type === LeaseEventTypes.acquired || type === LeaseEventTypes.renewed) {
      this.held.set(lease.id, {
        lease,
        expiresMs: Date.parse(lease.expiresAt),
        matchers: lease.globs.map(matcher),
      });
    } else {
      this.held.delete(lease.id);
    }
  }

  private async record(type: string, lease: Lease, claim?: Claim): Promise<void> {
    await this.store.append({
      stream: 'leases',
      agentId: lease.agentId,
      events: [{ type, data: lease }],
      claim,
    });
    this.reduce(type, lease);
  }

  /** Leases whose time is up are recorded as expired (and stop counting at once, recorded or not). */
  async expire(now = Date.now()): Promise<void> {
    for (const h of [...this.held.values()]) {
      if (h.expiresMs <= now && this.store.isOpen)
        await this.record(LeaseEventTypes.expired, h.lease).catch(() => undefined);
    }
  }

  private live(now = Date.now()): Held[] {
    return [...this.held.values()].filter((h) => h.expiresMs > now);
  }

  list(): Lease[] {
    return this.live().map((h) => h.lease);
  }

  /** Refuses an exclusive lease that overlaps another agent's lease, and any lease overlapping another's exclusive one. */
  async acquire(
    agentId: string,
    globs: string[],
    mode: 'exclusive' | 'shared',
    ttlMs: number,
    claim?: Claim,
  ): Promise<Lease> {
    for (const h of this.live()) {
      if (h.lease.agentId === agentId) continue;
      if (mode === 'shared' && h.lease.mode === 'shared') continue;
      for (const g of globs) {
        const hit = h.lease.globs.find((other, i) => overlaps(g, matcher(g), other, h.matchers[i]!));
        if (hit) throw new LeaseHeld(h.lease, hit, `${g}`);
      }
    }
    const now = Date.now();
    const lease: Lease = {
      id: randomBytes(8).toString('hex'),
      agentId,
      globs,
      mode,
      acquiredAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlMs).toISOString(),
    };
    await this.record(LeaseEventTypes.acquired, lease, claim);
    return lease;
  }

  private own(agentId: string, id: string): Held {
    const h = this.held.get(id);
    if (!h || h.expiresMs <= Date.now()) throw new LeaseNotFound(`no live lease ${id}`);
    if (h.lease.agentId !== agentId)
      throw new LeaseNotFound(`lease ${id} belongs to ${h.lease.agentId}, not ${agentId}`);
    return h;
  }

  async renew(agentId: string, id: string, ttlMs: number, claim?: Claim): Promise<Lease> {
    const h = this.own(agentId, id);
    const lease = { ...h.lease, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
    await this.record(LeaseEventTypes.renewed, lease, claim);
    return lease;
  }

  async release(agentId: string, id: string, claim?: Claim): Promise<Lease> {
    const h = this.own(agentId, id);
    await this.record(LeaseEventTypes.released, h.lease, claim);
    return h.lease;
  }

  /** Throws LeaseHeld when another agent's exclusive lease covers the path. */
  checkWrite(agentId: string, path: string): void {
    for (const h of this.live()) {
      if (h.lease.agentId === agentId || h.lease.mode !== 'exclusive') continue;
      const i = h.matchers.findIndex((m) => m(path));
      if (i >= 0) throw new LeaseHeld(h.lease, h.lease.globs[i]!, path);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/**
 * Whether two globs can match a common path. Exact for literal paths; for two patterns it compares
 * each one against the other's literal prefix, which catches "src/**" against "src/a.ts" and "src/*".
 */
function overlaps(a: string, ma: (p: string) => boolean, b: string, mb: (p: string) => boolean): boolean {
  if (a === b || ma(b) || mb(a)) return true;
  if (!WILDCARD.test(a) || !WILDCARD.test(b)) return false;
  const prefix = (g: string) => g.slice(0, g.search(/[*?[{]/) < 0 ? g.length : g.search(/[*?[{]/));
  const pa = prefix(a);
  const pb = prefix(b);
  return pa.startsWith(pb) || pb.startsWith(pa);
}
