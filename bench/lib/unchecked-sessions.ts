/**
 * Sessions the load generator makes up for the baseline servers, which have no session API: the
 * same headers and signatures as real bridge sessions (so every server in a comparison parses the
 * same bytes), with keys the floor server can derive from the master secret and the session id.
 */
import { deriveAgentKey, deriveSessionKey } from '../../bridge-image/protocol/index.js';

/** A session id shaped like the bridge's (a UUID), numbered by writer. */
export const uncheckedSessionId = (w: number): string =>
  `00000000-0000-4000-8000-${String(w).padStart(12, '0')}`;

export const uncheckedSessionKey = (secret: Buffer, sessionId: string): Buffer =>
  deriveSessionKey(deriveAgentKey(secret, sessionId), sessionId);
