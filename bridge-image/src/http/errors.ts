import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ErrorCode, issuePath, type ErrorBody, type SecurityKind } from '../../protocol/index.js';
import type { SecurityDetails, SecurityRecorder } from '../security.js';
import { sendJson } from './response.js';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** The store already remembered this refusal under the request's idempotency key. */
    readonly remembered = false,
  ) {
    super(message);
  }

  /** A security event was already recorded for this refusal: the pipeline records no second one. */
  recorded = false;
}

/** A refusal recorded as a `security.<kind>` event where it is made (where its agent is known). */
export function recordedRefusal(
  security: SecurityRecorder,
  kind: SecurityKind,
  details: SecurityDetails,
  status: number,
  code: string,
  message: string,
): HttpError {
  security.record(kind, { ...details, reason: details.reason || message });
  const e = new HttpError(status, code, message);
  e.recorded = true;
  return e;
}

/** "events[0].type: Invalid input" — names the field, so the caller knows what to fix. */
export function zodMessage(err: z.ZodError, what: string): string {
  const parts = err.issues.slice(0, 5).map((i) => `${issuePath(i.path) || what}: ${i.message}`);
  const more = err.issues.length > 5 ? ` (and ${err.issues.length - 5} more)` : '';
  return `invalid ${what}: ${parts.join('; ')}${more}`;
}

export function invalid(err: z.ZodError, what: string): HttpError {
  return new HttpError(
    400,
    ErrorCode.invalidRequest,
    zodMessage(err, what),
    err.issues.map((i) => ({ path: issuePath(i.path), message: i.message, code: i.code })),
  );
}

export function sendError(res: ServerResponse, e: HttpError, reqId: string, extra?: readonly string[]): void {
  const body: ErrorBody = { error: { code: e.code, message: e.message } };
  if (e.details !== undefined) body.error.details = e.details;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.status, body, reqId, extra);
}
