// The error class and codes without the zod schemas: the extension needs them before it loads those.

export const ErrorCode = {
  invalidJson: 'invalid_json',
  invalidUtf8: 'invalid_utf8',
  invalidRequest: 'invalid_request',
  bodyTooLarge: 'body_too_large',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  unauthenticated: 'unauthenticated',
  badSignature: 'bad_signature',
  staleTimestamp: 'stale_timestamp',
  replay: 'replay',
  sessionUnknown: 'session_unknown',
  sessionExpired: 'session_expired',
  sessionRevoked: 'session_revoked',
  forbidden: 'forbidden',
  versionConflict: 'version_conflict',
  /** A retried write was carried out before the bridge stopped, but its reply was lost: not run again. */
  replyLost: 'reply_lost',
  rateLimited: 'rate_limited',
  unavailable: 'unavailable',
  notEmpty: 'store_not_empty',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error answer from the bridge (or the transport), with what an agent can act on. */
export class BridgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}
