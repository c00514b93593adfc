import { z } from 'zod';
import { AgentId, SafeName, SafeText } from './events.js';

export const Role = z.enum(['admin', 'agent', 'expert']);
export type Role = z.infer<typeof Role>;

export const Capability = z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/, 'capability: lowercase word');

/** POST /v1/sessions, signed with the agent key (or the admin key for role admin). */
export const SessionOpenRequest = z.object({
  agentId: AgentId,
  role: Role.default('agent'),
  capabilities: z.array(Capability).max(64).optional(),
  client: SafeName(200).optional(),
});
export type SessionOpenRequest = z.input<typeof SessionOpenRequest>;

export const SessionInfo = z.object({
  sessionId: z.string(),
  agentId: z.string(),
  role: Role,
  openedAt: z.string(),
  expiresAt: z.string(),
  idleTimeoutMs: z.number().int(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const SessionSummary = SessionInfo.extend({
  lastSeenAt: z.string(),
  connected: z.boolean(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

export const SessionList = z.object({ sessions: z.array(SessionSummary) });
export type SessionList = z.infer<typeof SessionList>;

export const RevokeRequest = z.object({ reason: SafeText(500).default('revoked by admin') });
