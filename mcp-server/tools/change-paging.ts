import { z } from 'zod';
import { WorkspacePath } from '../../bridge-image/protocol/index.js';
import { count } from '../tool-results.js';

/**
 * Paging arguments shared by shadow_changes and shadow_diff. A shadow can hold thousands of changes
 * (node_modules, dist): an answer holds one page, small enough for any MCP client to accept.
 */
export const pagingArgs = (defaultLimit: number, maxLimit: number) => ({
  path: WorkspacePath.optional().describe(
    'Only this file, or the files under this directory (relative to the workspace root, e.g. "src"). ' +
      'Leave it out for all your changes.',
  ),
  limit: z
    .number()
    .int()
    .min(1)
    .max(maxLimit)
    .optional()
    .describe(`How many files at most this answer lists (default ${defaultLimit}, at most ${maxLimit}).`),
  cursor: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe('nextCursor of the previous answer, for the next page; leave it out for the first page.'),
});

/** What every page says beside its items, for a model that reads structuredContent only. */
export const pageFields = {
  /** How many items this answer holds. */
  shown: z.number().int(),
  /** The counts, what is shown, and how to get the next page, in words. */
  note: z.string(),
};

export interface PageFacts {
  tool: string;
  noun: string;
  total: number;
  conflicts: number;
  shown: number;
  first: string | undefined;
  last: string | undefined;
  nextCursor: string | null;
  path: string | undefined;
}

/** "2,500 changed files in your shadow (12 in conflict); shown: 100 (a.ts … m.ts). Next page: …" */
export function pageNote(f: PageFacts): string {
  const where = f.path === undefined ? 'in your shadow' : `under ${f.path} in your shadow`;
  let note = `${count(f.total, f.noun)} ${where}`;
  if (f.conflicts) note += ` (${f.conflicts} in conflict)`;
  if (f.total === 0) return `No changes ${where}: it matches the workspace there.`;
  note += f.shown === f.total ? '; all shown.' : `; shown here: ${f.shown} (${f.first} … ${f.last}).`;
  if (f.nextCursor !== null) {
    const args = JSON.stringify({ ...(f.path === undefined ? {} : { path: f.path }), cursor: f.nextCursor });
    note += ` More follow: call ${f.tool} again with ${args} for the next page.`;
  } else if (f.shown !== f.total) note += ' This is the last page.';
  return note;
}
