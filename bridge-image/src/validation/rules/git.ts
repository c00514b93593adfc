/** Force pushes and branch deletions on protected branches (main, master, release/* unless configured). */
import { commandName, type Arg, type Command } from '../command-model.js';
import { parseOptions, hasAny, valueOf } from '../options.js';
import type { Policy } from '../policy.js';
import { defineRule } from './rule.js';

const GIT_VALUE_OPTS = new Set([
  '-C',
  '-c',
  '--git-dir',
  '--work-tree',
  '--namespace',
  '--config-env',
  '--exec-path',
]);

export interface PushTarget {
  /** The remote branch, null when it is the current branch or cannot be known. */
  branch: string | null;
  force: boolean;
  deletes: boolean;
}

export interface GitPush {
  targets: PushTarget[];
  /** `--all`, `--mirror`, `--branches`: every local branch, so the protected ones too. */
  everyBranch: boolean;
  force: boolean;
  dryRun: boolean;
}

/** The push a `git … push …` command makes, or null for any other command. */
export function gitPush(cmd: Command): GitPush | null {
  if (commandName(cmd.args) !== 'git') return null;
  let i = 1;
  while (i < cmd.args.length) {
    const t = (cmd.args[i] as Arg).text;
    if (!t.startsWith('-')) break;
    i += GIT_VALUE_OPTS.has(t) ? 2 : 1;
  }
  if (cmd.args[i]?.text !== 'push') return null;
  const p = parseOptions(cmd.args, i + 1, {
    withValue: ['-o', '--push-option', '--repo', '--receive-pack', '--exec'],
  });
  const force = hasAny(p, '-f', '--force', '--force-with-lease', '--mirror');
  const deleteFlag = hasAny(p, '-d', '--delete');
  const refspecs = valueOf(p, '--repo').length ? p.operands : p.operands.slice(1);
  const targets = refspecs.map((r) => target(r, force, deleteFlag));
  if (!refspecs.length) targets.push({ branch: null, force, deletes: deleteFlag });
  return {
    targets,
    // A wildcard refspec (`refs/heads/*:refs/heads/*`) pushes every branch too.
    everyBranch: hasAny(p, '--all', '--mirror', '--branches') || targets.some((t) => t.branch?.includes('*')),
    force,
    dryRun: hasAny(p, '-n', '--dry-run'),
  };
}

function target(refspec: Arg, force: boolean, deleteFlag: boolean): PushTarget {
  if (!refspec.exact) return { branch: null, force, deletes: deleteFlag };
  const plus = refspec.text.startsWith('+');
  const body = plus ? refspec.text.slice(1) : refspec.text;
  const colon = body.indexOf(':');
  const src = colon === -1 ? body : body.slice(0, colon);
  let dst = colon === -1 ? src : body.slice(colon + 1);
  dst = dst.replace(/^refs\/heads\//, '');
  const branch = dst === 'HEAD' || dst === '@' || dst === '' ? null : dst;
  return { branch, force: force || plus, deletes: deleteFlag || (colon !== -1 && src === '') };
}

export const isProtectedBranch = (policy: Policy, branch: string): string | null =>
  policy.protectedBranches.find((b) => b.re.test(branch))?.source ?? null;

export const gitForcePushProtected = defineRule('git-force-push-protected', 0.97, (s, env) => {
  if (s.kind !== 'command') return null;
  const push = gitPush(s.command);
  if (!push || push.dryRun) return null;
  if (push.force && push.everyBranch) {
    return 'force-pushes every branch (--all/--mirror), protected ones included; push the branches you mean without force';
  }
  if (push.targets.some((t) => t.force && !t.deletes && t.branch?.includes('*'))) {
    return 'force-pushes every branch matching a wildcard refspec, protected ones included';
  }
  for (const t of push.targets) {
    if (!t.force || t.deletes || t.branch === null) continue;
    const rule = isProtectedBranch(env.policy, t.branch);
    if (rule) {
      return `force-pushes to the protected branch "${t.branch}" (protected by "${rule}"), which can destroy commits others rely on; push to a feature branch and open a pull request`;
    }
  }
  return null;
});

export const gitDeleteProtectedBranch = defineRule('git-delete-protected-branch', 0.97, (s, env) => {
  if (s.kind !== 'command') return null;
  const push = gitPush(s.command);
  if (!push || push.dryRun) return null;
  for (const t of push.targets) {
    const rule = t.deletes && t.branch !== null ? isProtectedBranch(env.policy, t.branch) : null;
    if (rule) return `deletes the protected branch "${t.branch}" on the remote (protected by "${rule}")`;
  }
  return null;
});

export const gitForcePushUnknownBranch = defineRule('git-force-push-unknown-branch', 0.6, (s) => {
  if (s.kind !== 'command') return null;
  const push = gitPush(s.command);
  if (!push || push.dryRun) return null;
  if (push.targets.some((t) => t.force && !t.deletes && t.branch === null)) {
    return 'force-pushes a branch that cannot be seen in the command (the current branch or a variable), which may be protected; name the branch explicitly';
  }
  return null;
});
