/**
 * The fast-path validation engine. Wiring it into a route takes a policy (loaded or
 * watched), a cache, and one call per request:
 *
 *   const watcher = watchPolicy(workspace, { onError: (e) => log.warn(e.message) });
 *   const cache = new DecisionCache();
 *   const result = validate(request, { workspace, policy: watcher.current, cache });
 */
export {
  validate,
  type ValidationContext,
  type ValidationInput,
  type ValidationOutcome,
} from './validate.js';
export { DecisionCache, cacheKey, stableStringify, type CacheStats } from './decision-cache.js';
export {
  compilePolicy,
  parsePolicy,
  parsePolicyText,
  DEFAULT_POLICY,
  PolicyError,
  type Policy,
  type CompiledPolicyRule,
  type ProtectedPathEntry,
} from './policy.js';
export { PolicyFile, DEFAULT_PROTECTED_BRANCHES, type PolicyFileInput } from './policy-schema.js';
export {
  loadPolicy,
  readPolicyFile,
  policyFile,
  watchPolicy,
  type PolicyWatcher,
  type PolicyWatchOptions,
} from './policy-loader.js';
export { analyzeShell, type AnalyzeOptions } from './shell-analysis.js';
export type { Analysis, Arg, Command, FunctionDef, Redirection } from './command-model.js';
export { RULE_CATALOG, BUILTIN_RULE_IDS, type RuleInfo } from './rules/catalog.js';
