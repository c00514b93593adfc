import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { AgentRegisterRequest } from './agents.js';
import { AgentList, HeartbeatResponse } from './agents.js';
import { BridgeError } from './errors.js';
import { Expert, ExpertList, ExpertRemoved, type NameExpertRequest } from './experts.js';
import type { AppendRequest, EventQuery } from './events.js';
import { AppendResponse, BlobPut, EventPage } from './events.js';
import { receiveRaw, sendRaw, errorFromResponse, type RawResponse } from './http-transport.js';
import { Routes } from './routes.js';
import { SessionInfo, SessionList, type Role, type SessionOpenRequest } from './sessions.js';
import { deriveSessionKey, Headers, signRequest } from './signing.js';
import { Annotation, AnnotationList, type AnnotationRequest } from './annotations.js';
import {
  Collaboration,
  Elicitation,
  ElicitationList,
  Inbox,
  Message,
  Review,
  ReviewList,
  Task,
  TaskList,
  type CollaborationRequest,
  type ElicitRequest,
  type ElicitResponse,
  type ReviewAnswer,
  type SendMessage,
  type TaskRequest,
  type TaskUpdate,
} from './coordination.js';
import { ValidateResponse, type ExecutedRequest, type ValidateRequest } from './validation.js';
import { BackupResponse, Health, Ready, Status } from './status.js';
import {
  ApplyResult,
  SeqResult,
  ShadowChanges,
  ShadowListing,
  ShadowStat,
  ShadowWriteResult,
  Lease,
  LeaseList,
  ShadowDiff,
  ShadowSummary,
  MAX_CHANGES_PAGE,
  type ApplyRequest,
  type LeaseRequest,
  type ShadowChange,
} from './shadow.js';
import { StreamSubscription, type SubscribeOptions } from './subscription.js';

export interface BridgeClientOptions {
  /** e.g. http://127.0.0.1:8765 */
  baseUrl: string;
  agentId: string;
  /** The agent key (role agent/expert) or the admin key (role admin). */
  key: Buffer;
  role?: Role;
  capabilities?: string[];
  /** Identifies this client instance; the bridge binds the session to it. Random by default. */
  clientId?: string;
  timeoutMs?: number;
  userAgent?: string;
  /**
   * How long a call keeps retrying while the bridge is unreachable or shutting down (a restart).
   * 0 (the default) fails at once.
   */
  retryWindowMs?: number;
}

/** Which page of an agent's change list (see ChangesQuery). */
export interface ChangesPageOptions {
  agent?: string;
  limit?: number;
  /** The previous page's nextCursor. */
  cursor?: string;
  /** Only this file, or the files under this directory. */
  prefix?: string;
  signal?: AbortSignal;
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  rawBody?: Buffer;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  idempotencyKey?: string | undefined;
}

const SESSION_RETRY_CODES = new Set(['session_unknown', 'session_expired']);

/** The signed HTTP + WebSocket client of the bridge, used by the extension, the MCP server and tests. */
export class BridgeClient {
  readonly baseUrl: URL;
  readonly agentId: string;
  readonly role: Role;
  readonly clientId: string;
  private readonly key: Buffer;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly retryWindowMs: number;
  private readonly capabilities: string[] | undefined;
  private current: { info: SessionInfo; key: Buffer } | undefined;
  private opening: Promise<{ info: SessionInfo; key: Buffer }> | undefined;
  private readonly subscriptions = new Set<StreamSubscription>();

  constructor(opts: BridgeClientOptions) {
    this.baseUrl = new URL(opts.baseUrl);
    this.agentId = opts.agentId;
    this.role = opts.role ?? 'agent';
    this.key = opts.key;
    this.capabilities = opts.capabilities;
    this.clientId = opts.clientId ?? randomBytes(12).toString('hex');
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.userAgent = opts.userAgent ?? 'lighthouse-client/0.1';
    this.retryWindowMs = opts.retryWindowMs ?? 0;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** The open session, opened on first use and refreshed when a third of its life is left. */
  async session(signal?: AbortSignal): Promise<{ info: SessionInfo; key: Buffer }> {
    if (this.current) {
      const left = Date.parse(this.current.info.expiresAt) - Date.now();
      if (left > 60_000) return this.current;
      if (left > 0) {
        try {
          await this.refresh(signal);
          return this.current;
        } catch {
          this.current = undefined;
        }
      } else this.current = undefined;
    }
    this.opening ??= this.open(signal).finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async open(signal?: AbortSignal): Promise<{ info: SessionInfo; key: Buffer }> {
    const req: SessionOpenRequest = { agentId: this.agentId, role: this.role, client: this.userAgent };
    if (this.capabilities) req.capabilities = this.capabilities;
    const body = Buffer.from(JSON.stringify(req));
    const res = await this.send('POST', Routes.sessions, body, { [Headers.agent]: this.agentId }, this.key, {
      signal,
    });
    if (res.status !== 201) throw errorFromResponse(res);
    const info = SessionInfo.parse(JSON.parse(res.body.toString('utf8')));
    this.current = { info, key: deriveSessionKey(this.key, info.sessionId) };
    return this.current;
  }

  async refresh(signal?: AbortSignal): Promise<SessionInfo> {
    const s = this.current;
    if (!s) return (await this.session(signal)).info;
    const res = await this.signed('POST', Routes.sessionRefresh, s, { signal });
    if (res.status !== 200) throw errorFromResponse(res);
    const info = SessionInfo.parse(JSON.parse(res.body.toString('utf8')));
    this.current = { info, key: s.key };
    return info;
  }

  /** Forgets the session, so the next call opens a new one (after the bridge refused it, e.g. on restart). */
  forgetSession(): void {
    this.current = undefined;
  }

  /** Signed headers for a request made outside this class (the WebSocket upgrade). */
  async signedHeaders(
    method: string,
    pathAndQuery: string,
    signal?: AbortSignal,
  ): Promise<Record<string, string>> {
    const s = await this.session(signal);
    return {
      ...signRequest(s.key, method, pathAndQuery, undefined),
      [Headers.session]: s.info.sessionId,
      [Headers.client]: this.clientId,
      'user-agent': this.userAgent,
    };
  }

  /** A signed API call; reopens the session once if the bridge no longer knows it (after a restart). */
  async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    opts: CallOptions = {},
  ): Promise<z.infer<S>> {
    const res = await this.callRaw(method, path, opts);
    if (res.status === 204) return schema.parse(undefined);
    return schema.parse(JSON.parse(res.body.toString('utf8')));
  }

  /**
   * A signed call. Reopens the session once if the bridge no longer knows it; with a retry window,
   * also waits out a bridge that is restarting, sending the same idempotency key each time so that
   * a request the bridge already carried out is answered, not done twice.
   */
  async callRaw(method: string, path: string, opts: CallOptions = {}): Promise<RawResponse> {
    const key = opts.idempotencyKey ?? (method === 'GET' ? undefined : randomBytes(16).toString('hex'));
    const until = Date.now() + this.retryWindowMs;
    let delay = 100;
    let reopened = false;
    for (;;) {
      let res: RawResponse;
      try {
        const s = await this.session(opts.signal);
        res = await this.signed(method, path, s, { ...opts, idempotencyKey: key });
      } catch (e) {
        if (
          e instanceof BridgeError &&
          e.code === 'unreachable' &&
          Date.now() + delay < until &&
          !opts.signal?.aborted
        ) {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 1000);
          reopened = false;
          continue;
        }
        throw e;
      }
      if (res.status >= 200 && res.status < 300) return res;
      const err = errorFromResponse(res);
      if (!reopened && res.status === 401 && SESSION_RETRY_CODES.has(err.code)) {
        this.current = undefined;
        reopened = true;
        continue;
      }
      if (res.status === 503 && Date.now() + delay < until && !opts.signal?.aborted) {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 1000);
        continue;
      }
      throw err;
    }
  }

  private signed(
    method: string,
    path: string,
    s: { info: SessionInfo; key: Buffer },
    opts: CallOptions,
  ): Promise<RawResponse> {
    let pathAndQuery = path;
    if (opts.query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) if (v !== undefined) q.set(k, String(v));
      const qs = q.toString();
      if (qs) pathAndQuery += `?${qs}`;
    }
    const body =
      opts.rawBody ?? (opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body)));
    const extra: Record<string, string> = { [Headers.session]: s.info.sessionId };
    if (opts.idempotencyKey) extra[Headers.idempotencyKey] = opts.idempotencyKey;
    if (opts.contentType) extra['content-type'] = opts.contentType;
    return this.send(method, pathAndQuery, body, extra, s.key, opts);
  }

  private send(
    method: string,
    pathAndQuery: string,
    body: Buffer | undefined,
    extra: Record<string, string>,
    key: Buffer,
    opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
  ): Promise<RawResponse> {
    const headers = requestHeaders(key, method, pathAndQuery, body, this.clientId, this.userAgent, extra);
    const req: Parameters<typeof sendRaw>[0] = {
      method,
      url: new URL(pathAndQuery, this.baseUrl),
      headers,
      timeoutMs: opts.timeoutMs ?? this.timeoutMs,
      agent: this.agent,
    };
    if (body) req.body = body;
    if (opts.signal) req.signal = opts.signal;
    return sendRaw(req);
  }

  // ---- the API, typed ----

  health(signal?: AbortSignal) {
    return this.unsigned(Routes.health, Health, signal);
  }
  ready(signal?: AbortSignal) {
    return this.unsigned(Routes.ready, Ready, signal, [200, 503]);
  }
  status(signal?: AbortSignal) {
    return this.call('GET', Routes.status, Status, { signal });
  }
  append(req: AppendRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.events, AppendResponse, { body: req, signal });
  }
  query(q: EventQuery = {}, signal?: AbortSignal) {
    return this.call('GET', Routes.events, EventPage, {
      query: q as Record<string, string | number>,
      signal,
    });
  }
  registerAgent(req: AgentRegisterRequest = {}, signal?: AbortSignal) {
    return this.call('POST', Routes.agentRegister, AgentList.shape.agents.element, { body: req, signal });
  }
  heartbeat(signal?: AbortSignal) {
    return this.call('POST', Routes.agentHeartbeat, HeartbeatResponse, { body: {}, signal });
  }
  /** Admin: makes an agent known (its shadow exists) from its key on, before it connects. */
  addAgent(agentId: string, signal?: AbortSignal) {
    return this.call('POST', Routes.agents, AgentList.shape.agents.element, { body: { agentId }, signal });
  }
  listAgents(signal?: AbortSignal) {
    return this.call('GET', Routes.agents, AgentList, { signal });
  }
  /** Admin only: names an agent expert with these capabilities (again: replaces them). */
  nameExpert(req: NameExpertRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.experts, Expert, { body: req, signal });
  }
  /** Admin only: the agents named expert. */
  listExperts(signal?: AbortSignal) {
    return this.call('GET', Routes.experts, ExpertList, { signal });
  }
  /** Admin only: the agent is no longer an expert; its expert sessions are revoked. */
  removeExpert(agentId: string, signal?: AbortSignal) {
    return this.call('DELETE', Routes.expert(agentId), ExpertRemoved, { signal });
  }
  listSessions(signal?: AbortSignal) {
    return this.call('GET', Routes.sessions, SessionList, { signal });
  }
  revokeSession(sessionId: string, reason?: string, signal?: AbortSignal) {
    return this.call('POST', Routes.sessionRevoke(sessionId), SessionInfo.pick({ sessionId: true }), {
      body: reason === undefined ? {} : { reason },
      signal,
    });
  }
  async putBlob(data: Buffer, signal?: AbortSignal) {
    return this.call('PUT', Routes.blobs, BlobPut, {
      rawBody: data,
      contentType: 'application/octet-stream',
      signal,
    });
  }
  async getBlob(hash: string, signal?: AbortSignal): Promise<Buffer> {
    return (await this.callRaw('GET', Routes.blob(hash), { signal })).body;
  }
  backup(name?: string, signal?: AbortSignal) {
    return this.call('POST', Routes.backup, BackupResponse, { body: name ? { name } : {}, signal });
  }
  /** The whole JSONL export as one string: for small stores; exportJsonlTo streams any size. */
  async exportJsonl(signal?: AbortSignal): Promise<string> {
    return (await this.callRaw('GET', Routes.exportJsonl, { signal, timeoutMs: 600_000 })).body.toString(
      'utf8',
    );
  }
  /**
   * Streams the JSONL export into `out` (a file, say) as it arrives, never holding it whole, and
   * ends `out`; resolves with its size in bytes. Reopens the session once if the bridge no longer
   * knows it. Either side gives up after two minutes with nothing sent or taken.
   */
  async exportJsonlTo(out: NodeJS.WritableStream, signal?: AbortSignal): Promise<number> {
    for (let reopened = false; ; reopened = true) {
      const headers = await this.signedHeaders('GET', Routes.exportJsonl, signal);
      const req: Parameters<typeof receiveRaw>[0] = {
        url: new URL(Routes.exportJsonl, this.baseUrl),
        headers,
        timeoutMs: Math.max(this.timeoutMs, 120_000),
        agent: this.agent,
      };
      if (signal) req.signal = signal;
      try {
        return await receiveRaw(req, out);
      } catch (e) {
        if (reopened || !(e instanceof BridgeError) || e.status !== 401 || !SESSION_RETRY_CODES.has(e.code))
          throw e;
        this.current = undefined;
      }
    }
  }
  // ---- shadow files ----

  async readFile(
    path: string,
    opts: { agent?: string; offset?: number; length?: number; at?: number; signal?: AbortSignal } = {},
  ) {
    const { signal, ...q } = opts;
    return (await this.callRaw('GET', Routes.shadowFile, { query: { path, ...q }, signal })).body;
  }
  writeFile(path: string, data: Buffer | string, opts: { ifMatch?: string; signal?: AbortSignal } = {}) {
    return this.call('PUT', Routes.shadowFile, ShadowWriteResult, {
      query: { path, ifMatch: opts.ifMatch },
      rawBody: Buffer.from(data),
      contentType: 'application/octet-stream',
      signal: opts.signal,
    });
  }
  deleteFile(path: string, signal?: AbortSignal) {
    return this.call('DELETE', Routes.shadowFile, SeqResult, { query: { path }, signal });
  }
  stat(path: string, opts: { agent?: string; at?: number; signal?: AbortSignal } = {}) {
    return this.call('GET', Routes.shadowStat, ShadowStat, {
      query: { path, agent: opts.agent, at: opts.at },
      signal: opts.signal,
    });
  }
  list(path = '', opts: { agent?: string; at?: number; signal?: AbortSignal } = {}) {
    return this.call('GET', Routes.shadowList, ShadowListing, {
      query: { path, agent: opts.agent, at: opts.at },
      signal: opts.signal,
    });
  }
  move(from: string, to: string, signal?: AbortSignal) {
    return this.call('POST', Routes.shadowMove, SeqResult, { body: { from, to }, signal });
  }
  mkdir(path: string, signal?: AbortSignal) {
    return this.call('POST', Routes.shadowMkdir, SeqResult, { body: { path }, signal });
  }
  rmdir(path: string, signal?: AbortSignal) {
    return this.call('POST', Routes.shadowRmdir, SeqResult, { body: { path }, signal });
  }
  /** One page of an agent's changes (by path); pass the answer's nextCursor as `cursor` for the next. */
  changes(opts: ChangesPageOptions = {}) {
    return this.call('GET', Routes.shadowChanges, ShadowChanges, {
      query: { agent: opts.agent, limit: opts.limit, cursor: opts.cursor, prefix: opts.prefix },
      signal: opts.signal,
    });
  }
  /**
   * Every change (under `prefix`), paging through the list: for callers that act on all of them,
   * such as Apply All. A path applied between two pages is simply not met again.
   */
  async allChanges(opts: Omit<ChangesPageOptions, 'limit' | 'cursor'> = {}): Promise<ShadowChange[]> {
    const out: ShadowChange[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.changes({ ...opts, limit: MAX_CHANGES_PAGE, cursor });
      out.push(...page.changes);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return out;
  }
  /** Per agent, how many paths its shadow changes and how many conflict (admin): cheaper than changes(). */
  shadowSummary(opts: { agent?: string; signal?: AbortSignal } = {}) {
    return this.call('GET', Routes.shadowSummary, ShadowSummary, {
      query: { agent: opts.agent },
      signal: opts.signal,
    });
  }
  applyShadow(req: ApplyRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.shadowApply, ApplyResult, { body: req, signal });
  }
  discardShadow(req: ApplyRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.shadowDiscard, ApplyResult, { body: req, signal });
  }

  acquireLease(req: LeaseRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.leases, Lease, { body: req, signal });
  }
  renewLease(id: string, ttlMs?: number, signal?: AbortSignal) {
    return this.call('POST', Routes.leaseRenew(id), Lease, {
      body: ttlMs === undefined ? {} : { ttlMs },
      signal,
    });
  }
  releaseLease(id: string, signal?: AbortSignal) {
    return this.call('DELETE', Routes.lease(id), Lease, { signal });
  }
  listLeases(signal?: AbortSignal) {
    return this.call('GET', Routes.leases, LeaseList, { signal });
  }
  /** One page of an agent's changes with their diffs; `maxBytes` bounds the page's patches. */
  diff(opts: ChangesPageOptions & { maxBytes?: number } = {}) {
    return this.call('GET', Routes.shadowDiff, ShadowDiff, {
      query: {
        agent: opts.agent,
        limit: opts.limit,
        cursor: opts.cursor,
        prefix: opts.prefix,
        maxBytes: opts.maxBytes,
      },
      signal: opts.signal,
    });
  }

  annotate(req: AnnotationRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.annotations, Annotation, { body: req, signal });
  }
  annotations(opts: { path?: string; includeResolved?: boolean; signal?: AbortSignal } = {}) {
    return this.call('GET', Routes.annotations, AnnotationList, {
      query: {
        path: opts.path,
        includeResolved: opts.includeResolved === undefined ? undefined : String(opts.includeResolved),
      },
      signal: opts.signal,
    });
  }
  resolveAnnotation(id: string, signal?: AbortSignal) {
    return this.call('POST', Routes.annotationResolve(id), Annotation, { body: {}, signal });
  }

  validate(req: ValidateRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.validate, ValidateResponse, { body: req, signal });
  }
  recordExecuted(req: ExecutedRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.commandsExecuted, SeqResult, { body: req, signal });
  }

  // ---- coordination ----

  reviews(state?: string, signal?: AbortSignal) {
    return this.call('GET', Routes.reviews, ReviewList, { query: { state }, signal });
  }
  review(id: string, waitMs = 0, signal?: AbortSignal) {
    return this.call('GET', Routes.review(id), Review, {
      query: { waitMs: waitMs || undefined },
      signal,
      timeoutMs: waitMs + this.timeoutMs,
    });
  }
  answerReview(id: string, answer: ReviewAnswer, signal?: AbortSignal) {
    return this.call('POST', Routes.reviewAnswer(id), Review, { body: answer, signal });
  }
  sendMessage(m: SendMessage, signal?: AbortSignal) {
    return this.call('POST', Routes.messages, Message, { body: m, signal });
  }
  inbox(opts: { unacked?: boolean; thread?: string; signal?: AbortSignal } = {}) {
    return this.call('GET', Routes.messages, Inbox, {
      query: { unacked: opts.unacked === undefined ? undefined : String(opts.unacked), thread: opts.thread },
      signal: opts.signal,
    });
  }
  ackMessage(id: string, signal?: AbortSignal) {
    return this.call('POST', Routes.messageAck(id), SeqResult, { body: {}, signal });
  }
  startCollaboration(req: CollaborationRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.collaborations, Collaboration, { body: req, signal });
  }
  elicit(req: ElicitRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.elicitations, Elicitation, { body: req, signal });
  }
  elicitation(id: string, signal?: AbortSignal) {
    return this.call('GET', Routes.elicitation(id), Elicitation, { signal });
  }
  elicitations(signal?: AbortSignal) {
    return this.call('GET', Routes.elicitations, ElicitationList, { signal });
  }
  respondElicitation(id: string, r: ElicitResponse, signal?: AbortSignal) {
    return this.call('POST', Routes.elicitationRespond(id), Elicitation, { body: r, signal });
  }
  dispatchTask(req: TaskRequest, signal?: AbortSignal) {
    return this.call('POST', Routes.tasks, Task, { body: req, signal });
  }
  updateTask(id: string, u: TaskUpdate, signal?: AbortSignal) {
    return this.call('POST', Routes.taskStatus(id), Task, { body: u, signal });
  }
  tasks(signal?: AbortSignal) {
    return this.call('GET', Routes.tasks, TaskList, { signal });
  }

  /** A live subscription from `after`, reconnecting (and resuming) if the connection drops. */
  subscribe(opts: SubscribeOptions): StreamSubscription {
    const sub = new StreamSubscription(this, opts);
    this.subscriptions.add(sub);
    sub.onClosed(() => this.subscriptions.delete(sub));
    sub.start();
    return sub;
  }

  /** Closes the session at the bridge and every subscription. */
  async close(): Promise<void> {
    for (const sub of this.subscriptions) sub.close();
    const s = this.current;
    this.current = undefined;
    if (s) {
      try {
        await this.signed('DELETE', Routes.sessionCurrent, s, { timeoutMs: 3000 });
      } catch {
        // the bridge is gone; the session dies with it
      }
    }
    this.agent.destroy();
  }

  private async unsigned<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal, ok = [200]) {
    const req: Parameters<typeof sendRaw>[0] = {
      method: 'GET',
      url: new URL(path, this.baseUrl),
      headers: { accept: 'application/json' },
      timeoutMs: this.timeoutMs,
      agent: this.agent,
    };
    if (signal) req.signal = signal;
    const res = await sendRaw(req);
    if (!ok.includes(res.status)) throw errorFromResponse(res);
    return schema.parse(JSON.parse(res.body.toString('utf8'))) as z.infer<S>;
  }
}

export { BridgeError };

/**
 * The headers of one signed request as BridgeClient sends it: signature, client id, user agent, JSON
 * for a body, then `extra` (the session, an idempotency key, another content type). Exported so that
 * the benchmark's writers send exactly what the client does.
 */
export function requestHeaders(
  key: Buffer,
  method: string,
  pathAndQuery: string,
  body: Buffer | undefined,
  clientId: string,
  userAgent: string,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    ...signRequest(key, method, pathAndQuery, body),
    [Headers.client]: clientId,
    'user-agent': userAgent,
    accept: 'application/json',
    ...(body ? { 'content-type': 'application/json' } : {}),
    ...extra,
  };
}
