/**
 * The built-in rules in the order that breaks ties: when several rules with the same
 * decision match one command, the earlier one names the reason.
 */
import { recursiveDeleteRoot, recursiveDeleteUnresolved } from './delete.js';
import { diskFormat, diskOverwrite } from './disk.js';
import { protectedPath, readSecret, writeOutsideWorkspace, writeSecret } from './files.js';
import { forkBomb } from './fork-bomb.js';
import { gitDeleteProtectedBranch, gitForcePushProtected, gitForcePushUnknownBranch } from './git.js';
import { hookTamper } from './hook-tamper.js';
import { nativeWriteOutsideShadow } from './isolation.js';
import { chmodRecursiveWorldWritable, recursivePermissionRoot } from './permissions.js';
import { remoteScriptExec } from './remote-exec.js';
import type { BuiltinRule } from './rule.js';

export const BUILTIN_RULES: readonly BuiltinRule[] = [
  forkBomb,
  recursiveDeleteRoot,
  diskOverwrite,
  diskFormat,
  remoteScriptExec,
  hookTamper,
  gitForcePushProtected,
  gitDeleteProtectedBranch,
  chmodRecursiveWorldWritable,
  recursivePermissionRoot,
  readSecret,
  writeSecret,
  nativeWriteOutsideShadow,
  writeOutsideWorkspace,
  protectedPath,
  recursiveDeleteUnresolved,
  gitForcePushUnknownBranch,
];

export { RULE_CATALOG, BUILTIN_RULE_IDS, type RuleInfo } from './catalog.js';
export type { BuiltinRule, RuleEnv, RuleHit, Subject, CommandSubject, ToolSubject } from './rule.js';
