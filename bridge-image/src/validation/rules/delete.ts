/** Recursive deletes of roots: `rm -rf /`, `rm -rf ~`, `rm -rf *` at the workspace root, `find / -delete`. */
import { commandName, type Arg, type Command } from '../command-model.js';
import { resolvePath } from '../glob.js';
import { defineRule, firstOf, type RuleEnv } from './rule.js';
import { isWholeDirectory, protectedRoot } from './roots.js';

/** Tests that narrow what find matches; without one, `-delete` removes the whole tree. */
const NARROWING = new Set([
  '-name',
  '-iname',
  '-path',
  '-ipath',
  '-wholename',
  '-iwholename',
  '-regex',
  '-iregex',
  '-lname',
  '-ilname',
  '-mtime',
  '-mmin',
  '-atime',
  '-amin',
  '-ctime',
  '-cmin',
  '-newer',
  '-size',
  '-user',
  '-group',
  '-uid',
  '-gid',
  '-empty',
  '-perm',
  '-links',
  '-inum',
  '-samefile',
  '-nouser',
  '-nogroup',
  '-newermt',
]);

interface FindDelete {
  roots: Arg[];
  narrowed: boolean;
}

/** `find ROOTS… EXPR` when EXPR deletes (`-delete`, `-exec rm …`), else null. */
export function findDelete(cmd: Command): FindDelete | null {
  if (commandName(cmd.args) !== 'find') return null;
  const args = cmd.args.slice(1);
  let i = 0;
  while (i < args.length && /^-[HLP]$|^-O\d$|^-D$/.test(args[i]?.text ?? ''))
    i += args[i]?.text === '-D' ? 2 : 1;
  const roots: Arg[] = [];
  for (; i < args.length; i++) {
    const t = (args[i] as Arg).text;
    if (t.startsWith('-') || t === '(' || t === '!' || t === ',') break;
    roots.push(args[i] as Arg);
  }
  const expr = args.slice(i).map((a) => a.text);
  let deletes = expr.includes('-delete');
  expr.forEach((t, j) => {
    if (
      (t === '-exec' || t === '-execdir' || t === '-ok') &&
      /^(?:rm|shred|unlink|rmdir)$/.test(expr[j + 1] ?? '')
    ) {
      deletes = true;
    }
  });
  if (!deletes) return null;
  return {
    roots: roots.length ? roots : [{ ...(cmd.args[0] as Arg), text: '.', worst: '.' }],
    narrowed: expr.some((t) => NARROWING.has(t)),
  };
}

function rmTargets(cmd: Command): Arg[] {
  if (commandName(cmd.args) !== 'rm') return [];
  let recursive = false;
  const targets: Arg[] = [];
  let ended = false;
  for (const a of cmd.args.slice(1)) {
    if (!ended && a.text === '--') ended = true;
    else if (!ended && a.text.startsWith('--')) recursive ||= a.text === '--recursive';
    else if (!ended && a.text.startsWith('-') && a.text.length > 1) recursive ||= /[rR]/.test(a.text);
    else targets.push(a);
  }
  return recursive ? targets : [];
}

function rootHit(arg: Arg, cmd: Command, env: RuleEnv): string | null {
  if (!arg.exact) return null;
  const abs = resolvePath(arg.text, cmd.cwd);
  if (abs === null) return null;
  const what = protectedRoot(abs, env.workspace, env.home);
  return what ? `recursively deletes ${what} (${abs})` : null;
}

export const recursiveDeleteRoot = defineRule('recursive-delete-root', 0.98, (s, env) => {
  if (s.kind !== 'command') return null;
  const cmd = s.command;
  const rmHit = firstOf(rmTargets(cmd), (a) => rootHit(a, cmd, env));
  if (rmHit) return rmHit;
  const find = findDelete(cmd);
  if (!find || find.narrowed) return null;
  return firstOf(find.roots, (a) => {
    const hit = rootHit(a, cmd, env);
    return hit ? `find … -delete ${hit.replace('recursively deletes', 'deletes everything in')}` : null;
  });
});

/** When a target's value is unknown, judge what it would be if the unknown parts were empty. */
function unresolvedHit(arg: Arg, cmd: Command, env: RuleEnv): string | null {
  if (arg.exact) {
    if (cmd.cwd === null && isWholeDirectory(arg.text)) {
      return `recursively deletes \`${arg.text}\` in a directory that cannot be determined from the command`;
    }
    return null;
  }
  if (arg.worst === '') return null;
  const abs = resolvePath(arg.worst, cmd.cwd);
  if (abs === null) return null;
  const what = protectedRoot(abs, env.workspace, env.home);
  return what ? `recursively deletes \`${arg.text}\`, which is ${what} if the unknown part is empty` : null;
}

export const recursiveDeleteUnresolved = defineRule('recursive-delete-unresolved', 0.7, (s, env) => {
  if (s.kind !== 'command') return null;
  const cmd = s.command;
  const hit = firstOf(rmTargets(cmd), (a) => unresolvedHit(a, cmd, env));
  if (hit) return hit;
  const find = findDelete(cmd);
  if (!find) return null;
  return firstOf(find.roots, (a) => {
    if (!a.exact) return unresolvedHit(a, cmd, env);
    const abs = resolvePath(a.text, cmd.cwd);
    const what = abs && protectedRoot(abs, env.workspace, env.home, true);
    return what ? `find … -delete over ${what} (${abs}), even with filters` : null;
  });
});
