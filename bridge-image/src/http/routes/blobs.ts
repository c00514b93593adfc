import { ErrorCode } from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { HttpError } from '../errors.js';
import { ok, type Route } from '../router.js';

const ALL = ['admin', 'agent', 'expert'] as const;

export function blobRoutes(svc: BridgeServices): Route[] {
  return [
    {
      method: 'PUT',
      path: '/v1/blobs',
      access: ALL,
      bodyLimit: 64 * 1024 * 1024,
      handler: async ({ body, session }) => {
        // Whoever stores content may read it back; others may not, whatever hash they learn.
        const r = await svc.store.putBlob(body, session!.agentId);
        return ok(r, r.created ? 201 : 200);
      },
    },
    {
      method: 'GET',
      path: '/v1/blobs/:hash',
      access: ALL,
      handler: ({ params, res, session, req }) => {
        const hash = params.hash!;
        if (!/^[0-9a-f]{64}$/.test(hash)) {
          throw new HttpError(
            400,
            ErrorCode.invalidRequest,
            'hash: must be 64 lowercase hex characters (SHA-256)',
          );
        }
        const s = session!;
        // Refused like an absent blob (404, same message), so a refusal does not reveal that it exists.
        const absent = () => new HttpError(404, ErrorCode.notFound, `no blob ${hash}`);
        if (s.role !== 'admin' && !svc.store.blobGranted(s.agentId, hash)) {
          // Recorded whether or not it exists: security events are readable too, and must not tell.
          svc.security.record('forbidden', {
            agentId: s.agentId,
            sessionId: s.id,
            route: '/v1/blobs/:hash',
            method: 'GET',
            remote: req.socket.remoteAddress,
            reason: `blob ${hash} was not stored by ${s.agentId}`,
          });
          throw absent();
        }
        const data = svc.store.getBlob(hash);
        if (!data) throw absent();
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': data.length,
          etag: `"${hash}"`,
          'cache-control': 'private, max-age=31536000, immutable',
        });
        res.end(data);
      },
    },
  ];
}
