import type { IncomingMessage } from 'node:http';
import { Headers } from '../../protocol/index.js';
import type { SecurityRecorder } from '../security.js';
import type { AuthFailure } from './authenticator.js';

/** Who an unverified request says it is: its headers, clipped, for the record only. */
export function claims(
  req: IncomingMessage,
  sessionAgent?: string,
): { claimedAgent?: string; claimedSession?: string } {
  const one = (name: string) => {
    const v = req.headers[name];
    return (Array.isArray(v) ? v[0] : v)?.slice(0, 100);
  };
  const agent = sessionAgent ?? one(Headers.agent);
  const session = one(Headers.session);
  return {
    ...(agent === undefined ? {} : { claimedAgent: agent }),
    ...(session === undefined ? {} : { claimedSession: session }),
  };
}

/**
 * Records a refused signed request (HTTP or a WebSocket upgrade). It is recorded under an agent only
 * when its signature was checked good: headers, and a known session id with a bad signature, are
 * claims anyone can make, kept apart as such.
 */
export function recordAuthFailure(
  security: SecurityRecorder,
  e: AuthFailure,
  req: IncomingMessage,
  route: string,
): void {
  if (!e.kind) return;
  const verified = e.verified && e.session !== undefined;
  security.record(e.kind, {
    agentId: verified ? e.session!.agentId : 'unknown',
    sessionId: verified ? e.session!.id : undefined,
    ...(verified ? {} : claims(req, e.session?.agentId)),
    route,
    method: req.method ?? 'GET',
    remote: req.socket.remoteAddress,
    reason: e.message,
  });
}
