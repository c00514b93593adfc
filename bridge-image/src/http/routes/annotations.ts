import { AnnotationQuery, AnnotationRequest, ErrorCode, type Annotation } from '../../../protocol/index.js';
import { AnnotationNotFound, type AnnotationBook } from '../../annotations/annotation-book.js';
import type { BridgeServices } from '../../context.js';
import { normalise, PathRejected } from '../../shadow/path-safety.js';
import { parseJson, parseQuery } from '../body.js';
import { HttpError } from '../errors.js';
import { ok, type Route, type RouteContext } from '../router.js';
import { pathRefused } from './path-refused.js';

const ALL = ['admin', 'agent', 'expert'] as const;

export function annotationRoutes(svc: BridgeServices, book: AnnotationBook): Route[] {
  const safePath = (p: string, ctx: RouteContext): string => {
    try {
      return normalise(p);
    } catch (e) {
      if (e instanceof PathRejected) throw pathRefused(svc, e, ctx);
      throw e;
    }
  };
  return [
    {
      method: 'POST',
      path: '/v1/annotations',
      access: ALL,
      handler: async (ctx) => {
        const { body, session, claim } = ctx;
        const r = parseJson(body, AnnotationRequest);
        const path = safePath(r.path, ctx);
        return ok(await book.add(session!.agentId, path, r.note, r.lines, claim), 201);
      },
    },
    {
      method: 'GET',
      path: '/v1/annotations',
      access: ALL,
      handler: (ctx) => {
        const { query } = ctx;
        const q = parseQuery(query, AnnotationQuery);
        const path = q.path === undefined ? undefined : safePath(q.path, ctx);
        const annotations: Annotation[] = book.list(path, q.includeResolved === 'true');
        return ok({ annotations });
      },
    },
    {
      method: 'POST',
      path: '/v1/annotations/:id/resolve',
      access: ALL,
      handler: async ({ params, session, claim }) => {
        try {
          return ok(await book.resolve(params.id!, session!.agentId, claim));
        } catch (e) {
          if (e instanceof AnnotationNotFound) throw new HttpError(404, ErrorCode.notFound, e.message);
          throw e;
        }
      },
    },
  ];
}
