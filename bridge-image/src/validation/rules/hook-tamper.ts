/**
 * Switching Lighthouse off: editing the hook out of Claude Code's settings, editing the
 * policy, starting Claude Code with permissions skipped, overriding LIGHTHOUSE_*
 * variables, or killing the bridge.
 */
import { commandName } from '../command-model.js';
import { hookControlKind } from '../sensitive-paths.js';
import { defineRule, firstOf, type RuleHit } from './rule.js';

const SKIP_FLAGS = /^--(?:allow-)?dangerously-skip-permissions\b|^--permission-mode=bypassPermissions$/;
const LAUNCHERS = new Set(['claude', 'npx', 'bunx', 'pnpx', 'pnpm', 'yarn', 'npm', 'node', 'alias', 'exec']);
const DECLARERS = new Set(['export', 'unset', 'declare', 'typeset', 'readonly', 'local']);
/** Text in a settings edit that touches the hook or the permission system. */
const HOOK_TEXT = /hooks|disableAllHooks|PreToolUse|lighthouse|bypassPermissions|dangerously/i;
const LIGHTHOUSE_VAR = /^LIGHTHOUSE_[A-Z0-9_]*/;

export const hookTamper = defineRule('hook-tamper', 0.97, (s, env): RuleHit | string | null => {
  const fileHit = firstOf(s.ops, (op): RuleHit | null => {
    if (op.access === 'read' || op.path === null) return null;
    const kind = hookControlKind(op.path, env.workspace, env.home);
    if (!kind) return null;
    const reason = `changes ${kind} (${op.path}), which would let agents switch Lighthouse's checks off; ask the developer to make this change`;
    // A file tool's edit can be read: an edit that leaves hooks and permissions alone is only reviewed.
    if (
      s.kind === 'tool' &&
      kind.startsWith('Claude Code settings') &&
      !s.texts.some((t) => HOOK_TEXT.test(t))
    ) {
      return { decision: 'escalate', reason };
    }
    return { reason };
  });
  if (fileHit || s.kind !== 'command') return fileHit;
  const cmd = s.command;
  const name = commandName(cmd.args);
  for (const [k] of cmd.env) {
    if (LIGHTHOUSE_VAR.test(k)) return `overrides ${k}, which configures the Lighthouse hook`;
  }
  const rest = cmd.args.slice(1).map((a) => a.text);
  if (DECLARERS.has(name)) {
    const v = rest.find((t) => LIGHTHOUSE_VAR.test(t));
    if (v) return `changes ${v.split('=')[0]} (with ${name}), a variable that configures the Lighthouse hook`;
  }
  if (LAUNCHERS.has(name) || name.includes('claude')) {
    const flag = rest.find(
      (t, i) => SKIP_FLAGS.test(t) || (t === '--permission-mode' && rest[i + 1] === 'bypassPermissions'),
    );
    const aliased =
      name === 'alias' && rest.some((t) => /dangerously-skip-permissions|bypassPermissions/.test(t));
    if (flag || aliased)
      return 'starts Claude Code with permission checks (and so the Lighthouse hook) skipped';
  }
  if ((name === 'pkill' || name === 'killall') && rest.some((t) => /lighthouse/i.test(t))) {
    return 'stops the Lighthouse bridge or hook';
  }
  if (
    name === 'kill' &&
    cmd.args.some((a) => a.subs.some((c) => c.argv.some((t) => /lighthouse/i.test(t))))
  ) {
    return 'stops the Lighthouse bridge or hook';
  }
  return null;
});
