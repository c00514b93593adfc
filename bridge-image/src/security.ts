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

/**
 * Records every security refusal as a `security.<kind>` event. A flood of refusals must not become
 * a flood of writes (or log lines), so recording is rate-limited per kind; what is dropped is counted and the
 * count is recorded with the next event of that kind that gets through.
 */
export class SecurityRecorder {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly store: EventStore,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {}

  record(kind: SecurityKind, details: SecurityDetails): void {
    this.metrics.securityEvents.inc({ kind });
    let b = this.buckets.get(kind);
    if (!b) {
      b = new TokenBucket(50, 200);
      this.buckets.set(kind, b);
    }
    if (!b.take()) {
      this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
      return;
    }
    const dropped = this.suppressed.get(kind) ?? 0;
    this.suppressed.delete(kind);
    const data = dropped ? { ...details, suppressedBefore: dropped } : details;
    // Logged at the same rate as recorded: a flood of refusals must not become a flood of log lines.
    this.log.warn(`security: ${kind}`, data);
    if (!this.store.isOpen) return;
    this.store
      .append({
        stream: 'security',
        agentId: details.agentId ?? 'unknown',
        events: [{ type: `security.${kind}`, data }],
      })
      .catch((e: Error) => this.log.error('could not record a security event', { err: e, kind }));
  }
}
