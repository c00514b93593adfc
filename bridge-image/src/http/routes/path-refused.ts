import type { BridgeServices } from '../../context.js';
import type { PathRejected } from '../../shadow/path-safety.js';
import { HttpError } from '../errors.js';
import type { RouteContext } from '../router.js';

/** A refused path as HTTP: recorded as a security event, answered 400/403 naming the path. */
export function pathRefused(
  svc: BridgeServices,
  e: PathRejected,
  ctx: Pick<RouteContext, 'session' | 'pathname'>,
): HttpError {
  svc.security.record('path_rejected', {
    agentId: ctx.session?.agentId,
    sessionId: ctx.session?.id,
    route: ctx.pathname,
    reason: e.why,
    path: e.input.slice(0, 300),
  });
  const err = new HttpError(
    e.status,
    'path_rejected',
    `${e.message}: ${JSON.stringify(e.input.slice(0, 200))}`,
  );
  err.recorded = true;
  return err;
}
