/** Where files may be written and read: the workspace, secrets, and the policy's protected paths. */
import { isInside } from '../glob.js';
import { isBlockDevice, isHarmlessDevice, secretGlobKind, secretKind } from '../sensitive-paths.js';
import { defineRule, firstOf } from './rule.js';

const GLOB = /[*?[{]/;

const verb = (access: 'read' | 'write' | 'delete') => (access === 'delete' ? 'deletes' : 'writes');

export const writeOutsideWorkspace = defineRule('write-outside-workspace', 0.9, (s, env) =>
  firstOf(s.ops, (op) => {
    if (op.access === 'read' || op.path === null) return null;
    const p = op.path;
    if (isInside(env.workspace, p) || isHarmlessDevice(p) || isBlockDevice(p)) return null;
    // The agent's shadow is the workspace as that agent has it.
    if (env.isolation?.shadow && isInside(env.isolation.shadow, p)) return null;
    if (env.policy.allowedOutside.some((a) => a.test(p, env.workspace, env.home))) return null;
    return `${verb(op.access)} ${p} (via ${op.via}), outside the workspace ${env.workspace}; keep changes inside the workspace, or ask for the path to be added to allowedOutsideWorkspace in .lighthouse/policy.json`;
  }),
);

export const writeSecret = defineRule('write-secret', 0.93, (s) =>
  firstOf(s.ops, (op) => {
    if (op.access === 'read' || op.path === null) return null;
    const kind = secretKind(op.path);
    return kind
      ? `${verb(op.access)} ${op.path}, ${kind}; secrets are managed by the developer, not by agents`
      : null;
  }),
);

export const readSecret = defineRule('read-secret', 0.93, (s) =>
  firstOf(s.ops, (op) => {
    if (op.access !== 'read' || op.path === null) return null;
    const kind = GLOB.test(op.path) ? secretGlobKind(op.path) : secretKind(op.path);
    if (!kind) return null;
    return `reads ${op.raw} (${kind}) via ${op.via}; secrets must not reach agents or leave the machine — use a template such as .env.example or ask the developer`;
  }),
);

export const protectedPath = defineRule('protected-path', 0.9, (s, env) =>
  firstOf(s.ops, (op) => {
    if (op.access === 'read' || op.path === null) return null;
    const p = op.path;
    const entry = env.policy.protectedPaths.find((e) => e.pattern.test(p, env.workspace, env.home));
    if (!entry) return null;
    if (entry.reason) return { decision: entry.decision, reason: entry.reason, verbatim: true };
    return {
      decision: entry.decision,
      reason: `${verb(op.access)} ${p}, which the workspace policy protects ("${entry.pattern.source}")`,
    };
  }),
);
