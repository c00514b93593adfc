/**
 * The shape of `.lighthouse/policy.json`. Every message is written to be read next to
 * the field it names, e.g. `policy.json: rules[2].decision: expected "approved" | "blocked" | "escalate"`.
 */
import { z } from 'zod';
import { BUILTIN_RULE_IDS } from './rules/catalog.js';

export const DEFAULT_PROTECTED_BRANCHES = ['main', 'master', 'release/*'];

const Decision = z.enum(['approved', 'blocked', 'escalate'], {
  error: () => 'expected "approved" | "blocked" | "escalate"',
});
const StrictDecision = z.enum(['blocked', 'escalate'], { error: () => 'expected "blocked" | "escalate"' });

const OneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: () => 'expected a non-empty string or a non-empty array of strings',
});

const RuleMatch = z
  .strictObject({
    /** Tool names the rule applies to (`Bash`, `Edit`, …); all tools when absent. */
    tool: OneOrMany.optional(),
    /** A regular expression tested against each simple command (wrappers taken off, and with them). */
    command: z.string().min(1).optional(),
    /** Program names (`rm`, `docker`), compared with the command that really runs. */
    argv0: OneOrMany.optional(),
    /** Path globs matched against every file the command or tool reads or writes. */
    path: OneOrMany.optional(),
  })
  .superRefine((m, ctx) => {
    if (!m.tool && !m.command && !m.argv0 && !m.path) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one of "command", "argv0", "path", "tool"' });
    }
    if (m.command) {
      try {
        new RegExp(m.command);
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['command'],
          message: `invalid regular expression: ${(e as Error).message}`,
        });
      }
    }
  });

const PolicyRule = z.strictObject({
  id: z
    .string({ error: () => 'expected a string' })
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected 1-64 lowercase letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  match: RuleMatch,
  decision: Decision,
  reason: z.string({ error: () => 'expected a string' }).min(1, 'must not be empty'),
});

const ProtectedPath = z.union(
  [
    z.string().min(1),
    z.strictObject({
      glob: z.string().min(1),
      decision: StrictDecision,
      reason: z.string().min(1).optional(),
    }),
  ],
  { error: () => 'expected a glob string or { glob, decision, reason? }' },
);

export const PolicyFile = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1, { error: () => 'expected 1' }).optional(),
  /** Workspace rules; they are checked before the built-in ones and can approve. */
  rules: z
    .array(PolicyRule)
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((r, i) => {
        if (seen.has(r.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate id "${r.id}"` });
        if (BUILTIN_RULE_IDS.has(r.id)) {
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `"${r.id}" is a built-in rule id` });
        }
        seen.add(r.id);
      });
    })
    .default([]),
  protectedBranches: z.array(z.string().min(1)).default(DEFAULT_PROTECTED_BRANCHES),
  /** Writes to these globs need a review (or are blocked, per entry or by `protectedPathDecision`). */
  protectedPaths: z.array(ProtectedPath).default([]),
  protectedPathDecision: StrictDecision.default('escalate'),
  /** Paths outside the workspace that may be written, e.g. `/tmp`. */
  allowedOutsideWorkspace: z.array(z.string().min(1)).default([]),
  /** What an escalation that nobody answers in time turns into. */
  escalationDefault: z
    .enum(['block', 'approve'], { error: () => 'expected "block" | "approve"' })
    .default('block'),
  disabledRules: z
    .array(z.string())
    .superRefine((ids, ctx) => {
      ids.forEach((id, i) => {
        if (!BUILTIN_RULE_IDS.has(id)) {
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: `unknown built-in rule "${id}"; known: ${[...BUILTIN_RULE_IDS].join(', ')}`,
          });
        }
      });
    })
    .default([]),
});

export type PolicyFile = z.infer<typeof PolicyFile>;
export type PolicyFileInput = z.input<typeof PolicyFile>;
