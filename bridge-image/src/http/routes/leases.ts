import { ErrorCode, LeaseRequest, RenewRequest } from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { LeaseHeld, LeaseNotFound, type LeaseTable } from '../../leases/lease-table.js';
import { parseJson } from '../body.js';
import { HttpError } from '../errors.js';
import { ok, type Route } from '../router.js';

const ALL = ['admin', 'agent', 'expert'] as const;

/** A lease refusal as HTTP: 423 naming the holder and the expiry. */
export function leaseHeldError(e: LeaseHeld): HttpError {
  return new HttpError(423, 'lease_held', e.message, {
    leaseId: e.lease.id,
    holder: e.lease.agentId,
    glob: e.glob,
    expiresAt: e.lease.expiresAt,
  });
}

export function leaseRoutes(svc: BridgeServices, leases: LeaseTable): Route[] {
  const mapped = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof LeaseHeld) throw leaseHeldError(e);
      if (e instanceof LeaseNotFound) throw new HttpError(404, ErrorCode.notFound, e.message);
      throw e;
    }
  };
  return [
    {
      method: 'POST',
      path: '/v1/leases',
      access: ['agent', 'expert'],
      handler: async ({ body, session, claim }) => {
        const r = parseJson(body, LeaseRequest);
        // Writes made through the FUSE mount are recorded after close(2) returns. Those begun before
        // this lease are recorded first, so the lease never refuses a write its holder could not
        // have known about; a write(2) after the lease fails at once (EACCES).
        await svc.mountWrites();
        return ok(await mapped(() => leases.acquire(session!.agentId, r.globs, r.mode, r.ttlMs, claim)), 201);
      },
    },
    {
      method: 'POST',
      path: '/v1/leases/:id/renew',
      access: ['agent', 'expert'],
      handler: async ({ body, session, params, claim }) => {
        const r = parseJson(body, RenewRequest);
        return ok(await mapped(() => leases.renew(session!.agentId, params.id!, r.ttlMs, claim)));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/leases/:id',
      access: ['agent', 'expert'],
      handler: async ({ session, params, claim }) =>
        ok(await mapped(() => leases.release(session!.agentId, params.id!, claim))),
    },
    {
      method: 'GET',
      path: '/v1/leases',
      access: ALL,
      handler: () => ok({ leases: leases.list() }),
    },
  ];
}
