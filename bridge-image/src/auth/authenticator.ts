import type { IncomingHttpHeaders } from 'node:http';
import {
  bodyHash,
  canonicalString,
  ErrorCode,
  Headers,
  SIGNATURE_WINDOW_MS,
  verifySignature,
  type Role,
  type SecurityKind,
} from '../../protocol/index.js';
import { NonceCache } from './nonce-cache.js';
import type { Session, SessionManager } from './sessions.js';

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class AuthFailure extends Error {
  override name = 'AuthFailure';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly kind: SecurityKind | undefined,
    readonly session?: Session,
    /**
     * Whether the request's signature was checked good for `session`: only then is the refusal
     * recorded under its agent. A bad signature on a known session id proves nothing about who sent it.
     */
    readonly verified = session !== undefined,
  ) {
    super(message);
  }
}

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** What a session is bound to: the client instance id and its user agent (compared as they are). */
export function fingerprintOf(h: IncomingHttpHeaders): string {
  return `${header(h, Headers.client) ?? ''}\0${header(h, 'user-agent') ?? ''}`;
}

/** Checks signatures, timestamps, nonces, fingerprints and rates; each refusal names its security kind. */
export class Authenticator {
  private readonly nonces: NonceCache;

  constructor(
    private readonly sessions: SessionManager,
    private readonly onRevoke: (s: Session, reason: string, kind: SecurityKind) => void,
    maxNonces = 1_000_000,
  ) {
    this.nonces = new NonceCache(SIGNATURE_WINDOW_MS, maxNonces);
  }

  /** Timestamp and signature fields shared by both kinds of signed request. */
  private parts(req: SignedRequest, now: number): { ts: string; nonce: string; signature: string } {
    const ts = header(req.headers, Headers.timestamp);
    const nonce = header(req.headers, Headers.nonce);
    const signature = header(req.headers, Headers.signature);
    if (!ts || !nonce || !signature) {
      throw new AuthFailure(
        401,
        ErrorCode.unauthenticated,
        `unsigned request: the ${Headers.timestamp}, ${Headers.nonce} and ${Headers.signature} headers are required`,
        'unsigned',
      );
    }
    const t = Number(ts);
    if (!/^\d{1,16}$/.test(ts) || Math.abs(now - t) > SIGNATURE_WINDOW_MS) {
      throw new AuthFailure(
        401,
        ErrorCode.staleTimestamp,
        `timestamp ${ts.slice(0, 20)} is outside the ±${SIGNATURE_WINDOW_MS / 1000} s window (bridge time ${now}); check the clock`,
        'stale_timestamp',
      );
    }
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) {
      throw new AuthFailure(
        401,
        ErrorCode.badSignature,
        'nonce must be 16-128 URL-safe characters',
        'bad_signature',
      );
    }
    return { ts, nonce, signature };
  }

  private checkNonce(scope: string, nonce: string, ts: string, now: number): void {
    const r = this.nonces.check(`${scope}:${nonce}`, Number(ts), now);
    if (r === 'forgotten') {
      throw new AuthFailure(
        401,
        ErrorCode.staleTimestamp,
        `timestamp ${ts} is older than the replay check still covers (the bridge's clock went back); sign again`,
        'stale_timestamp',
      );
    }
    if (r === 'replay') {
      throw new AuthFailure(
        401,
        ErrorCode.replay,
        'this nonce was already used: replayed request refused',
        'replay',
      );
    }
    if (r === 'full') {
      throw new AuthFailure(
        503,
        ErrorCode.unavailable,
        'too many requests in flight to check for replays; retry shortly',
        undefined,
      );
    }
  }

  /** A session-open request, signed with the agent (or admin) key. */
  verifyOpen(req: SignedRequest, agentId: string, role: Role, now = Date.now()): void {
    const { ts, nonce, signature } = this.parts(req, now);
    const headerAgent = header(req.headers, Headers.agent);
    if (headerAgent !== agentId) {
      throw new AuthFailure(
        401,
        ErrorCode.badSignature,
        `the ${Headers.agent} header (${headerAgent ?? 'missing'}) must equal agentId in the body (${agentId})`,
        'bad_signature',
      );
    }
    const key = this.sessions.keyFor(agentId, role);
    const canonical = canonicalString(req.method, req.url, ts, nonce, bodyHash(req.body));
    if (!verifySignature(key, canonical, signature)) {
      throw new AuthFailure(
        401,
        ErrorCode.badSignature,
        `bad signature for agent ${agentId} as ${role}: the key does not match`,
        'bad_signature',
      );
    }
    this.checkNonce(`open:${agentId}`, nonce, ts, now);
  }

  /** Any other signed request: returns its live session. */
  verify(req: SignedRequest, now = Date.now()): Session {
    const sessionId = header(req.headers, Headers.session);
    if (!sessionId) {
      throw new AuthFailure(
        401,
        ErrorCode.unauthenticated,
        `no session: open one with POST /v1/sessions and send its id in ${Headers.session}`,
        'unsigned',
      );
    }
    const { ts, nonce, signature } = this.parts(req, now);
    const found = this.sessions.lookup(sessionId, now);
    if (found === 'unknown') {
      throw new AuthFailure(
        401,
        ErrorCode.sessionUnknown,
        'unknown session (the bridge may have restarted): open a new one',
        'unknown_session',
      );
    }
    if (found === 'revoked') {
      throw new AuthFailure(
        401,
        ErrorCode.sessionRevoked,
        `session revoked: ${this.sessions.revokedReason(sessionId) ?? 'by the bridge'}`,
        'revoked_session_use',
      );
    }
    if (found === 'expired') {
      throw new AuthFailure(
        401,
        ErrorCode.sessionExpired,
        'session expired: open a new one',
        'expired_session',
      );
    }
    const s = found;
    const canonical = canonicalString(req.method, req.url, ts, nonce, bodyHash(req.body));
    if (!verifySignature(s.hmac, canonical, signature)) {
      throw new AuthFailure(
        401,
        ErrorCode.badSignature,
        'bad signature for this session',
        'bad_signature',
        s,
        false,
      );
    }
    this.checkNonce(s.id, nonce, ts, now);
    if (fingerprintOf(req.headers) !== s.fingerprint) {
      const reason = 'used from a second client fingerprint';
      this.onRevoke(s, reason, 'hijack_suspected');
      throw new AuthFailure(401, ErrorCode.sessionRevoked, `session revoked: ${reason}`, undefined, s);
    }
    if (!s.bucket.take(now)) {
      const reason = `more than ${this.sessions.limits.burst} requests at once (limit ${this.sessions.limits.ratePerSecond}/s)`;
      this.onRevoke(s, reason, 'rate_limited');
      throw new AuthFailure(429, ErrorCode.rateLimited, `session revoked: ${reason}`, undefined, s);
    }
    s.lastSeenAt = now;
    return s;
  }

  get nonceCount(): number {
    return this.nonces.size;
  }
}
