import { z } from 'zod';
import { SafeName, SafeText } from './events.js';
import { Capability, Role } from './sessions.js';

export const AgentRegisterRequest = z.object({
  displayName: SafeName(200).optional(),
  capabilities: z.array(Capability).max(64).default([]),
  meta: z.record(SafeName(100), SafeText(1000)).optional(),
});
export type AgentRegisterRequest = z.input<typeof AgentRegisterRequest>;

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
