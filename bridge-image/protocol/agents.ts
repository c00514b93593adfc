import { z } from 'zod';
import { SafeName, SafeText } from './events.js';
import { Capability, Role } from './sessions.js';
import { AgentId } from './events.js';

export const AgentRegisterRequest = z.object({
  displayName: SafeName(200).optional(),
  capabilities: z.array(Capability).max(64).default([]),
  meta: z.record(SafeName(100), SafeText(1000)).optional(),
});
export type AgentRegisterRequest = z.input<typeof AgentRegisterRequest>;

/** POST /v1/agents (admin): an agent the developer made a key for. */
export const AgentAddRequest = z.object({ agentId: AgentId });
export type AgentAddRequest = z.infer<typeof AgentAddRequest>;

export const AgentInfo = z.object({
  agentId: z.string(),
  displayName: z.string().nullable(),
  role: Role,
  capabilities: z.array(z.string()),
  registeredAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  connected: z.boolean(),
  sessions: z.number().int(),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

export const AgentList = z.object({ agents: z.array(AgentInfo) });
export type AgentList = z.infer<typeof AgentList>;

export const HeartbeatRequest = z.object({ status: SafeName(200).optional() });
export const HeartbeatResponse = z.object({ ok: z.literal(true), expiresAt: z.string() });
