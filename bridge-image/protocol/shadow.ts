import { z } from 'zod';

import { AgentId } from './events.js';
import { CHANGES_PAGE, DIFF_PAGE_BYTES, MAX_CHANGES_PAGE, MAX_DIFF_PAGE_BYTES } from './paging.js';
export * from './paging.js';
export { LeaseEventTypes, ShadowEventTypes } from './event-types.js';

/** A path inside the workspace, relative, with "/" separators; the bridge checks it again. */
export const WorkspacePath = z
  .string()
  .min(1, 'path: must not be empty')
  .max(4096, 'path: at most 4096 characters');

/** A symlink is shown as itself (its text in `target`), never followed into what it names. */
export const FileType = z.enum(['file', 'dir', 'symlink']);

export const ShadowStat = z.object({
  path: z.string(),
  type: FileType,
  size: z.number().int(),
  mode: z.number().int(),
  mtime: z.string(),
  /** SHA-256 of a file's content; null for directories. */
  hash: z.string().nullable(),
  /** Where the content comes from: this agent's shadow, or the workspace as it is. */
  source: z.enum(['shadow', 'workspace']),
  /** A symlink's text (what readlink(2) answers); only for symlinks. */
  target: z.string().optional(),
});
export type ShadowStat = z.infer<typeof ShadowStat>;

export const ShadowListing = z.object({
  path: z.string(),
  entries: z.array(ShadowStat.extend({ name: z.string() })),
});
export type ShadowListing = z.infer<typeof ShadowListing>;

export const ShadowWriteResult = z.object({
  path: z.string(),
  hash: z.string(),
  size: z.number().int(),
  seq: z.number().int(),
  /** The content the write was based on (ifMatch) is no longer what the shadow showed. */
  conflict: z.boolean(),
});
export type ShadowWriteResult = z.infer<typeof ShadowWriteResult>;

export const ChangeStatus = z.enum(['added', 'modified', 'deleted', 'moved']);

export const ShadowChange = z.object({
  path: z.string(),
  status: ChangeStatus,
  hash: z.string().nullable(),
  /** The workspace content this change was based on (null: the file did not exist). */
  baseHash: z.string().nullable(),
  /** The workspace content now. */
  currentBaseHash: z.string().nullable(),
  /** The workspace changed under this entry since, or the write was based on stale content. */
  conflict: z.boolean(),
  /** Other agents whose shadows change the same path. */
  alsoChangedBy: z.array(z.string()),
  movedFrom: z.string().nullable(),
  seq: z.number().int(),
});
export type ShadowChange = z.infer<typeof ShadowChange>;

/**
 * What a page of a change list says of the whole list it is part of (every change under the prefix
 * asked for, or all of them): how many there are, how many conflict, and where the next page starts.
 */
const PageInfo = {
  total: z.number().int().min(0),
  conflicts: z.number().int().min(0),
  /** Pass as `cursor` for the next page; null: this page is the last. */
  nextCursor: z.string().nullable(),
};

/** One page of an agent's changes, ordered by path. */
export const ShadowChanges = z.object({
  agentId: z.string(),
  changes: z.array(ShadowChange),
  ...PageInfo,
});
export type ShadowChanges = z.infer<typeof ShadowChanges>;

const pageParams = {
  agent: AgentId.optional(),
  limit: z.coerce
    .number('limit: a number of changes')
    .int('limit: a whole number of changes')
    .min(1, 'limit: at least 1')
    .max(MAX_CHANGES_PAGE, `limit: at most ${MAX_CHANGES_PAGE}`)
    .default(CHANGES_PAGE),
  /** The last path of the previous page (its nextCursor): this page starts after it. */
  cursor: z
    .string()
    .min(1, 'cursor: must not be empty (leave it out for the first page)')
    .max(4096, 'cursor: at most 4096 characters')
    .optional(),
  /** Only this file, or the files under this directory. */
  prefix: z.string().max(4096, 'prefix: at most 4096 characters').optional(),
};
const strictPage = (names: string) => ({
  error: (iss: { code: string; keys?: string[] }) =>
    iss.code === 'unrecognized_keys'
      ? `unknown parameter ${(iss.keys ?? []).join(', ')} (the parameters are ${names})`
      : undefined,
});

/** Strict: a misspelt `limit` or `cursor` would otherwise silently answer the first page. */
export const ChangesQuery = z.strictObject(pageParams, strictPage('agent, limit, cursor, prefix'));

export const DiffQuery = z.strictObject(
  {
    ...pageParams,
    /** The page ends before a patch that would take its patch bytes over this (never before the first). */
    maxBytes: z.coerce
      .number('maxBytes: a number of bytes')
      .int('maxBytes: a whole number of bytes')
      .min(1024, 'maxBytes: at least 1024')
      .max(MAX_DIFF_PAGE_BYTES, `maxBytes: at most ${MAX_DIFF_PAGE_BYTES}`)
      .default(DIFF_PAGE_BYTES),
  },
  strictPage('agent, limit, cursor, prefix, maxBytes'),
);

/** How many paths one agent's shadow changes, and how many of those conflict; no paths, no diffs. */
export const ShadowCount = z.object({
  agentId: z.string(),
  changes: z.number().int().min(0),
  conflicts: z.number().int().min(0),
});
export type ShadowCount = z.infer<typeof ShadowCount>;

/** Every shadow's counts at once (admin): an agent not listed changes nothing. */
export const ShadowSummary = z.object({ agents: z.array(ShadowCount) });
export type ShadowSummary = z.infer<typeof ShadowSummary>;

/** Strict: a misspelt parameter is refused rather than silently answered for every agent. */
export const SummaryQuery = z.strictObject(
  {
    /** Only this agent, listed even when its shadow changes nothing. */
    agent: AgentId.optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown parameter ${iss.keys.join(', ')} (the only one is agent)`
        : undefined,
  },
);

export const MoveRequest = z.object({ from: WorkspacePath, to: WorkspacePath });
export const PathRequest = z.object({ path: WorkspacePath });
export const ApplyRequest = z.object({
  agentId: AgentId,
  paths: z.array(WorkspacePath).min(1, 'paths: give at least one path').max(10_000),
});
export type ApplyRequest = z.infer<typeof ApplyRequest>;
export const ApplyResult = z.object({
  agentId: z.string(),
  paths: z.array(z.string()),
  seq: z.number().int(),
});
export type ApplyResult = z.infer<typeof ApplyResult>;

/** History: the shadow as it stood right after this event. */
const AtSeq = z.coerce.number().int('at must be an event seq').min(0, 'at must be at least 0').optional();

export const ShadowQuery = z.object({
  path: WorkspacePath,
  /** Admin only: whose shadow to read. */
  agent: AgentId.optional(),
  at: AtSeq,
});

export const ListQuery = z.object({
  path: z.string().max(4096).default(''),
  agent: AgentId.optional(),
  at: AtSeq,
});

export const ReadQuery = ShadowQuery.extend({
  offset: z.coerce.number().int().min(0, 'offset must be at least 0').optional(),
  length: z.coerce.number().int().min(0, 'length must be at least 0').optional(),
});

export const WriteQuery = z.object({
  path: WorkspacePath,
  /** SHA-256 of the content the agent based this write on ("absent" if it saw no file). */
  ifMatch: z
    .string()
    .regex(/^([0-9a-f]{64}|absent)$/, 'ifMatch: a SHA-256 in hex, or "absent"')
    .optional(),
});

/** Answer of a shadow change that has nothing else to report: the event that recorded it. */
export const SeqResult = z.object({ seq: z.number().int() }).passthrough();

export const LeaseMode = z.enum(['exclusive', 'shared']);

/** How long a lease lives unless renewed: 1 s to a day, 5 minutes by default. */
const LeaseTtl = z
  .number()
  .int()
  .min(1000, 'ttlMs: at least 1000')
  .max(24 * 3600_000, 'ttlMs: at most one day')
  .default(5 * 60_000);

export const LeaseRequest = z.object({
  globs: z.array(z.string().min(1).max(1000)).min(1, 'globs: give at least one glob').max(100),
  ttlMs: LeaseTtl,
  mode: LeaseMode.default('exclusive'),
});
export type LeaseRequest = z.input<typeof LeaseRequest>;

export const RenewRequest = z.object({
  ttlMs: LeaseTtl,
});

export const Lease = z.object({
  id: z.string(),
  agentId: z.string(),
  globs: z.array(z.string()),
  mode: LeaseMode,
  acquiredAt: z.string(),
  expiresAt: z.string(),
});
export type Lease = z.infer<typeof Lease>;

export const LeaseList = z.object({ leases: z.array(Lease) });

/** Details of a 423: who holds the lease that refused the operation, and until when. */
export const LeaseHeldDetails = z.object({
  leaseId: z.string(),
  holder: z.string(),
  glob: z.string(),
  expiresAt: z.string(),
});

/** One page of an agent's changes with their diffs, ordered by path. */
export const ShadowDiff = z.object({
  agentId: z.string(),
  files: z.array(
    z.object({
      path: z.string(),
      status: ChangeStatus,
      conflict: z.boolean(),
      binary: z.boolean(),
      /** Unified diff against the workspace; null for binary files. */
      patch: z.string().nullable(),
      /** The patch was cut at patchLimit bytes (at a line end): read the file for the rest. */
      truncated: z.boolean(),
    }),
  ),
  /** The bytes a patch is cut at. */
  patchLimit: z.number().int(),
  ...PageInfo,
});
export type ShadowDiff = z.infer<typeof ShadowDiff>;
