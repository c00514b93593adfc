import type WebSocket from 'ws';
import type { BridgeClient } from './client.js';
import type { Event } from './events.js';
import { Routes } from './routes.js';
import { CloseCode, ServerMessage, type StreamFilter } from './ws.js';

export interface SubscribeOptions {
  /** Deliver events with seq greater than this (0: from the beginning). */
  after?: number;
  filter?: StreamFilter;
  onEvent: (event: Event) => void;
  onCaughtUp?: (seq: number) => void;
  /** A connection ended; `willRetry` says whether the subscription reconnects. */
  onDisconnect?: (info: { code: number; reason: string; willRetry: boolean }) => void;
  /** Reconnect after a drop (default true); a revoked session never reconnects. */
  reconnect?: boolean;
}

/** ws is loaded with the first subscription: programs that never subscribe (the bridge) never load it. */
let wsClass: typeof WebSocket | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadWs = (): typeof WebSocket => (wsClass ??= require('ws') as typeof WebSocket);

const NO_RETRY = new Set<number>([CloseCode.sessionRevoked, CloseCode.policy]);

/** One subscription over /v1/stream: catch-up, then live; resumes after the last seen seq on reconnect. */
export class StreamSubscription {
  private ws: WebSocket | undefined;
  private closed = false;
  private lastSeq: number;
  private backoffMs = 200;
  private readonly closedListeners: (() => void)[] = [];

  constructor(
    private readonly client: BridgeClient,
    private readonly opts: SubscribeOptions,
  ) {
    this.lastSeq = opts.after ?? 0;
  }

  /** Seq of the last event delivered. */
  get position(): number {
    return this.lastSeq;
  }

  onClosed(fn: () => void): void {
    this.closedListeners.push(fn);
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let headers: Record<string, string>;
    try {
      headers = await this.client.signedHeaders('GET', Routes.stream);
    } catch (e) {
      this.retry(0, e instanceof Error ? e.message : String(e));
      return;
    }
    if (this.closed) return;
    const url = new URL(Routes.stream, this.client.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new (loadWs())(url, { headers, maxPayload: 64 * 1024 * 1024 });
    this.ws = ws;
    ws.on('open', () => {
      this.backoffMs = 200;
      ws.send(JSON.stringify({ type: 'subscribe', id: 's', after: this.lastSeq, filter: this.opts.filter }));
    });
    ws.on('message', (data: Buffer) => {
      const msg = ServerMessage.safeParse(JSON.parse(data.toString('utf8')));
      if (!msg.success) return;
      const m = msg.data;
      if (m.type === 'event') {
        if (m.event.seq <= this.lastSeq) return;
        this.lastSeq = m.event.seq;
        this.opts.onEvent(m.event);
      } else if (m.type === 'caught-up') {
        this.opts.onCaughtUp?.(m.seq);
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      ws.terminate();
      // A bridge that restarted no longer knows the session: open a new one for the next try.
      if (res.statusCode === 401) this.client.forgetSession();
      this.retry(res.statusCode ?? 0, `upgrade refused with HTTP ${res.statusCode}`);
    });
    ws.on('error', () => {
      // 'close' follows and decides what to do
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.retry(code, reason.toString('utf8'));
    });
  }

  private retry(code: number, reason: string): void {
    const willRetry = !this.closed && this.opts.reconnect !== false && !NO_RETRY.has(code);
    this.opts.onDisconnect?.({ code, reason, willRetry });
    if (!willRetry) {
      if (!this.closed) this.close();
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 5_000);
    setTimeout(() => void this.connect(), delay).unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, 'client closed');
    for (const fn of this.closedListeners) fn();
  }
}
