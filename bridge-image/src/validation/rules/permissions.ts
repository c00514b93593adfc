/** Recursive permission changes: world-writable trees, and chmod/chown of roots. */
import { commandName } from '../command-model.js';
import { chmodArgs } from '../file-ops.js';
import { defineRule, firstOf } from './rule.js';
import { protectedRoot } from './roots.js';

/** Whether a chmod mode (octal or symbolic) gives write permission to others. */
export function grantsWorldWrite(mode: string): boolean {
  if (/^[0-7]{1,4}$/.test(mode)) return (Number(mode[mode.length - 1]) & 2) !== 0;
  for (const clause of mode.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(clause);
    if (!m) continue;
    const who = m[1] as string;
    // Without a "who", bash's umask keeps "others" out in practice; only explicit o/a counts.
    if (!who.includes('o') && !who.includes('a')) continue;
    for (const action of (m[2] as string).matchAll(/([-+=])([rwxXstugo]*)/g)) {
      if (action[1] !== '-' && (action[2] as string).includes('w')) return true;
    }
  }
  return false;
}

export const chmodRecursiveWorldWritable = defineRule('chmod-recursive-world-writable', 0.95, (s) => {
  if (s.kind !== 'command' || commandName(s.command.args) !== 'chmod') return null;
  const { recursive, mode } = chmodArgs(s.command.args);
  if (!recursive || !mode || !mode.exact || !grantsWorldWrite(mode.text)) return null;
  return `makes a whole tree writable by every user on the machine (chmod -R ${mode.text}); grant only what is needed, e.g. chmod -R u+w or 755`;
});

export const recursivePermissionRoot = defineRule('recursive-permission-root', 0.95, (s, env) => {
  if (s.kind !== 'command') return null;
  const name = commandName(s.command.args);
  if (name !== 'chmod' && name !== 'chown' && name !== 'chgrp') return null;
  return firstOf(s.ops, (op) => {
    if (!op.recursive || op.path === null) return null;
    const what = protectedRoot(op.path, env.workspace, env.home, true);
    return what ? `recursively changes ownership or permissions of ${what} (${op.path})` : null;
  });
});
