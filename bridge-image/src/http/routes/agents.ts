import {
  AgentAddRequest,
  AgentRegisterRequest,
  ErrorCode,
  RESERVED_AGENT_IDS,
  nameExpertHint,
  HeartbeatRequest,
  type AgentList,
  type Status,
} from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { parseJson } from '../body.js';
import { HttpError } from '../errors.js';
import { ok, type Route } from '../router.js';

const ALL = ['admin', 'agent', 'expert'] as const;

export function agentRoutes(svc: BridgeServices): Route[] {
  const { agents, sessions, store } = svc;
  return [
    {
      method: 'POST',
      path: '/v1/agents/register',
      access: ['agent', 'expert'],
      handler: async ({ body, session, claim }) => {
        const req = parseJson(body, AgentRegisterRequest);
        const s = session!;
        if (s.role === 'expert') {
          const extra = req.capabilities.filter((c) => !s.capabilities.includes(c));
          if (extra.length > 0) {
            throw new HttpError(
              403,
              ErrorCode.forbidden,
              `capabilities: ${extra.join(', ')} not named for expert "${s.agentId}" (named: ` +
                `${s.capabilities.join(', ')}); ${nameExpertHint(s.agentId, [...s.capabilities, ...extra])}`,
            );
          }
        }
        const info = await agents.register(session!.agentId, session!.role, req, claim);
        return ok(info, 201);
      },
    },
    {
      method: 'POST',
      path: '/v1/agents',
      access: ['admin'],
      handler: async ({ body, session, claim }) => {
        const { agentId } = parseJson(body, AgentAddRequest);
        if (RESERVED_AGENT_IDS.has(agentId))
          throw new HttpError(
            400,
            ErrorCode.invalidRequest,
            `agentId: "${agentId}" is reserved; choose another id`,
          );
        return ok(await agents.add(agentId, session!.agentId, claim), 201);
      },
    },
    {
      method: 'POST',
      path: '/v1/agents/heartbeat',
      access: ALL,
      handler: async ({ body, session, claim }) => {
        const req = parseJson(body, HeartbeatRequest);
        await agents.heartbeat(session!.agentId, req.status, claim);
        return ok({ ok: true, expiresAt: new Date(session!.expiresAt).toISOString() });
      },
    },
    {
      method: 'GET',
      path: '/v1/agents',
      access: ALL,
      handler: () => {
        const body: AgentList = { agents: agents.list() };
        return ok(body);
      },
    },
    {
      method: 'GET',
      path: '/v1/status',
      access: ALL,
      handler: ({ session }) => {
        const s = session!;
        const body: Status = {
          version: svc.config.version,
          startedAt: new Date(svc.startedAt).toISOString(),
          uptimeSeconds: (Date.now() - svc.startedAt) / 1000,
          lastSeq: store.lastSeq,
          eventCount: store.count(),
          storeBytes: store.sizeBytes(),
          activeSessions: sessions.size,
          connectedAgents: agents.connectedCount(),
          workspace: svc.config.workspace,
          you: { agentId: s.agentId, role: s.role, sessionId: s.id },
        };
        return ok(body);
      },
    },
  ];
}
