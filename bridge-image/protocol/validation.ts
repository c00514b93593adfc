import { z } from 'zod';
import { AgentId } from './events.js';

/** What the bridge answers to "may this agent run this tool with this input?". */
export const ValidationDecision = z.enum(['approved', 'blocked', 'escalate']);
export type ValidationDecision = z.infer<typeof ValidationDecision>;

/**
 * POST body of a validation: the tool as the agent names it (`Bash`, `Edit`, `Write`, …),
 * its input in the agent's own shape (Claude Code: `{ command }`, `{ file_path, … }`), and
 * the directory the agent runs in, against which relative paths resolve.
 */
const AbsolutePath = z.string().min(1).max(4096).regex(/^\//, 'an absolute path');

/**
 * Where an agent that runs its tools natively (not through Lighthouse's MCP tools) may change the
 * project: only inside `shadow`, its shadow as this machine sees it (null: it has none here, as in
 * a container without a host-visible mount or on macOS); any write, move or delete under a
 * `protect` root (the project) outside it is blocked and names the Lighthouse tool to use instead.
 */
export const Isolation = z.object({
  shadow: AbsolutePath.nullable(),
  protect: z.array(AbsolutePath).max(16),
});
export type Isolation = z.infer<typeof Isolation>;

export const ValidateRequest = z.object({
  tool: z.string().min(1).max(200),
  input: z.unknown(),
  /** Whose command: the session's own agent by default; only admin may name another. */
  agentId: AgentId.optional(),
  cwd: z.string().min(1).max(4096).optional(),
  /** Left out: native writes are not confined (the agent works through the MCP tools alone). */
  isolation: Isolation.optional(),
});
export type ValidateRequest = z.infer<typeof ValidateRequest>;

/** The decision of the fast path: `rule` names the rule that decided, null when none matched. */
export const ValidationResult = z.object({
  decision: ValidationDecision,
  confidence: z.number().min(0).max(1),
  reason: z.string(),
  rule: z.string().nullable(),
});
export type ValidationResult = z.infer<typeof ValidationResult>;

/** The answer on the wire: the fast-path result, whether it came from the cache, and a review id when escalated. */
export const ValidateResponse = ValidationResult.extend({
  cached: z.boolean().optional(),
  reviewId: z.string().optional(),
});
export type ValidateResponse = z.infer<typeof ValidateResponse>;

/** POST /v1/commands/executed: what a tool did (Claude Code's PostToolUse hook), for the record. */
export const ExecutedRequest = z.object({
  tool: z.string().min(1).max(200),
  input: z.unknown(),
  /** For file edits: the file and a SHA-256 of its content afterwards. */
  path: z.string().max(4096).optional(),
  contentHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'contentHash: a SHA-256 in hex')
    .optional(),
  success: z.boolean().optional(),
  cwd: z.string().max(4096).optional(),
});
export type ExecutedRequest = z.infer<typeof ExecutedRequest>;

export const CommandEventTypes = {
  received: 'command.received',
  validated: 'command.validated',
  executed: 'command.executed',
} as const;
