/**
 * A bounded LRU of earlier decisions. Agents repeat themselves (`npm test`, `git status`),
 * so most validations are answered from here. Entries are only valid for the policy,
 * workspace and home they were decided under; a change of any of them empties the cache.
 */
import { createHash } from 'node:crypto';
import type { ValidationResult } from '../../protocol/validation.js';
import type { Policy } from './policy.js';

/** Keys longer than this are hashed, so a 1 MB Write does not sit in memory as a key. */
const MAX_KEY_CHARS = 1024;

export interface CacheStats {
  size: number;
  capacity: number;
  hits: number;
  misses: number;
  evictions: number;
  /** Hits over lookups, 0 before the first lookup. */
  hitRate: number;
}

interface Entry {
  result: ValidationResult;
  hits: number;
}

export class DecisionCache {
  private readonly entries = new Map<string, Entry>();
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private owner: { policy: Policy; workspace: string; home: string } | null = null;

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('cache capacity must be a positive integer');
  }

  /** Empties the cache when the decisions would be made under different rules. */
  bind(policy: Policy, workspace: string, home: string): void {
    const o = this.owner;
    if (o && o.policy === policy && o.workspace === workspace && o.home === home) return;
    this.entries.clear();
    this.owner = { policy, workspace, home };
  }

  get(key: string): ValidationResult | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    entry.hits++;
    // Re-inserting moves the entry to the young end of the Map's insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.result;
  }

  set(key: string, result: ValidationResult): void {
    if (this.entries.has(key)) this.entries.delete(key);
    else if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
        this.evictions++;
      }
    }
    this.entries.set(key, { result, hits: 0 });
  }

  /** How often one key was answered from the cache; undefined when it is not cached. */
  hitsFor(key: string): number | undefined {
    return this.entries.get(key)?.hits;
  }

  /** The most-hit entries, for a status view. */
  top(n: number): Array<{ key: string; hits: number; result: ValidationResult }> {
    return [...this.entries]
      .map(([key, e]) => ({ key, hits: e.hits, result: e.result }))
      .sort((a, b) => b.hits - a.hits)
      .slice(0, n);
  }

  stats(): CacheStats {
    const lookups = this.hits + this.misses;
    return {
      size: this.entries.size,
      capacity: this.capacity,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      hitRate: lookups ? this.hits / lookups : 0,
    };
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The cache key of a call: tool, directory, and the input with object keys in a fixed order. */
export function cacheKey(tool: string, normalizedInput: string, cwd: string): string {
  const key = `${tool}\u0000${cwd}\u0000${normalizedInput}`;
  return key.length > MAX_KEY_CHARS ? `#${createHash('sha256').update(key).digest('base64')}` : key;
}

export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const obj = v as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`)
    .join(',')}}`;
}
