import { z } from 'zod';
import { AgentId } from './events.js';
import { Capability } from './sessions.js';

/**
 * POST /v1/experts (admin only): names an agent expert. Only a named agent may open an expert
 * session, and only with (a subset of) these capabilities; naming it again replaces them.
 */
export const NameExpertRequest = z.object({
  agentId: AgentId,
  capabilities: z.array(Capability).min(1, 'capabilities: name at least one').max(64),
});
export type NameExpertRequest = z.input<typeof NameExpertRequest>;

export const Expert = z.object({
  agentId: z.string(),
  capabilities: z.array(z.string()),
  namedAt: z.string(),
  namedBy: z.string(),
});
export type Expert = z.infer<typeof Expert>;

export const ExpertList = z.object({ experts: z.array(Expert) });
export type ExpertList = z.infer<typeof ExpertList>;

export const ExpertRemoved = z.object({
  agentId: z.string(),
  removed: z.literal(true),
  sessionsEnded: z.number().int(),
});
export type ExpertRemoved = z.infer<typeof ExpertRemoved>;

/** What the developer does to name an expert: said in every refusal of an unnamed one. */
export function nameExpertHint(agentId: string, capabilities: readonly string[] = []): string {
  const caps = capabilities.length ? capabilities.join(',') : '<capabilities, e.g. shell,files>';
  return (
    `the developer must name "${agentId}" an expert, with the capabilities it is to judge: in VS Code run "Lighthouse: Name Expert Agent…" ` +
    `(agent id ${agentId}, capabilities ${caps}), or as admin POST /v1/experts ` +
    `{"agentId":"${agentId}","capabilities":[…]} (CLI: bridge.js expert name ${agentId} --capabilities ${caps})`
  );
}
