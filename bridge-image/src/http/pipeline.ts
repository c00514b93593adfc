import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, Headers } from '../../protocol/index.js';
import { AuthFailure } from '../auth/authenticator.js';
import type { Session } from '../auth/sessions.js';
import type { BridgeServices } from '../context.js';
import { readBody } from './body.js';
import { HttpError, sendError, sendJson } from './errors.js';
import type { Reply, Router } from './router.js';
import { labelKey } from '../metrics.js';

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
  private readonly metricKeys = new Map<string, { requests: string; duration: string }>();
  private readonly inFlightKeys = new Map<string, Promise<unknown>>();

  constructor(
    private readonly svc: BridgeServices,
    private readonly router: Router,
  ) {}

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    const started = process.hrtime.bigint();
    let routeLabel = 'unmatched';
    res.once('close', () => {
      this.inFlight--;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const keys = this.keysFor(routeLabel, req.method ?? '?', res.statusCode);
      this.svc.metrics.requests.incKey(keys.requests);
      this.svc.metrics.requestDuration.observeKey(seconds, keys.duration);
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
    const reqId =
      (req.headers[Headers.requestId] as string | undefined)?.slice(0, 64) ??
      `${this.idPrefix}-${++this.nextId}`;
    res.setHeader(Headers.requestId, reqId);
    this.run(req, res, reqId, (label) => (routeLabel = label)).catch((e: unknown) => {
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
        );
        return;
      }
      this.svc.log.error('request failed', { reqId, err: e });
      sendError(res, new HttpError(500, ErrorCode.internal, 'internal error; see the bridge log', { reqId }));
    });
  };

  private async run(req: IncomingMessage, res: ServerResponse, reqId: string, label: (l: string) => void) {
    const log = this.svc.log;
    if (this.draining) {
      req.resume();
      sendError(res, new HttpError(503, ErrorCode.unavailable, 'the bridge is shutting down'), {
        connection: 'close',
      });
      return;
    }
    // No URL object: paths are matched literally (so "/v1/../x" matches nothing), and this is a hot path.
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const m = this.router.match(req.method ?? 'GET', pathname);
    if (!m) {
      req.resume();
      sendError(res, new HttpError(404, ErrorCode.notFound, `no route ${req.method} ${pathname}`));
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
        { allow: m.allowed.join(', ') },
      );
      return;
    }
    const { route, params } = m;
    label(route.path);
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
      const run = () =>
        route.handler({
          req,
          res,
          pathname,
          query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)),
          params,
          body,
          session,
          reqId,
        });
      const key = req.headers[Headers.idempotencyKey];
      if (session && typeof key === 'string' && req.method !== 'GET' && !route.streaming) {
        const r = await this.once(session.agentId, key, run);
        sendJson(res, r.status, r.body, r.replayed ? { [Headers.idempotentReplay]: 'true' } : {});
      } else {
        const reply = await run();
        if (reply) sendJson(res, reply.status, reply.body);
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
        if (e.kind) {
          this.svc.security.record(e.kind, {
            agentId: e.session?.agentId ?? (req.headers[Headers.agent] as string | undefined),
            sessionId: e.session?.id ?? (req.headers[Headers.session] as string | undefined),
            route: route.path,
            method: req.method!,
            remote: req.socket.remoteAddress,
            reason: e.message,
          });
        }
        sendError(res, new HttpError(e.status, e.code, e.message));
        return;
      }
      if (e instanceof HttpError) {
        if (e.status === 413) res.setHeader('connection', 'close');
        log.debug('request refused', {
          reqId,
          agentId: sessionAgent,
          status: e.status,
          code: e.code,
          msg2: e.message,
        });
        sendError(res, e);
        return;
      }
      throw e;
    }
  }

  /**
   * Runs a request carrying an idempotency key at most once per agent and key: a retry (after a
   * lost answer or a bridge restart) gets the remembered reply, refusals included.
   */
  private async once(
    agentId: string,
    key: string,
    run: () => Promise<Reply | void> | Reply | void,
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
    if (known) return { status: known.status, body: JSON.parse(known.body) as unknown, replayed: true };
    const work = (async () => {
      let status: number;
      let body: unknown;
      try {
        const reply = await run();
        status = reply?.status ?? 204;
        body = reply?.body ?? null;
      } catch (e) {
        if (!(e instanceof HttpError) || e.status >= 500) throw e;
        status = e.status;
        body = {
          error: {
            code: e.code,
            message: e.message,
            ...(e.details === undefined ? {} : { details: e.details }),
          },
        };
      }
      await this.svc.store.rememberReply(agentId, key, status, JSON.stringify(body));
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
  private keysFor(route: string, method: string, status: number) {
    const k = `${route} ${method} ${status}`;
    let keys = this.metricKeys.get(k);
    if (!keys) {
      keys = {
        requests: labelKey({ route, method, status: String(status) }),
        duration: labelKey({ route }),
      };
      this.metricKeys.set(k, keys);
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

/** The path of a file-system permission error (the workspace is not readable by the bridge's user). */
function permissionDenied(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && (err.code === 'EACCES' || err.code === 'EPERM') && typeof err.path === 'string') return err.path;
  return undefined;
}
