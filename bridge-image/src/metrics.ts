/** A small Prometheus text-format registry: counters, gauges and histograms with labels. */

type Labels = Record<string, string>;
export const labelKey = (l: Labels) =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}="${String(l[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
const fmt = (name: string, key: string, v: number) =>
  `${name}${key ? `{${key}}` : ''} ${Number.isFinite(v) ? v : 0}`;

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    this.incKey(labelKey(labels), by);
  }
  /** For hot paths: labels formatted once with labelKey. */
  incKey(key: string, by = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(fmt(this.name, '', 0));
    for (const [k, v] of this.values) lines.push(fmt(this.name, k, v));
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}
  render(): string {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      fmt(this.name, '', this.read()),
    ].join('\n');
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {}
  observe(value: number, labels: Labels = {}): void {
    this.observeKey(value, labelKey(labels));
  }
  /** For hot paths: labels formatted once with labelKey. */
  observeKey(value: number, k: string): void {
    let s = this.series.get(k);
    if (!s) {
      s = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(fmt(`${this.name}_sum`, k, s.sum));
      lines.push(fmt(`${this.name}_count`, k, s.count));
    }
    return lines.join('\n');
  }
}

const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export interface GaugeSources {
  activeSessions: () => number;
  connectedAgents: () => number;
  storeBytes: () => number;
  lastSeq: () => number;
  wsConnections: () => number;
  wsBufferedBytes: () => number;
}

/** The bridge's metrics, all prefixed `lighthouse_`. */
export class BridgeMetrics {
  readonly requests = new Counter(
    'lighthouse_http_requests_total',
    'HTTP requests by route, method and status.',
  );
  readonly requestDuration = new Histogram(
    'lighthouse_http_request_duration_seconds',
    'HTTP request duration by route.',
    LATENCY_BUCKETS,
  );
  readonly eventsAppended = new Counter('lighthouse_events_appended_total', 'Events appended to the store.');
  readonly appendLatency = new Histogram(
    'lighthouse_append_latency_seconds',
    'Time from an append being queued to its commit being durable.',
    LATENCY_BUCKETS,
  );
  readonly commitBatch = new Histogram(
    'lighthouse_group_commit_appends',
    'Appends committed per transaction.',
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
  );
  readonly securityEvents = new Counter(
    'lighthouse_security_events_total',
    'Security refusals by kind, every one (recorded one by one or summarised).',
  );
  readonly connectionsDropped = new Counter(
    'lighthouse_http_connections_dropped_total',
    'Connections closed at once because --max-connections were open.',
  );
  readonly securitySuppressed = new Counter(
    'lighthouse_security_events_summarised_total',
    'Security refusals beyond the recording rate, kept only in security.suppressed summaries, by kind.',
  );
  private readonly all: { render(): string }[];

  constructor(g: GaugeSources) {
    this.all = [
      this.requests,
      this.requestDuration,
      this.eventsAppended,
      this.appendLatency,
      this.commitBatch,
      this.securityEvents,
      this.securitySuppressed,
      this.connectionsDropped,
      new Gauge('lighthouse_sessions_active', 'Open sessions.', g.activeSessions),
      new Gauge('lighthouse_agents_connected', 'Agents with a live WebSocket connection.', g.connectedAgents),
      new Gauge('lighthouse_ws_connections', 'Open WebSocket connections.', g.wsConnections),
      new Gauge('lighthouse_ws_buffered_bytes', 'Bytes queued for WebSocket clients.', g.wsBufferedBytes),
      new Gauge(
        'lighthouse_store_size_bytes',
        'Size of the event store on disk (database and WAL).',
        g.storeBytes,
      ),
      new Gauge('lighthouse_last_seq', 'Sequence number of the newest event.', g.lastSeq),
      new Gauge('lighthouse_process_resident_memory_bytes', 'Resident set size of the bridge.', () =>
        process.memoryUsage.rss(),
      ),
    ];
  }

  render(): string {
    return this.all.map((m) => m.render()).join('\n') + '\n';
  }
}
