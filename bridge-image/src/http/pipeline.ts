import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, Headers } from '../../protocol/index.js';
import { AuthFailure } from '../auth/authenticator.js';
import { recordAuthFailure } from '../auth/refusal-record.js';
import type { Session } from '../auth/sessions.js';
import type { BridgeServices } from '../context.js';
import { CLAIMED, type Claim } from '../store/event-store.js';
import { readBody } from './body.js';
import { HttpError, sendError } from './errors.js';
import { sendJson } from './response.js';
import type { Reply, Route, Router } from './router.js';
import { labelKey } from '../metrics.js';

interface MetricKeys {
  requests: string;
  duration: string;
}

/** Read-only use only: handlers read their query, none writes to it. */
const NO_QUERY = new URLSearchParams();
const REPLAYED = [Headers.idempotentReplay, 'true'] as const;
const CLOSE = ['connection', 'close'] as const;

/**
 * Every HTTP request goes through here: route match, body limit, signature, role, handler,
 * and one JSON error shape for every failure. Counts in-flight requests so shutdown can drain them.
 */
export class Pipeline {
  inFlight = 0;
  draining = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** Request ids: a per-process prefix and a counter, cheaper than a UUID per request. */
  private readonly idPrefix = randomBytes(4).toString('hex');
  private nextId = 0;
  /** Metric label keys by route, then status: formatted once, found without building a string. */
  private readonly metricKeys = new Map<Route | undefined, Map<string, Map<number, MetricKeys>>>();
  private readonly inFlightKeys = new Map<string, Promise<unknown>>();

  constructor(
    private readonly svc: BridgeServices,
    private readonly router: Router,
  ) {}

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    const started = process.hrtime.bigint();
    const reqId =
      (req.headers[Headers.requestId] as string | undefined)?.slice(0, 64) ??
      `${this.idPrefix}-${++this.nextId}`;
    const state: { route: Route | undefined } = { route: undefined };
    res.once('close', () => {
      this.inFlight--;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const keys = this.keysFor(state.route, req.method ?? '?', res.statusCode);
      this.svc.metrics.requests.incKey(keys.requests);
      this.svc.metrics.requestDuration.observeKey(seconds, keys.duration);
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
    this.run(req, res, reqId, state).catch((e: unknown) => {
      const denied = permissionDenied(e);
      if (denied) {
        this.svc.log.warn('workspace not readable', { reqId, path: denied });
        sendError(
          res,
          new HttpError(
            403,
            ErrorCode.forbidden,
            `the bridge may not read ${denied}: permission denied for its user (uid ${process.getuid?.() ?? '?'}); ` +
              'make the project readable by that user (for example chmod -R o+rX on the project) and retry',
            { reqId, path: denied },
          ),
          reqId,
        );
        return;
      }
      this.svc.log.error('request failed', { reqId, err: e });
      sendError(
        res,
        new HttpError(500, ErrorCode.internal, 'internal error; see the bridge log', { reqId }),
        reqId,
      );
    });
  };

  private async run(
    req: IncomingMessage,
    res: ServerResponse,
    reqId: string,
    state: { route: Route | undefined },
  ) {
    const log = this.svc.log;
    if (this.draining) {
      req.resume();
      sendError(res, new HttpError(503, ErrorCode.unavailable, 'the bridge is shutting down'), reqId, CLOSE);
      return;
    }
    // No URL object: paths are matched literally (so "/v1/../x" matches nothing), and this is a hot path.
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const m = this.router.match(req.method ?? 'GET', pathname);
    if (!m) {
      req.resume();
      sendError(res, new HttpError(404, ErrorCode.notFound, `no route ${req.method} ${pathname}`), reqId);
      return;
    }
    if ('allowed' in m) {
      req.resume();
      sendError(
        res,
        new HttpError(
          405,
          ErrorCode.methodNotAllowed,
          `${req.method} is not allowed on ${pathname}; use ${m.allowed.join(', ')}`,
        ),
        reqId,
        ['allow', m.allowed.join(', ')],
      );
      return;
    }
    const { route, params } = m;
    state.route = route;
    if (route.streaming) res.setHeader(Headers.requestId, reqId);
    let sessionAgent: string | undefined;
    try {
      const body = await readBody(req, route.bodyLimit ?? this.svc.config.bodyLimitBytes);
      let session: Session | undefined;
      if (Array.isArray(route.access)) {
        session = this.svc.auth.verify({ method: req.method!, url: req.url!, headers: req.headers, body });
        sessionAgent = session.agentId;
        if (!route.access.includes(session.role)) {
          throw new AuthFailure(
            403,
            ErrorCode.forbidden,
            `${req.method} ${route.path} needs role ${route.access.join(' or ')}; this session is ${session.role}`,
            'forbidden',
            session,
          );
        }
      }
      const query = q < 0 ? NO_QUERY : new URLSearchParams(rawUrl.slice(q + 1));
      const run = async (idempotencyKey?: string, claim?: Claim) => {
        try {
          return await route.handler({
            req,
            res,
            pathname,
            query,
            params,
            body,
            session,
            reqId,
            idempotencyKey,
            claim,
          });
        } catch (e) {
          // Every 403 a handler gives is a security refusal, recorded here once (also when the
          // idempotency layer below turns it into a remembered reply), unless recorded where it was made.
          if (e instanceof HttpError && e.status === 403 && !e.recorded) {
            this.svc.security.record('forbidden', {
              agentId: session?.agentId ?? 'unknown',
              sessionId: session?.id,
              route: route.path,
              method: req.method!,
              remote: req.socket.remoteAddress,
              reason: e.message,
            });
            e.recorded = true;
          }
          throw e;
        }
      };
      const key = req.headers[Headers.idempotencyKey];
      if (session && typeof key === 'string' && req.method !== 'GET' && !route.streaming) {
        const r = await this.once(session.agentId, key, route, run);
        sendJson(res, r.status, r.body, reqId, r.replayed ? REPLAYED : undefined);
      } else {
        const reply = await run();
        if (reply) sendJson(res, reply.status, reply.body, reqId);
      }
      if (log.level === 'debug') {
        log.debug('request', {
          reqId,
          agentId: sessionAgent,
          method: req.method,
          route: route.path,
          status: res.statusCode,
        });
      }
    } catch (e) {
      if (e instanceof AuthFailure) {
        recordAuthFailure(this.svc.security, e, req, route.path);
        sendError(res, new HttpError(e.status, e.code, e.message), reqId);
        return;
      }
      if (e instanceof HttpError) {
        if (log.level === 'debug')
          log.debug('request refused', {
            reqId,
            agentId: sessionAgent,
            status: e.status,
            code: e.code,
            msg2: e.message,
          });
        sendError(res, e, reqId, e.status === 413 ? CLOSE : undefined);
        return;
      }
      throw e;
    }
  }

  /**
   * Runs a request carrying an idempotency key at most once per agent and key: a retry (after a
   * lost answer or a bridge restart) gets the remembered reply, refusals included, or 409 reply_lost
   * when the bridge stopped after the request's writes but before its reply was kept.
   */
  private async once(
    agentId: string,
    key: string,
    route: Route,
    run: (idempotencyKey?: string, claim?: Claim) => Promise<Reply | void> | Reply | void,
  ): Promise<{ status: number; body: unknown; replayed: boolean }> {
    if (!/^[A-Za-z0-9_-]{8,128}$/.test(key)) {
      throw new HttpError(
        400,
        ErrorCode.invalidRequest,
        `${Headers.idempotencyKey}: 8-128 letters, digits, "_" or "-"`,
      );
    }
    const id = `${agentId}\0${key}`;
    const running = this.inFlightKeys.get(id);
    if (running) await running.catch(() => undefined);
    const known = this.svc.store.recallReply(agentId, key);
    if (known?.status === CLAIMED) throw replyLost(route);
    if (known) return { status: known.status, body: JSON.parse(known.body) as unknown, replayed: true };
    const work = (async () => {
      let status: number;
      let body: unknown;
      let remembered = false;
      try {
        const reply = await (route.remembersReply ? run(key) : run(undefined, { agentId, key }));
        status = reply?.status ?? 204;
        body = reply?.body ?? null;
        remembered = reply?.remembered === true;
      } catch (e) {
        if (!(e instanceof HttpError) || e.status >= 500) throw e;
        remembered = e.remembered;
        status = e.status;
        body = {
          error: {
            code: e.code,
            message: e.message,
            ...(e.details === undefined ? {} : { details: e.details }),
          },
        };
      }
      // A route that wrote something remembered its reply in the write's own transaction: a crash
      // between the two can then never let a retry write twice.
      if (!remembered) await this.svc.store.rememberReply(agentId, key, status, JSON.stringify(body));
      return { status, body, replayed: false };
    })();
    this.inFlightKeys.set(id, work);
    try {
      return await work;
    } finally {
      if (this.inFlightKeys.get(id) === work) this.inFlightKeys.delete(id);
    }
  }

  /** Metric label keys per route, method and status, formatted once. */
  private keysFor(route: Route | undefined, method: string, status: number): MetricKeys {
    let byMethod = this.metricKeys.get(route);
    if (!byMethod) this.metricKeys.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let keys = byStatus.get(status);
    if (!keys) {
      const label = route?.path ?? 'unmatched';
      keys = {
        requests: labelKey({ route: label, method, status: String(status) }),
        duration: labelKey({ route: label }),
      };
      byStatus.set(status, keys);
    }
    return keys;
  }

  /** Resolves when no request is in flight, or after `ms`. */
  waitIdle(ms: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}

function replyLost(route: Route): HttpError {
  const what = `${route.method} ${route.path}`;
  return new HttpError(
    409,
    ErrorCode.replyLost,
    `a request (${what}) with this Idempotency-Key was carried out before the bridge stopped or ` +
      'failed, but its reply was not kept; it was not done again. Read the current state (the GET routes ' +
      'for what it changes) to see its effect instead of retrying; a new key would do it a second time',
    { method: route.method, route: route.path },
  );
}

/** The path of a file-system permission error (the workspace is not readable by the bridge's user). */
function permissionDenied(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && (err.code === 'EACCES' || err.code === 'EPERM') && typeof err.path === 'string') return err.path;
  return undefined;
}
