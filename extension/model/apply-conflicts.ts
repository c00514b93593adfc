import type { ShadowChange } from '../../bridge-image/protocol/index.js';

/**
 * The rule Apply follows for conflicting changes, without VS Code: they are never applied silently,
 * since applying one overwrites what the workspace (or another agent's applied change) has there.
 */

/** Why a change conflicts, as the developer reads it. */
export function conflictReason(c: ShadowChange): string {
  const why: string[] = [];
  if (c.alsoChangedBy.length) why.push(`also changed by ${c.alsoChangedBy.join(', ')}`);
  if (c.baseHash !== c.currentBaseHash) why.push('the workspace changed since the agent read it');
  return `${c.path}${why.length ? ` (${why.join('; ')})` : ''}`;
}

/** What the developer is told before conflicting changes are applied; undefined: none conflicts. */
export function conflictNotice(
  agentId: string,
  changes: readonly ShadowChange[],
): { what: string; detail: string } | undefined {
  const conflicts = changes.filter((c) => c.conflict);
  if (!conflicts.length) return undefined;
  const what = `${conflicts.length} of ${agentId}'s changes conflict; applying them overwrites the workspace's version`;
  const listed = conflicts.slice(0, 10).map(conflictReason).join('\n');
  const more = conflicts.length > 10 ? `\n…and ${conflicts.length - 10} more` : '';
  return { what, detail: listed + more };
}
