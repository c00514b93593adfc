import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type * as Ws from 'ws';
import type { WebSocket, WebSocketServer } from 'ws';
import {
  ClientMessage,
  CloseCode,
  EventTypes,
  issuePath,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  tooDeepMessage,
  type Event,
  type StreamFilter,
} from '../../protocol/index.js';
import { AuthFailure } from '../auth/authenticator.js';
import { recordAuthFailure } from '../auth/refusal-record.js';
import type { Session } from '../auth/sessions.js';
import type { BridgeServices } from '../context.js';
import type { StoreQuery } from '../store/event-store.js';
import { answerAndClose } from '../http/socket-guards.js';

const PAGE = 500;

/**
 * ws is loaded with the first WebSocket connection, not at start: an idle bridge nobody streams from
 * keeps its memory. Synchronous, so that an upgrade is handled in the tick it was checked in.
 */
let wsModule: typeof Ws | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadWs = (): typeof Ws => (wsModule ??= require('ws') as typeof Ws);

interface Subscription {
  id: string;
  filter: StreamFilter | undefined;
  /** Highest seq examined; everything up to it has been sent or filtered out. */
  cursor: number;
  live: boolean;
  catchingUp: boolean;
}

interface Conn {
  ws: WebSocket;
  session: Session;
  subs: Map<string, Subscription>;
  alive: boolean;
  stalledSince: number | undefined;
}

const matches = (f: StreamFilter | undefined, e: Event): boolean => {
  if (!f) return true;
  if (
    f.types?.length &&
    !f.types.some((t) => (t.endsWith('*') ? e.type.startsWith(t.slice(0, -1)) : e.type === t))
  )
    return false;
  if (f.streams?.length && !f.streams.includes(e.stream)) return false;
  if (f.agents?.length && !f.agents.includes(e.agentId)) return false;
  return true;
};

/**
 * /v1/stream: authenticated on upgrade; each subscription replays from the store, then switches to
 * live in the same tick as its last read, so nothing is missed or sent twice. A consumer that falls
 * behind stops receiving live pushes and is fed from the store again as it drains; memory per
 * connection stays bounded by the high-water mark, and one stuck too long is disconnected.
 */
export class StreamServer {
  private wss: WebSocketServer | undefined;
  private readonly conns = new Set<Conn>();
  private readonly bySession = new Map<string, Set<Conn>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly svc: BridgeServices) {
    svc.store.onAppended((events) => this.publish(events));
    this.timer = setInterval(() => this.heartbeat(), svc.config.heartbeatIntervalMs);
    this.timer.unref();
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, code: string, message: string) => {
      const body = JSON.stringify({ error: { code, message } });
      answerAndClose(
        socket,
        `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Error'}\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    // Matched literally, as the HTTP pipeline matches paths: no URL object, which throws on "//[".
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
    if (pathname !== '/v1/stream') {
      refuse(404, 'not_found', `no WebSocket endpoint at ${pathname.slice(0, 200)}; use /v1/stream`);
      return;
    }
    let session: Session;
    try {
      session = this.svc.auth.verify({
        method: 'GET',
        url: req.url!,
        headers: req.headers,
        body: Buffer.alloc(0),
      });
    } catch (e) {
      if (!(e instanceof AuthFailure)) throw e;
      recordAuthFailure(this.svc.security, e, req, '/v1/stream');
      refuse(e.status, e.code, e.message);
      return;
    }
    if (session.sockets > 0) {
      const reason = 'two live WebSocket connections on one session';
      void this.svc.revoke(session, reason, 'hijack_suspected');
      refuse(401, 'session_revoked', `session revoked: ${reason}`);
      return;
    }
    this.wss ??= new (loadWs().WebSocketServer)({
      noServer: true,
      maxPayload: this.svc.config.wsMaxPayloadBytes,
    });
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, session));
  }

  private onConnection(ws: WebSocket, session: Session): void {
    const conn: Conn = { ws, session, subs: new Map(), alive: true, stalledSince: undefined };
    this.conns.add(conn);
    let set = this.bySession.get(session.id);
    if (!set) this.bySession.set(session.id, (set = new Set()));
    set.add(conn);
    session.sockets++;
    const firstForAgent = this.agentSockets(session.agentId) === 1;
    if (firstForAgent) this.recordPresence(session, EventTypes.agentConnected);
    ws.on('pong', () => (conn.alive = true));
    // A throw here would escape through ws's socket handler and end the process: it ends this
    // connection instead.
    ws.on('message', (data: Buffer, isBinary: boolean) =>
      this.guarded(conn, 'message', () => this.onMessage(conn, data, isBinary)),
    );
    ws.on('close', () => {
      this.conns.delete(conn);
      set.delete(conn);
      if (set.size === 0) this.bySession.delete(session.id);
      session.sockets--;
      session.lastSeenAt = Date.now();
      if (this.agentSockets(session.agentId) === 0 && this.svc.store.isOpen) {
        this.recordPresence(session, EventTypes.agentDisconnected);
      }
    });
    ws.on('error', (e) => this.svc.log.debug('websocket error', { err: e, agentId: session.agentId }));
  }

  /** Runs `fn`; an unexpected throw closes this connection (1011) and is logged, nothing more. */
  private guarded(conn: Conn, what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.svc.log.error(`websocket ${what} failed; connection closed`, {
        err: e,
        agentId: conn.session.agentId,
      });
      try {
        conn.ws.close(1011, 'internal error; see the bridge log');
      } catch {
        conn.ws.terminate();
      }
    }
  }

  private agentSockets(agentId: string): number {
    let n = 0;
    for (const c of this.conns) if (c.session.agentId === agentId) n++;
    return n;
  }

  private recordPresence(s: Session, type: string): void {
    this.svc.agents.seen(s.agentId);
    this.svc.store
      .append({
        stream: `agent:${s.agentId}`,
        agentId: s.agentId,
        events: [{ type, data: { sessionId: s.id } }],
      })
      .catch((e: Error) => this.svc.log.warn('could not record presence', { err: e }));
  }

  private send(conn: Conn, msg: unknown): void {
    conn.ws.send(JSON.stringify(msg));
  }

  private onMessage(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (!conn.session.bucket.take()) {
      void this.svc.revoke(conn.session, 'WebSocket message burst beyond the rate limit', 'rate_limited');
      return;
    }
    if (!isBinary && nestsDeeperThan(data)) {
      this.send(conn, {
        type: 'error',
        code: 'invalid_json',
        message: tooDeepMessage('message', MAX_JSON_DEPTH),
      });
      return;
    }
    let parsed: ReturnType<typeof ClientMessage.safeParse>;
    try {
      parsed = ClientMessage.safeParse(isBinary ? undefined : JSON.parse(data.toString('utf8')));
    } catch {
      this.send(conn, { type: 'error', code: 'invalid_json', message: 'message is not valid JSON' });
      return;
    }
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      this.send(conn, {
        type: 'error',
        code: 'invalid_request',
        message: `invalid message: ${(i && issuePath(i.path)) || 'message'}: ${i?.message}`,
      });
      return;
    }
    const m = parsed.data;
    if (m.type === 'unsubscribe') {
      conn.subs.delete(m.id);
      return;
    }
    if (conn.subs.size >= 16 && !conn.subs.has(m.id)) {
      this.send(conn, {
        type: 'error',
        sub: m.id,
        code: 'invalid_request',
        message: 'at most 16 subscriptions per connection',
      });
      return;
    }
    const sub: Subscription = { id: m.id, filter: m.filter, cursor: m.after, live: false, catchingUp: false };
    conn.subs.set(m.id, sub);
    this.catchUp(conn, sub);
  }

  private overHighWater(conn: Conn): boolean {
    return conn.ws.bufferedAmount > this.svc.config.wsHighWaterBytes;
  }

  /** Sends stored events after the cursor a page at a time, pausing while the socket is full. */
  private catchUp(conn: Conn, sub: Subscription): void {
    if (sub.catchingUp) return;
    sub.catchingUp = true;
    sub.live = false;
    const step = () => {
      if (conn.subs.get(sub.id) !== sub || conn.ws.readyState !== conn.ws.OPEN || !this.svc.store.isOpen) {
        sub.catchingUp = false;
        return;
      }
      if (this.overHighWater(conn)) {
        conn.stalledSince ??= Date.now();
        if (Date.now() - conn.stalledSince > this.svc.config.slowConsumerTimeoutMs) {
          this.svc.log.warn('slow consumer disconnected', {
            agentId: conn.session.agentId,
            sub: sub.id,
            cursor: sub.cursor,
          });
          conn.ws.close(
            CloseCode.slowConsumer,
            'slow consumer: not reading events; resubscribe from your last seq',
          );
          // A reader that does not read will not answer the close handshake either.
          setTimeout(() => conn.ws.terminate(), 1_000).unref();
          sub.catchingUp = false;
          return;
        }
        setTimeout(guardedStep, 10);
        return;
      }
      conn.stalledSince = undefined;
      const f = sub.filter;
      const q: StoreQuery = {
        after: sub.cursor,
        limit: PAGE,
        types: f?.types,
        streams: f?.streams,
        agents: f?.agents,
      };
      const page = this.svc.store.query(q);
      let full = false;
      for (const e of page.events) {
        this.send(conn, { type: 'event', sub: sub.id, event: e });
        sub.cursor = e.seq;
        if ((full = this.overHighWater(conn))) break;
      }
      if (full || page.nextCursor !== null) {
        setImmediate(guardedStep);
        return;
      }
      // Reached the head in this very tick: no commit can happen in between, so going live here
      // leaves no gap, and the cursor keeps the live path from sending anything twice.
      sub.cursor = this.svc.store.lastSeq;
      sub.live = true;
      sub.catchingUp = false;
      this.send(conn, { type: 'caught-up', sub: sub.id, seq: sub.cursor });
    };
    // Steps run from timers, where a throw would end the process.
    const guardedStep = () =>
      this.guarded(conn, 'catch-up', () => {
        try {
          step();
        } catch (e) {
          sub.catchingUp = false;
          throw e;
        }
      });
    guardedStep();
  }

  private publish(events: Event[]): void {
    // Called from the store's commit: a throw for one connection must reach neither the others nor it.
    for (const conn of this.conns) this.guarded(conn, 'push', () => this.push(conn, events));
  }

  private push(conn: Conn, events: Event[]): void {
    for (const sub of conn.subs.values()) {
      if (!sub.live) continue;
      for (const e of events) {
        if (e.seq <= sub.cursor) continue;
        if (this.overHighWater(conn)) {
          // Stop pushing; the rest is read back from the store as the reader drains.
          this.catchUp(conn, sub);
          break;
        }
        sub.cursor = e.seq;
        if (matches(sub.filter, e)) this.send(conn, { type: 'event', sub: sub.id, event: e });
      }
    }
  }

  /** Bytes queued for WebSocket clients, all connections together. */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.conns) n += c.ws.bufferedAmount;
    return n;
  }

  private heartbeat(): void {
    for (const conn of this.conns) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  /** Closes every connection of a session (it was revoked or ended). */
  closeSession(sessionId: string, code: number, reason: string): void {
    for (const conn of this.bySession.get(sessionId) ?? []) conn.ws.close(code, reason);
  }

  closeAll(code: number, reason: string): void {
    clearInterval(this.timer);
    for (const conn of this.conns) conn.ws.close(code, reason);
  }

  /** Forcibly drops what did not close in time. */
  terminateAll(): void {
    for (const conn of this.conns) conn.ws.terminate();
    this.wss?.close();
  }
}
