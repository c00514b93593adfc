/**
 * The ids and meaning of every built-in rule, kept apart from their code so the policy
 * schema can check `disabledRules` without loading the rules.
 */
export interface RuleInfo {
  id: string;
  description: string;
  decision: 'blocked' | 'escalate';
}

export const RULE_CATALOG: readonly RuleInfo[] = [
  {
    id: 'fork-bomb',
    decision: 'blocked',
    description: 'Fork bombs: a function that pipes into or backgrounds itself.',
  },
  {
    id: 'recursive-delete-root',
    decision: 'blocked',
    description: 'Recursive deletes of /, /*, the home directory, the workspace root, system directories.',
  },
  {
    id: 'recursive-delete-unresolved',
    decision: 'escalate',
    description:
      'Recursive deletes that would hit /, home or the workspace root if a variable were empty or the directory were not what it seems.',
  },
  {
    id: 'disk-overwrite',
    decision: 'blocked',
    description: 'Writes to raw block devices (dd of=/dev/sda, > /dev/nvme0n1).',
  },
  {
    id: 'disk-format',
    decision: 'blocked',
    description: 'Formatting or repartitioning disks (mkfs, wipefs, parted).',
  },
  {
    id: 'chmod-recursive-world-writable',
    decision: 'blocked',
    description:
      'Recursive permission changes that make files writable by everyone (chmod -R 777, -R a+rwx).',
  },
  {
    id: 'recursive-permission-root',
    decision: 'blocked',
    description: 'Recursive chmod/chown/chgrp of /, the home directory or system directories.',
  },
  {
    id: 'remote-script-exec',
    decision: 'blocked',
    description:
      'Running a downloaded script: curl … | sh, bash <(curl …), sh -c "$(curl …)", download then run.',
  },
  {
    id: 'git-force-push-protected',
    decision: 'blocked',
    description: 'Force pushes (--force, -f, --force-with-lease, +refspec, --mirror) to protected branches.',
  },
  {
    id: 'git-delete-protected-branch',
    decision: 'blocked',
    description: 'Deleting a protected branch on a remote (git push --delete main, git push origin :main).',
  },
  {
    id: 'git-force-push-unknown-branch',
    decision: 'escalate',
    description:
      'Force pushes whose target branch cannot be seen in the command (the current branch, a variable).',
  },
  {
    id: 'hook-tamper',
    decision: 'blocked',
    description:
      'Switching the Lighthouse hook or policy off: editing .claude/settings*.json hooks or .lighthouse/, --dangerously-skip-permissions, overriding LIGHTHOUSE_* variables.',
  },
  {
    id: 'read-secret',
    decision: 'blocked',
    description: 'Reading secrets: .env files, private keys, credential files.',
  },
  {
    id: 'write-secret',
    decision: 'blocked',
    description: 'Writing, moving or deleting .env files, keys and credential files.',
  },
  {
    id: 'protected-path',
    decision: 'escalate',
    description: 'Writes to paths the workspace policy protects (decision per entry).',
  },
  {
    id: 'native-write-outside-shadow',
    decision: 'blocked',
    description:
      "Native writes, moves and deletes in the project outside the agent's shadow (when the hook confines them); the reason names the Lighthouse tool to use.",
  },
  {
    id: 'write-outside-workspace',
    decision: 'blocked',
    description: 'Writes, moves and deletes outside the workspace, except paths the policy allows.',
  },
  {
    id: 'unparseable',
    decision: 'escalate',
    description:
      'Command lines that could not be followed completely (unterminated quotes, excessive nesting).',
  },
  {
    id: 'unrecognized-input',
    decision: 'escalate',
    description: 'A known tool called with an input of an unexpected shape.',
  },
];

export const BUILTIN_RULE_IDS: ReadonlySet<string> = new Set(RULE_CATALOG.map((r) => r.id));

export function ruleInfo(id: string): RuleInfo {
  const info = RULE_CATALOG.find((r) => r.id === id);
  if (!info) throw new Error(`no built-in rule "${id}"`);
  return info;
}
