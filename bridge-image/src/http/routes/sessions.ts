import {
  ErrorCode,
  EventTypes,
  nameExpertHint,
  RESERVED_AGENT_IDS,
  RevokeRequest,
  SessionOpenRequest,
  type SessionList,
} from '../../../protocol/index.js';
import { fingerprintOf } from '../../auth/authenticator.js';
import type { BridgeServices } from '../../context.js';
import { parseJson } from '../body.js';
import { ok, type Route } from '../router.js';
import { HttpError, recordedRefusal } from '../errors.js';

export function sessionRoutes(svc: BridgeServices): Route[] {
  const { sessions, store } = svc;
  return [
    {
      method: 'POST',
      path: '/v1/sessions',
      access: 'open',
      handler: async ({ req, body }) => {
        const open = parseJson(body, SessionOpenRequest);
        if (open.role !== 'admin' && RESERVED_AGENT_IDS.has(open.agentId)) {
          throw new HttpError(
            400,
            'invalid_request',
            `agentId: "${open.agentId}" is reserved; choose another id`,
          );
        }
        svc.auth.verifyOpen(
          { method: req.method!, url: req.url!, headers: req.headers, body },
          open.agentId,
          open.role,
        );
        // The signature is good: from here on refusals are recorded under this agent.
        const who = {
          agentId: open.agentId,
          route: '/v1/sessions',
          method: 'POST',
          remote: req.socket.remoteAddress,
        };
        const forbidden = (msg: string) =>
          recordedRefusal(svc.security, 'forbidden', { ...who, reason: msg }, 403, ErrorCode.forbidden, msg);
        let capabilities = open.capabilities ?? [];
        if (open.role === 'expert') {
          // Experts are named by the developer; an agent's own key only proves who it is.
          const named = svc.experts.get(open.agentId);
          if (!named) {
            const msg = `agent "${open.agentId}" may not open an expert session: ${nameExpertHint(open.agentId, capabilities)}`;
            throw forbidden(msg);
          }
          const extra = capabilities.filter((c) => !named.capabilities.includes(c));
          if (extra.length > 0) {
            const msg =
              `capabilities: ${extra.join(', ')} not named for expert "${open.agentId}" (named: ` +
              `${named.capabilities.join(', ')}); ask the developer to name them, or leave them out`;
            throw forbidden(msg);
          }
          capabilities = named.capabilities;
        }
        const cap = svc.config.maxSessionsPerAgent;
        if (sessions.countFor(open.agentId) >= cap) {
          const msg =
            `agent "${open.agentId}" already has ${cap} open sessions, the most one agent may hold: ` +
            'close sessions it no longer uses (DELETE /v1/sessions/current) or let them expire, then retry';
          throw recordedRefusal(
            svc.security,
            'rate_limited',
            { ...who, reason: msg },
            429,
            ErrorCode.rateLimited,
            msg,
          );
        }
        const s = sessions.open(open.agentId, open.role, capabilities, fingerprintOf(req.headers));
        await store.append({
          stream: `agent:${open.agentId}`,
          agentId: open.agentId,
          events: [
            {
              type: EventTypes.sessionStarted,
              data: {
                sessionId: s.id,
                role: s.role,
                capabilities: s.capabilities,
                client: open.client ?? null,
              },
            },
          ],
        });
        svc.agents.seen(open.agentId);
        return ok(sessions.info(s), 201);
      },
    },
    {
      method: 'POST',
      path: '/v1/sessions/refresh',
      access: ['admin', 'agent', 'expert'],
      handler: ({ session }) => {
        sessions.refresh(session!);
        return ok(sessions.info(session!));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/sessions/current',
      access: ['admin', 'agent', 'expert'],
      handler: async ({ session, claim }) => {
        const s = session!;
        sessions.end(s);
        await store.append({
          stream: `agent:${s.agentId}`,
          agentId: s.agentId,
          events: [{ type: EventTypes.sessionEnded, data: { sessionId: s.id, reason: 'closed' } }],
          claim,
        });
        return ok({ sessionId: s.id, ended: true });
      },
    },
    {
      method: 'GET',
      path: '/v1/sessions',
      access: ['admin'],
      handler: () => {
        const list: SessionList = {
          sessions: sessions.all().map((s) => ({
            ...sessions.info(s),
            lastSeenAt: new Date(s.lastSeenAt).toISOString(),
            connected: s.sockets > 0,
          })),
        };
        return ok(list);
      },
    },
    {
      method: 'POST',
      path: '/v1/sessions/:id/revoke',
      access: ['admin'],
      handler: async ({ params, body }) => {
        const { reason } = parseJson(body, RevokeRequest);
        const s = sessions.get(params.id!);
        if (!s) throw new HttpError(404, 'not_found', `no open session ${params.id}`);
        await svc.revoke(s, reason);
        return ok({ sessionId: s.id });
      },
    },
  ];
}
