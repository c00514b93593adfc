import {
  ErrorCode,
  NameExpertRequest,
  type ExpertList,
  type ExpertRemoved,
} from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { parseJson } from '../body.js';
import { HttpError } from '../errors.js';
import { ok, type Route } from '../router.js';

/** The developer (admin) names experts and removes them; nobody names themselves. */
export function expertRoutes(svc: BridgeServices): Route[] {
  const { experts, sessions } = svc;
  return [
    {
      method: 'POST',
      path: '/v1/experts',
      access: ['admin'],
      handler: async ({ body, session, claim }) => {
        const req = parseJson(body, NameExpertRequest);
        return ok(await experts.name(req.agentId, req.capabilities, session!.agentId, claim), 201);
      },
    },
    {
      method: 'GET',
      path: '/v1/experts',
      access: ['admin'],
      handler: () => {
        const body: ExpertList = { experts: experts.list() };
        return ok(body);
      },
    },
    {
      method: 'DELETE',
      path: '/v1/experts/:agentId',
      access: ['admin'],
      handler: async ({ params, session, claim }) => {
        const id = params.agentId!;
        if (!(await experts.remove(id, session!.agentId, claim)))
          throw new HttpError(404, ErrorCode.notFound, `agent "${id}" is not a named expert`);
        // Its expert sessions end now: what they may do was granted by the naming just removed.
        const live = sessions.all().filter((s) => s.agentId === id && s.role === 'expert');
        for (const s of live) await svc.revoke(s, 'no longer a named expert');
        const reply: ExpertRemoved = { agentId: id, removed: true, sessionsEnded: live.length };
        return ok(reply);
      },
    },
  ];
}
