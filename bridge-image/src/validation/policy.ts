/** A validated policy file, compiled once into what the rules test against. */
import path from 'node:path';
import { issuePath } from '../../protocol/errors.js';
import { nestsDeeperThan, tooDeepMessage } from '../../protocol/json-depth.js';
import type { ValidationDecision } from '../../protocol/validation.js';
import { compilePathPattern, globToRegExp, type PathPattern } from './glob.js';
import { PolicyFile } from './policy-schema.js';

export interface CompiledPolicyRule {
  id: string;
  description: string | null;
  decision: ValidationDecision;
  reason: string;
  /** Lower-cased tool names, or null for every tool. */
  tools: ReadonlySet<string> | null;
  command: RegExp | null;
  argv0: ReadonlySet<string> | null;
  paths: PathPattern[] | null;
}

export interface ProtectedPathEntry {
  pattern: PathPattern;
  decision: 'blocked' | 'escalate';
  reason: string | null;
}

export interface Policy {
  /** The file it came from; null for the defaults. */
  source: string | null;
  rules: CompiledPolicyRule[];
  protectedBranches: Array<{ source: string; re: RegExp }>;
  protectedPaths: ProtectedPathEntry[];
  allowedOutside: PathPattern[];
  escalationDefault: 'block' | 'approve';
  disabledRules: ReadonlySet<string>;
}

export class PolicyError extends Error {
  constructor(
    readonly file: string,
    /** One line per problem, each starting with the file name and the field. */
    readonly issues: string[],
  ) {
    super(issues.join('\n'));
    this.name = 'PolicyError';
  }
}

const list = (v: string | string[] | undefined): string[] | null =>
  v === undefined ? null : Array.isArray(v) ? v : [v];

export function compilePolicy(file: PolicyFile, source: string | null): Policy {
  return {
    source,
    rules: file.rules.map((r) => ({
      id: r.id,
      description: r.description ?? null,
      decision: r.decision,
      reason: r.reason,
      tools: r.match.tool ? new Set(list(r.match.tool)?.map((t) => t.toLowerCase())) : null,
      command: r.match.command ? new RegExp(r.match.command) : null,
      argv0: r.match.argv0 ? new Set(list(r.match.argv0)) : null,
      paths: list(r.match.path)?.map(compilePathPattern) ?? null,
    })),
    protectedBranches: file.protectedBranches.map((b) => ({ source: b, re: globToRegExp(b) })),
    protectedPaths: file.protectedPaths.map((p) =>
      typeof p === 'string'
        ? { pattern: compilePathPattern(p), decision: file.protectedPathDecision, reason: null }
        : { pattern: compilePathPattern(p.glob), decision: p.decision, reason: p.reason ?? null },
    ),
    allowedOutside: file.allowedOutsideWorkspace.map(compilePathPattern),
    escalationDefault: file.escalationDefault,
    disabledRules: new Set(file.disabledRules),
  };
}

/** Validates parsed JSON; throws PolicyError naming each bad field. */
export function parsePolicy(json: unknown, source: string | null): Policy {
  const name = source ? path.basename(source) : 'policy.json';
  const parsed = PolicyFile.safeParse(json);
  if (!parsed.success) {
    throw new PolicyError(
      source ?? name,
      parsed.error.issues.map((i) => {
        const where = issuePath(i.path);
        return `${name}: ${where ? `${where}: ` : ''}${i.message}`;
      }),
    );
  }
  return compilePolicy(parsed.data, source);
}

/** Parses the text of a policy file; throws PolicyError for bad JSON or bad fields. */
export function parsePolicyText(text: string, source: string | null): Policy {
  const name = source ? path.basename(source) : 'policy.json';
  if (nestsDeeperThan(text)) throw new PolicyError(source ?? name, [tooDeepMessage(name)]);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(source ?? name, [`${name}: invalid JSON: ${jsonErrorWhere(text, e as Error)}`]);
  }
  return parsePolicy(json, source);
}

function jsonErrorWhere(text: string, e: Error): string {
  // Node 20 echoes the whole input (`…, "<text>" is not valid JSON`); the file is already named.
  const message = e.message.replace(/, ".*" is not valid JSON$/s, '');
  const m = /position (\d+)/.exec(message);
  if (!m || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line} column ${column})`;
}

export const DEFAULT_POLICY: Policy = parsePolicy({}, null);
