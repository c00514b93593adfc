/**
 * The fast path of validation: a tool call in, `approved | blocked | escalate` out, with
 * the rule that decided. Shell lines are parsed into simple commands and each is judged
 * on its own: the workspace policy's rules first (the first match decides for that
 * command, and may approve), then every enabled built-in rule (the most severe wins).
 * The line as a whole gets the most severe decision of its commands.
 */
import os from 'node:os';
import path from 'node:path';
import type { ValidateRequest, ValidationDecision, ValidationResult } from '../../protocol/validation.js';
import { commandName, type Analysis } from './command-model.js';
import { cacheKey, stableStringify, type DecisionCache } from './decision-cache.js';
import { fileOps } from './file-ops.js';
import type { CompiledPolicyRule, Policy } from './policy.js';
import { BUILTIN_RULES, type RuleEnv, type Subject } from './rules/index.js';
import { ruleInfo } from './rules/catalog.js';
import { analyzeShell } from './shell-analysis.js';
import { fileToolSubject, shellCommand, toolFamily } from './tool-inputs.js';

export interface ValidationContext {
  /** Absolute path of the workspace root. */
  workspace: string;
  policy: Policy;
  /** The agent's home directory, for `~` and `$HOME`; the bridge user's by default. */
  home?: string;
  cache?: DecisionCache;
}

export type ValidationInput = Pick<ValidateRequest, 'tool' | 'input' | 'cwd' | 'isolation'> & {
  agentId?: string;
};

export interface ValidationOutcome extends ValidationResult {
  /** Answered from the decision cache. */
  cached: boolean;
}

const RANK: Record<ValidationDecision, number> = { approved: 0, escalate: 1, blocked: 2 };
const MAX_QUOTED = 160;

export function validate(request: ValidationInput, context: ValidationContext): ValidationOutcome {
  const workspace = path.posix.resolve(context.workspace);
  const home = path.posix.resolve(context.home ?? os.homedir());
  const cwd = request.cwd ? path.posix.resolve(workspace, request.cwd) : workspace;
  const cache = context.cache;
  let key: string | null = null;
  if (cache) {
    cache.bind(context.policy, workspace, home);
    const line = toolFamily(request.tool) === 'shell' ? shellCommand(request.input) : null;
    key = cacheKey(request.tool, line !== null ? `$ ${line.trim()}` : stableStringify(request.input), cwd);
    // The same call confined elsewhere (another shadow, none) may be decided otherwise.
    if (request.isolation) key += `\u0000${stableStringify(request.isolation)}`;
    const hit = cache.get(key);
    if (hit) return { ...hit, cached: true };
  }
  const result = decide(request.tool, request.input, cwd, {
    workspace,
    home,
    policy: context.policy,
    analysis: null,
    isolation: request.isolation,
  });
  if (cache && key !== null) cache.set(key, result);
  return { ...result, cached: false };
}

function decide(tool: string, input: unknown, cwd: string, env: RuleEnv): ValidationResult {
  const family = toolFamily(tool);
  if (family === 'shell') {
    const line = shellCommand(input);
    if (line === null)
      return builtinVerdict('unrecognized-input', `${tool} input has no "command" string`, env);
    return decideShell(tool, line, cwd, env);
  }
  const subject: Subject | null =
    family === 'other'
      ? { kind: 'tool', tool, ops: [], texts: [] }
      : fileToolSubject(tool, input, cwd, env.home);
  if (!subject) {
    return builtinVerdict(
      'unrecognized-input',
      `${tool} input is not in a shape Lighthouse knows (no file path)`,
      env,
    );
  }
  return (
    judge(tool, subject, env) ?? {
      decision: 'approved',
      confidence: 0.95,
      reason: subject.ops.length
        ? `no rule matched ${tool} on ${subject.ops[0]?.path}`
        : `no rule applies to ${tool}`,
      rule: null,
    }
  );
}

function decideShell(tool: string, line: string, cwd: string, base: RuleEnv): ValidationResult {
  const analysis = analyzeShell(line, { cwd, home: base.home });
  const env: RuleEnv = { ...base, analysis };
  let best: ValidationResult | null = null;
  for (const command of analysis.commands) {
    const verdict = judge(tool, { kind: 'command', command, ops: fileOps(command) }, env);
    if (verdict && (!best || RANK[verdict.decision] > RANK[best.decision])) best = verdict;
    if (best?.decision === 'blocked') break;
  }
  if (analysis.problems.length && (!best || best.decision === 'approved')) {
    const unparseable = builtinVerdict(
      'unparseable',
      `Could not follow the whole command (${analysis.problems.join('; ')}); bash may read it differently`,
      env,
    );
    if (unparseable.rule) return unparseable;
  }
  if (best) return best;
  const n = analysis.commands.length;
  return {
    decision: 'approved',
    confidence: allExact(analysis) ? 0.9 : 0.75,
    reason: n ? `no rule matched (${n} command${n === 1 ? '' : 's'} checked)` : 'nothing to run',
    rule: null,
  };
}

/** The verdict for one subject: the first matching policy rule, else the most severe built-in. */
function judge(tool: string, subject: Subject, env: RuleEnv): ValidationResult | null {
  for (const rule of env.policy.rules) {
    if (policyRuleMatches(rule, tool, subject, env)) {
      return { decision: rule.decision, confidence: 1, reason: rule.reason + where(subject), rule: rule.id };
    }
  }
  let best: ValidationResult | null = null;
  for (const rule of BUILTIN_RULES) {
    if (env.policy.disabledRules.has(rule.id)) continue;
    const hit = rule.check(subject, env);
    if (!hit) continue;
    const decision = hit.decision ?? rule.decision;
    if (!best || RANK[decision] > RANK[best.decision]) {
      const reason = (hit.verbatim ? hit.reason : capitalize(hit.reason)) + where(subject);
      best = { decision, confidence: rule.confidence, reason, rule: rule.id };
      if (decision === 'blocked') break;
    }
  }
  return best;
}

function policyRuleMatches(rule: CompiledPolicyRule, tool: string, subject: Subject, env: RuleEnv): boolean {
  if (rule.tools && !rule.tools.has(tool.toLowerCase())) return false;
  if (rule.command || rule.argv0) {
    if (subject.kind !== 'command') return false;
    const cmd = subject.command;
    if (rule.argv0 && !rule.argv0.has(commandName(cmd.args))) return false;
    if (rule.command && !rule.command.test(cmd.text) && !rule.command.test(cmd.fullText)) return false;
  }
  if (rule.paths) {
    const paths = rule.paths;
    const touched = subject.ops.some(
      (op) => op.path !== null && paths.some((p) => p.test(op.path as string, env.workspace, env.home)),
    );
    if (!touched) return false;
  }
  return true;
}

function builtinVerdict(id: string, reason: string, env: RuleEnv): ValidationResult {
  if (env.policy.disabledRules.has(id)) return { decision: 'approved', confidence: 0.5, reason, rule: null };
  const info = ruleInfo(id);
  return { decision: info.decision, confidence: 0.5, reason, rule: id };
}

/** Quotes the command a verdict is about, and how it was nested, so the agent sees what to change. */
function where(subject: Subject): string {
  if (subject.kind !== 'command') return '';
  const c = subject.command;
  let text = c.fullText || c.redirects.map((r) => `${r.op}${r.target?.text ?? ''}`).join(' ');
  if (text.length > MAX_QUOTED) text = text.slice(0, MAX_QUOTED - 1) + '…';
  const via = c.origin.length ? ` inside ${c.origin.join(' → ')}` : '';
  return ` [command: ${text}${via}]`;
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const allExact = (a: Analysis): boolean => a.commands.every((c) => c.args.every((x) => x.exact));
