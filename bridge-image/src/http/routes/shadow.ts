import {
  ApplyRequest,
  ChangesQuery,
  DiffQuery,
  ErrorCode,
  ListQuery,
  MoveRequest,
  PathRequest,
  ReadQuery,
  ShadowQuery,
  SummaryQuery,
  WriteQuery,
  type ApplyResult,
  type ShadowChanges,
  type ShadowDiff,
  type ShadowListing,
  type ShadowSummary,
} from '../../../protocol/index.js';
import type { Session } from '../../auth/sessions.js';
import type { BridgeServices } from '../../context.js';
import { normalise, PathRejected } from '../../shadow/path-safety.js';
import { ShadowError, type PageRequest, type ShadowFiles } from '../../shadow/shadow-files.js';
import { parseJson, parseQuery } from '../body.js';
import { HttpError } from '../errors.js';
import { ok, type Route, type RouteContext } from '../router.js';
import { LeaseHeld } from '../../leases/lease-table.js';
import { leaseHeldError } from './leases.js';
import { pathRefused } from './path-refused.js';

const ALL = ['admin', 'agent', 'expert'] as const;

export function shadowRoutes(svc: BridgeServices, shadows: ShadowFiles): Route[] {
  /** Runs a shadow operation, turning refused paths into security events and errnos into HTTP errors. */
  const guarded =
    (fn: (ctx: RouteContext) => ReturnType<Route['handler']>): Route['handler'] =>
    async (ctx) => {
      try {
        // Writes made through the FUSE mount are recorded after close(2) returns: the shadow this
        // request reads or changes gets them first (admin: the one named, or all of them).
        const s = ctx.session!;
        await svc.mountWrites(s.role === 'admin' ? (ctx.query.get('agent') ?? undefined) : s.agentId);
        return await fn(ctx);
      } catch (e) {
        if (e instanceof PathRejected) throw pathRefused(svc, e, ctx);
        if (e instanceof ShadowError) throw new HttpError(e.status, e.code, e.message);
        if (e instanceof LeaseHeld) throw leaseHeldError(e);
        throw e;
      }
    };

  /** Whose shadow: your own, or (admin only) the one named by `agent`. */
  const owner = (s: Session, agent: string | undefined): string => {
    if (agent === undefined || agent === s.agentId) {
      if (s.role === 'admin')
        throw new HttpError(400, ErrorCode.invalidRequest, 'agent: admin must name the shadow to read');
      return s.agentId;
    }
    if (s.role !== 'admin') {
      throw new HttpError(
        403,
        ErrorCode.forbidden,
        `agent: only admin may read another agent's shadow (${agent})`,
      );
    }
    return agent;
  };

  /**
   * The paging parameters as paths: a prefix or cursor that is no clean workspace path is refused
   * naming the parameter (and recorded, like any refused path); a cursor must lie under the prefix,
   * or it is another listing's.
   */
  const pageRequest = (
    q: { limit: number; cursor?: string | undefined; prefix?: string | undefined },
    session: Session | undefined,
    pathname: string,
  ): PageRequest => {
    const clean = (name: string, value: string | undefined): string | undefined => {
      if (value === undefined) return undefined;
      try {
        return normalise(value, name === 'prefix');
      } catch (e) {
        if (!(e instanceof PathRejected)) throw e;
        throw pathRefused(svc, new PathRejected(e.input, `${name}: ${e.why}`, e.status), {
          session,
          pathname,
        });
      }
    };
    const prefix = clean('prefix', q.prefix) ?? '';
    const cursor = clean('cursor', q.cursor);
    if (cursor !== undefined && prefix !== '' && cursor !== prefix && !cursor.startsWith(prefix + '/'))
      throw new HttpError(
        400,
        ErrorCode.invalidRequest,
        `cursor: ${JSON.stringify(cursor.slice(0, 200))} is not under prefix ${JSON.stringify(prefix.slice(0, 200))} (a cursor from another listing?)`,
      );
    return { limit: q.limit, cursor, prefix };
  };

  return [
    {
      method: 'GET',
      path: '/v1/shadow/file',
      access: ALL,
      handler: guarded(({ query, session, res }) => {
        const q = parseQuery(query, ReadQuery);
        const data = shadows.read(owner(session!, q.agent), normalise(q.path), q.at);
        const start = Math.min(q.offset ?? 0, data.length);
        const end = q.length === undefined ? data.length : Math.min(data.length, start + q.length);
        const part = data.subarray(start, end);
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': part.length,
          'x-lighthouse-size': data.length,
        });
        res.end(part);
      }),
    },
    {
      method: 'PUT',
      path: '/v1/shadow/file',
      access: ['agent', 'expert'],
      bodyLimit: 64 * 1024 * 1024,
      handler: guarded(async ({ query, session, body, claim }) => {
        const q = parseQuery(query, WriteQuery);
        return ok(await shadows.write(session!.agentId, normalise(q.path), body, q.ifMatch, { claim }), 201);
      }),
    },
    {
      method: 'DELETE',
      path: '/v1/shadow/file',
      access: ['agent', 'expert'],
      handler: guarded(async ({ query, session, claim }) => {
        const q = parseQuery(query, PathRequest);
        const rel = normalise(q.path);
        return ok({ path: rel, seq: await shadows.delete(session!.agentId, rel, { claim }) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/shadow/stat',
      access: ALL,
      handler: guarded(({ query, session }) => {
        const q = parseQuery(query, ShadowQuery);
        return ok(shadows.stat(owner(session!, q.agent), normalise(q.path), q.at));
      }),
    },
    {
      method: 'GET',
      path: '/v1/shadow/list',
      access: ALL,
      handler: guarded(({ query, session }) => {
        const q = parseQuery(query, ListQuery);
        const rel = normalise(q.path, true);
        const body: ShadowListing = { path: rel, entries: shadows.list(owner(session!, q.agent), rel, q.at) };
        return ok(body);
      }),
    },
    {
      method: 'POST',
      path: '/v1/shadow/move',
      access: ['agent', 'expert'],
      handler: guarded(async ({ body, session, claim }) => {
        const r = parseJson(body, MoveRequest);
        const from = normalise(r.from);
        const to = normalise(r.to);
        return ok({ from, to, seq: await shadows.move(session!.agentId, from, to, { claim }) });
      }),
    },
    {
      method: 'POST',
      path: '/v1/shadow/mkdir',
      access: ['agent', 'expert'],
      handler: guarded(async ({ body, session, claim }) => {
        const rel = normalise(parseJson(body, PathRequest).path);
        return ok({ path: rel, seq: await shadows.mkdir(session!.agentId, rel, { claim }) }, 201);
      }),
    },
    {
      method: 'POST',
      path: '/v1/shadow/rmdir',
      access: ['agent', 'expert'],
      handler: guarded(async ({ body, session, claim }) => {
        const rel = normalise(parseJson(body, PathRequest).path);
        return ok({ path: rel, seq: await shadows.rmdir(session!.agentId, rel, { claim }) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/shadow/changes',
      access: ALL,
      handler: guarded(({ query, session, pathname }) => {
        const q = parseQuery(query, ChangesQuery);
        const agent = owner(session!, q.agent);
        const page = shadows.changePage(agent, pageRequest(q, session, pathname));
        const body: ShadowChanges = { agentId: agent, ...page };
        return ok(body);
      }),
    },
    {
      // Every shadow's counts in one call, for a view that shows them all: admin only, like reading
      // another agent's changes; an agent counts its own with /v1/shadow/changes.
      method: 'GET',
      path: '/v1/shadow/summary',
      access: ['admin'],
      handler: guarded(({ query }) => {
        const body: ShadowSummary = { agents: shadows.summary(parseQuery(query, SummaryQuery).agent) };
        return ok(body);
      }),
    },
    {
      method: 'GET',
      path: '/v1/shadow/diff',
      access: ALL,
      handler: guarded(({ query, session, pathname }) => {
        const q = parseQuery(query, DiffQuery);
        const agent = owner(session!, q.agent);
        const page = shadows.diffPage(agent, { ...pageRequest(q, session, pathname), maxBytes: q.maxBytes });
        const body: ShadowDiff = { agentId: agent, ...page };
        return ok(body);
      }),
    },
    ...(['applied', 'discarded'] as const).map((how): Route => ({
      method: 'POST',
      path: how === 'applied' ? '/v1/shadow/apply' : '/v1/shadow/discard',
      access: ['admin'],
      handler: guarded(async ({ body, session, claim }) => {
        const r = parseJson(body, ApplyRequest);
        const paths = r.paths.map((p) => normalise(p));
        const seq = await shadows.settle(r.agentId, paths, how, session!.agentId, { claim });
        const result: ApplyResult = { agentId: r.agentId, paths, seq };
        return ok(result);
      }),
    })),
  ];
}
