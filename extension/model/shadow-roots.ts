import type { AgentInfo, Lease, ShadowSummary } from '../../bridge-image/protocol/index.js';

/** One agent row of Shadow Files: how many paths its shadow changes, and how many conflict. */
export interface ShadowRoot {
  agentId: string;
  count: number;
  conflicts: number;
}

/**
 * The agent rows, from the bridge's per-agent counts rather than every agent's change list: each
 * agent (not the admin) whose shadow changes something or who holds a lease, in the agents' order.
 */
export function shadowRoots(
  agents: readonly AgentInfo[],
  leases: readonly Lease[],
  summary: ShadowSummary,
): ShadowRoot[] {
  const counts = new Map(summary.agents.map((a) => [a.agentId, a]));
  const holders = new Set(leases.map((l) => l.agentId));
  const out: ShadowRoot[] = [];
  for (const a of agents) {
    if (a.role === 'admin') continue;
    const c = counts.get(a.agentId);
    const count = c?.changes ?? 0;
    if (count || holders.has(a.agentId))
      out.push({ agentId: a.agentId, count, conflicts: c?.conflicts ?? 0 });
  }
  return out;
}

/**
 * Agents whose remembered change lists the counts prove out of date (another number of changes or of
 * conflicts, as the bridge counted the whole list when it was fetched): they are dropped rather than
 * shown, until the agent is expanded again.
 */
export function staleLists(
  remembered: ReadonlyMap<string, { total: number; conflicts: number }>,
  summary: ShadowSummary,
): string[] {
  const counts = new Map(summary.agents.map((a) => [a.agentId, a]));
  const stale: string[] = [];
  for (const [agentId, list] of remembered) {
    const c = counts.get(agentId);
    if (list.total !== (c?.changes ?? 0) || list.conflicts !== (c?.conflicts ?? 0)) stale.push(agentId);
  }
  return stale;
}
