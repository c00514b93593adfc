import { EventTypes, type AgentInfo, type Role } from '../protocol/index.js';
import type { SessionManager } from './auth/sessions.js';
import type { ExpertRoster } from './experts.js';
import type { Claim, EventStore } from './store/event-store.js';

interface Registration {
  displayName: string | null;
  capabilities: string[];
  role: Role;
  registeredAt: string;
  meta: Record<string, string>;
}

const HEARTBEAT_RECORD_INTERVAL_MS = 60_000;

/** Who the agents are (from agent.registered events) and whether they are here now (from sessions). */
export class AgentRegistry {
  private readonly registered = new Map<string, Registration>();
  /** Agents the developer gave a key, whether or not they have connected since. */
  private readonly added = new Set<string>();
  private readonly lastSeen = new Map<string, number>();
  private readonly lastHeartbeatRecorded = new Map<string, number>();

  constructor(
    private readonly store: EventStore,
    private readonly sessions: SessionManager,
    private readonly experts: ExpertRoster,
  ) {
    store.replay({ types: [EventTypes.agentRegistered, EventTypes.agentAdded] }, (e) => {
      if (e.type === EventTypes.agentAdded) this.added.add(e.agentId);
      else this.apply(e.agentId, e.data as Registration, e.ts);
    });
  }

  private apply(agentId: string, data: Partial<Registration>, ts: string): void {
    this.registered.set(agentId, {
      displayName: data.displayName ?? null,
      capabilities: data.capabilities ?? [],
      role: data.role ?? 'agent',
      registeredAt: ts,
      meta: data.meta ?? {},
    });
  }

  async register(
    agentId: string,
    role: Role,
    req: {
      displayName?: string | undefined;
      capabilities: string[];
      meta?: Record<string, string> | undefined;
    },
    claim?: Claim,
  ): Promise<AgentInfo> {
    const data = {
      displayName: req.displayName ?? null,
      capabilities: req.capabilities,
      role,
      meta: req.meta ?? {},
    };
    const [e] = await this.store.append({
      stream: `agent:${agentId}`,
      agentId,
      events: [{ type: EventTypes.agentRegistered, data }],
      claim,
    });
    this.apply(agentId, data, e!.ts);
    this.seen(agentId);
    return this.info(agentId);
  }

  /**
   * Records that the developer made this agent a key (once): its shadow exists from now on, in
   * the API and the FUSE view, before it ever opens a session.
   */
  async add(agentId: string, by: string, claim?: Claim): Promise<AgentInfo> {
    if (!this.knows(agentId)) {
      await this.store.append({
        stream: `agent:${agentId}`,
        agentId,
        events: [{ type: EventTypes.agentAdded, data: { by } }],
        claim,
      });
      this.added.add(agentId);
    }
    return this.info(agentId);
  }

  seen(agentId: string, now = Date.now()): void {
    this.lastSeen.set(agentId, now);
  }

  /** Heartbeats keep presence fresh; one a minute per agent is kept as an event. */
  async heartbeat(
    agentId: string,
    status: string | undefined,
    claim?: Claim,
    now = Date.now(),
  ): Promise<void> {
    this.seen(agentId, now);
    const last = this.lastHeartbeatRecorded.get(agentId) ?? 0;
    if (now - last < HEARTBEAT_RECORD_INTERVAL_MS) return;
    this.lastHeartbeatRecorded.set(agentId, now);
    await this.store.append({
      stream: `agent:${agentId}`,
      agentId,
      events: [{ type: EventTypes.agentHeartbeat, data: { status: status ?? null } }],
      claim,
    });
  }

  info(agentId: string): AgentInfo {
    const r = this.registered.get(agentId);
    const live = this.sessions.all().filter((s) => s.agentId === agentId);
    const seen = Math.max(this.lastSeen.get(agentId) ?? 0, ...live.map((s) => s.lastSeenAt));
    return {
      agentId,
      displayName: r?.displayName ?? null,
      role: r?.role ?? live[0]?.role ?? 'agent',
      // An expert's capabilities are the ones the developer named, whatever it registered.
      capabilities: this.experts.get(agentId)?.capabilities ?? r?.capabilities ?? live[0]?.capabilities ?? [],
      registeredAt: r?.registeredAt ?? null,
      lastSeenAt: seen > 0 ? new Date(seen).toISOString() : null,
      connected: live.some((s) => s.sockets > 0),
      sessions: live.length,
    };
  }

  list(): AgentInfo[] {
    const ids = new Set<string>([
      ...this.registered.keys(),
      ...this.added,
      ...this.sessions.all().map((s) => s.agentId),
    ]);
    return [...ids].sort().map((id) => this.info(id));
  }

  /**
   * Experts with a live connection that the developer named with this capability (what an agent
   * registers itself is only shown, never trusted for routing).
   */
  connectedExperts(capability: string): string[] {
    const live = new Set(
      this.sessions
        .all()
        .filter((s) => s.sockets > 0 && s.role === 'expert')
        .map((s) => s.agentId),
    );
    return [...live].filter((id) => this.experts.capabilitiesOf(id).includes(capability));
  }

  /** Registered, given a key, or with an open session. */
  knows(agentId: string): boolean {
    return (
      this.registered.has(agentId) ||
      this.added.has(agentId) ||
      this.sessions.all().some((s) => s.agentId === agentId)
    );
  }

  connectedCount(): number {
    return new Set(
      this.sessions
        .all()
        .filter((s) => s.sockets > 0)
        .map((s) => s.agentId),
    ).size;
  }
}
