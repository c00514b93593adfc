import type { Isolation, ValidationDecision } from '../../../protocol/validation.js';
import type { Analysis, Command } from '../command-model.js';
import type { FileOp } from '../file-ops.js';
import type { Policy } from '../policy.js';
import { ruleInfo } from './catalog.js';

/** One simple command of a shell line, with the files it touches. */
export interface CommandSubject {
  kind: 'command';
  command: Command;
  ops: FileOp[];
}

/** A file tool call (Edit, Write, Read, …), with the files it touches. */
export interface ToolSubject {
  kind: 'tool';
  tool: string;
  ops: FileOp[];
  /** Text the tool writes or replaces (new and old strings, whole content). */
  texts: string[];
}

export type Subject = CommandSubject | ToolSubject;

export interface RuleEnv {
  workspace: string;
  home: string;
  policy: Policy;
  /** The whole line, for rules that look across commands; null for file tools. */
  analysis: Analysis | null;
  /** Where native changes may go (see Isolation); undefined: not confined. */
  isolation?: Isolation | undefined;
}

export interface RuleHit {
  reason: string;
  /** Overrides the rule's own decision (protected paths carry theirs from the policy). */
  decision?: ValidationDecision;
  /** The reason was written by the developer (policy file) and is passed on as written. */
  verbatim?: boolean;
}

export interface BuiltinRule {
  id: string;
  description: string;
  decision: 'blocked' | 'escalate';
  confidence: number;
  check(subject: Subject, env: RuleEnv): RuleHit | null;
}

/** Builds a rule whose id, description and decision come from the catalog. */
export function defineRule(
  id: string,
  confidence: number,
  check: (subject: Subject, env: RuleEnv) => RuleHit | string | null,
): BuiltinRule {
  const info = ruleInfo(id);
  return {
    ...info,
    confidence,
    check: (subject, env) => {
      const hit = check(subject, env);
      return typeof hit === 'string' ? { reason: hit } : hit;
    },
  };
}

/** The first non-null result of `f` over `items`. */
export function firstOf<T, R>(items: readonly T[], f: (item: T) => R | null): R | null {
  for (const item of items) {
    const r = f(item);
    if (r !== null) return r;
  }
  return null;
}
