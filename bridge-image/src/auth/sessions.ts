import { randomBytes } from 'node:crypto';
import {
  deriveAdminKey,
  deriveAgentKey,
  deriveSessionKey,
  HmacKey,
  type Role,
  type SessionInfo,
} from '../../protocol/index.js';
import { TokenBucket } from './rate-limiter.js';

export interface SessionLimits {
  /** Life of a session from its open or last refresh. */
  ttlMs: number;
  /** A session unused this long ends. */
  idleMs: number;
  /** Sustained requests per second per session, and the burst beyond which it is revoked. */
  ratePerSecond: number;
  burst: number;
}

export interface Session {
  id: string;
  agentId: string;
  role: Role;
  capabilities: string[];
  fingerprint: string;
  key: Buffer;
  /** The key's HMAC state, ready for each request's signature check. */
  hmac: HmacKey;
  openedAt: number;
  expiresAt: number;
  lastSeenAt: number;
  bucket: TokenBucket;
  sockets: number;
}

export type EndReason = 'closed' | 'expired' | 'idle';

/** Open sessions in memory; after a restart clients simply open new ones (their 401 says so). */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  /** Recently revoked ids and why, so their later use is recognised (bounded). */
  private readonly revoked = new Map<string, string>();
  private readonly agentKeys = new Map<string, Buffer>();
  /** Open sessions per agent, for the cap on them. */
  private readonly perAgent = new Map<string, number>();
  readonly adminKey: Buffer;

  constructor(
    private readonly master: Buffer,
    readonly limits: SessionLimits,
  ) {
    this.adminKey = deriveAdminKey(master);
  }

  agentKey(agentId: string): Buffer {
    let k = this.agentKeys.get(agentId);
    if (!k) {
      k = deriveAgentKey(this.master, agentId);
      if (this.agentKeys.size > 10_000) this.agentKeys.clear();
      this.agentKeys.set(agentId, k);
    }
    return k;
  }

  keyFor(agentId: string, role: Role): Buffer {
    return role === 'admin' ? this.adminKey : this.agentKey(agentId);
  }

  open(agentId: string, role: Role, capabilities: string[], fingerprint: string, now = Date.now()): Session {
    const id = randomBytes(16).toString('hex');
    const key = deriveSessionKey(this.keyFor(agentId, role), id);
    const s: Session = {
      id,
      agentId,
      role,
      capabilities,
      fingerprint,
      key,
      hmac: new HmacKey(key),
      openedAt: now,
      expiresAt: now + this.limits.ttlMs,
      lastSeenAt: now,
      bucket: new TokenBucket(this.limits.ratePerSecond, this.limits.burst, now),
      sockets: 0,
    };
    this.sessions.set(id, s);
    this.perAgent.set(agentId, (this.perAgent.get(agentId) ?? 0) + 1);
    return s;
  }

  /** How many sessions this agent has open. */
  countFor(agentId: string): number {
    return this.perAgent.get(agentId) ?? 0;
  }

  private forget(s: Session): void {
    if (!this.sessions.delete(s.id)) return;
    const n = (this.perAgent.get(s.agentId) ?? 1) - 1;
    if (n > 0) this.perAgent.set(s.agentId, n);
    else this.perAgent.delete(s.agentId);
  }

  /** The live session, or why there is none. */
  lookup(id: string, now = Date.now()): Session | 'unknown' | 'revoked' | 'expired' {
    const s = this.sessions.get(id);
    if (!s) return this.revoked.has(id) ? 'revoked' : 'unknown';
    if (now > s.expiresAt || now - s.lastSeenAt > this.limits.idleMs) return 'expired';
    return s;
  }

  revokedReason(id: string): string | undefined {
    return this.revoked.get(id);
  }

  refresh(s: Session, now = Date.now()): void {
    s.expiresAt = now + this.limits.ttlMs;
    s.lastSeenAt = now;
  }

  end(s: Session): void {
    this.forget(s);
  }

  revoke(s: Session, reason: string): void {
    this.forget(s);
    if (this.revoked.size >= 10_000) this.revoked.delete(this.revoked.keys().next().value!);
    this.revoked.set(s.id, reason);
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** Sessions past their expiry or idle limit; removed here, reported to the caller. */
  sweep(now = Date.now()): { session: Session; reason: EndReason }[] {
    const out: { session: Session; reason: EndReason }[] = [];
    for (const s of this.sessions.values()) {
      // A connected WebSocket keeps a session alive: pings prove the client is there.
      if (s.sockets > 0) s.lastSeenAt = now;
      if (now > s.expiresAt) out.push({ session: s, reason: 'expired' });
      else if (now - s.lastSeenAt > this.limits.idleMs) out.push({ session: s, reason: 'idle' });
    }
    for (const { session } of out) this.forget(session);
    return out;
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }

  info(s: Session): SessionInfo {
    return {
      sessionId: s.id,
      agentId: s.agentId,
      role: s.role,
      openedAt: new Date(s.openedAt).toISOString(),
      expiresAt: new Date(s.expiresAt).toISOString(),
      idleTimeoutMs: this.limits.idleMs,
    };
  }
}
