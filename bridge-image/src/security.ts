import type { SecurityKind } from '../protocol/index.js';
import type { Logger } from './log.js';
import type { BridgeMetrics } from './metrics.js';
import type { EventStore } from './store/event-store.js';
import { TokenBucket } from './auth/rate-limiter.js';

export interface SecurityDetails {
  agentId?: string | undefined;
  sessionId?: string | undefined;
  route?: string;
  method?: string;
  remote?: string | undefined;
  reason: string;
  [k: string]: unknown;
}

/** What a summary keeps of the refusals it stands for: who, where, from where, why. */
interface Sample {
  agentId: string;
  /** Who an unverified request said it was (see pipeline.ts claims). */
  claimedAgent?: string;
  route: string | null;
  remote: string | null;
  reason: string;
}

interface Suppressed {
  count: number;
  samples: Sample[];
  /** Keys of the samples, so each one is distinct. */
  keys: Set<string>;
}

/** The type of the summary event of refusals not recorded one by one. */
export const SUPPRESSED_TYPE = 'security.suppressed';
/** Distinct samples kept per kind and window. */
export const SAMPLES_PER_KIND = 5;
/** How long a window of suppressed refusals lasts before its summary is recorded. */
export const SUMMARY_INTERVAL_MS = 5_000;

/**
 * Records every security refusal as a `security.<kind>` event. A flood of refusals must not become
 * a flood of writes (or log lines), so recording is rate-limited per kind (50/s, bursts of 200).
 * What the limit holds back is not lost: per kind its count and the first few distinct samples are
 * kept, and recorded as one `security.suppressed` event per window (every 5 s while anything is
 * held back, and at shutdown). The metric counts every refusal, recorded or summarised.
 */
export class SecurityRecorder {
  private readonly buckets = new Map<string, TokenBucket>();
  private suppressed = new Map<SecurityKind, Suppressed>();
  private windowStart = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly writes = new Set<Promise<unknown>>();

  constructor(
    private readonly store: EventStore,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
    private readonly intervalMs = SUMMARY_INTERVAL_MS,
  ) {}

  record(kind: SecurityKind, details: SecurityDetails): void {
    this.metrics.securityEvents.inc({ kind });
    let b = this.buckets.get(kind);
    if (!b) {
      b = new TokenBucket(50, 200);
      this.buckets.set(kind, b);
    }
    if (!b.take()) {
      this.suppress(kind, details);
      return;
    }
    // Logged at the same rate as recorded: a flood of refusals must not become a flood of log lines.
    this.log.warn(`security: ${kind}`, details);
    this.write(`security.${kind}`, details.agentId ?? 'unknown', details);
  }

  private suppress(kind: SecurityKind, d: SecurityDetails): void {
    this.metrics.securitySuppressed.inc({ kind });
    if (this.suppressed.size === 0) this.windowStart = Date.now();
    let s = this.suppressed.get(kind);
    if (!s) this.suppressed.set(kind, (s = { count: 0, samples: [], keys: new Set() }));
    s.count++;
    if (s.samples.length < SAMPLES_PER_KIND) {
      const sample: Sample = {
        agentId: d.agentId ?? 'unknown',
        ...(typeof d.claimedAgent === 'string' ? { claimedAgent: d.claimedAgent } : {}),
        route: d.route ?? null,
        remote: d.remote ?? null,
        reason: d.reason.slice(0, 300),
      };
      const key = JSON.stringify(sample);
      if (!s.keys.has(key)) {
        s.keys.add(key);
        s.samples.push(sample);
      }
    }
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Records the summary of what was held back since the last one, if anything was. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed.size === 0) return;
    const kinds: Record<string, { count: number; samples: Sample[] }> = {};
    let total = 0;
    for (const [kind, s] of this.suppressed) {
      kinds[kind] = { count: s.count, samples: s.samples };
      total += s.count;
    }
    this.suppressed = new Map();
    const data = {
      window: { from: new Date(this.windowStart).toISOString(), to: new Date().toISOString() },
      total,
      kinds,
      note:
        'refusals beyond the recording rate (50/s per kind): counted exactly, the first few distinct ' +
        `ones (at most ${SAMPLES_PER_KIND} per kind) kept as samples, the rest not recorded one by one`,
    };
    this.log.warn('security: refusals summarised', { total, kinds: Object.keys(kinds) });
    this.write(SUPPRESSED_TYPE, 'bridge', data);
  }

  private write(type: string, agentId: string, data: object): void {
    if (!this.store.isOpen) return;
    const p = this.store
      .append({ stream: 'security', agentId, events: [{ type, data }] })
      .catch((e: Error) => this.log.error('could not record a security event', { err: e, type }));
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p));
  }

  /** At shutdown, before the store closes: the last summary, and every record still being written. */
  async close(): Promise<void> {
    this.flush();
    await Promise.all([...this.writes]);
  }
}
