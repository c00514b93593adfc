import { z } from 'zod';
import {
  CollaborationRequest,
  ElicitRequest,
  ElicitResponse,
  ErrorCode,
  ReviewAnswer,
  ReviewState,
  SendMessage,
  TaskRequest,
  TaskUpdate,
} from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import type { Elicitations } from '../../coordination/elicitations.js';
import { CoordinationError, type PostOffice } from '../../coordination/post-office.js';
import { ReviewError, type ReviewDesk } from '../../coordination/review-desk.js';
import type { TaskBoard } from '../../coordination/task-board.js';
import { parseJson, parseQuery } from '../body.js';
import { HttpError } from '../errors.js';
import { ok, type Route } from '../router.js';

const ALL = ['admin', 'agent', 'expert'] as const;

export interface Coordination {
  reviews: ReviewDesk;
  post: PostOffice;
  elicitations: Elicitations;
  tasks: TaskBoard;
}

const mapped = async <T>(fn: () => Promise<T> | T): Promise<T> => {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ReviewError || e instanceof CoordinationError) {
      throw new HttpError(
        e.status,
        e.status === 404 ? ErrorCode.notFound : e.status === 403 ? ErrorCode.forbidden : 'conflict',
        e.message,
      );
    }
    throw e;
  }
};

export function coordinationRoutes(svc: BridgeServices, c: Coordination): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/reviews',
      access: ALL,
      handler: ({ query }) => {
        const q = parseQuery(query, z.object({ state: ReviewState.optional() }));
        return ok({ reviews: c.reviews.list(q.state) });
      },
    },
    {
      method: 'GET',
      path: '/v1/reviews/:id',
      access: ALL,
      handler: async ({ params, query }) => {
        const q = parseQuery(
          query,
          z.object({ waitMs: z.coerce.number().int().min(0).max(60_000).default(0) }),
        );
        return ok(await mapped(() => c.reviews.wait(params.id!, q.waitMs)));
      },
    },
    {
      method: 'POST',
      path: '/v1/reviews/:id/answer',
      access: ['admin', 'expert'],
      handler: async ({ params, body, session, claim }) => {
        const a = parseJson(body, ReviewAnswer);
        const s = session!;
        // What the session was opened with, as far as the developer still names it.
        const named = svc.experts.capabilitiesOf(s.agentId);
        const by = {
          agentId: s.agentId,
          role: s.role,
          capabilities: s.capabilities.filter((c) => named.includes(c)),
        };
        return ok(await mapped(() => c.reviews.answer(params.id!, by, a.decision, a.reason, claim)));
      },
    },
    {
      method: 'POST',
      path: '/v1/messages',
      access: ALL,
      handler: async ({ body, session, claim }) => {
        const m = parseJson(body, SendMessage);
        return ok(await mapped(() => c.post.send(session!.agentId, m, claim)), 201);
      },
    },
    {
      method: 'GET',
      path: '/v1/messages',
      access: ALL,
      handler: ({ query, session }) => {
        const q = parseQuery(
          query,
          z.object({
            unacked: z.enum(['true', 'false']).default('false'),
            thread: z.string().max(64).optional(),
          }),
        );
        return ok({
          messages: c.post.inbox(session!.agentId, { unackedOnly: q.unacked === 'true', thread: q.thread }),
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/messages/:id/ack',
      access: ALL,
      handler: async ({ params, session, claim }) =>
        ok({ seq: await mapped(() => c.post.ack(session!.agentId, params.id!, claim)) }),
    },
    {
      method: 'POST',
      path: '/v1/collaborations',
      access: ALL,
      handler: async ({ body, session, claim }) => {
        const r = parseJson(body, CollaborationRequest);
        return ok(await mapped(() => c.post.startCollaboration(session!.agentId, r, claim)), 201);
      },
    },
    {
      method: 'GET',
      path: '/v1/collaborations',
      access: ALL,
      handler: () => ok({ collaborations: c.post.listCollaborations() }),
    },
    {
      method: 'POST',
      path: '/v1/elicitations',
      access: ALL,
      handler: async ({ body, session, claim }) => {
        const r = parseJson(body, ElicitRequest);
        return ok(await mapped(() => c.elicitations.ask(session!.agentId, r, claim)), 201);
      },
    },
    {
      method: 'GET',
      path: '/v1/elicitations',
      access: ALL,
      handler: ({ session }) => ok({ elicitations: c.elicitations.list(session!.agentId) }),
    },
    {
      method: 'GET',
      path: '/v1/elicitations/:id',
      access: ALL,
      handler: async ({ params, session }) =>
        ok(await mapped(() => c.elicitations.get(params.id!, session!.agentId, session!.role === 'admin'))),
    },
    {
      method: 'POST',
      path: '/v1/elicitations/:id/respond',
      // admin too: the developer answers, from VS Code, what agents ask of "developer"
      access: ALL,
      handler: async ({ params, body, session, claim }) => {
        const r = parseJson(body, ElicitResponse);
        return ok(await mapped(() => c.elicitations.respond(params.id!, session!.agentId, r, claim)));
      },
    },
    {
      method: 'POST',
      path: '/v1/tasks',
      access: ALL,
      handler: async ({ body, session, claim }) => {
        const r = parseJson(body, TaskRequest);
        return ok(await mapped(() => c.tasks.dispatch(session!.agentId, r, claim)), 201);
      },
    },
    {
      method: 'GET',
      path: '/v1/tasks',
      access: ALL,
      handler: ({ session }) => ok({ tasks: c.tasks.list(session!.agentId) }),
    },
    {
      method: 'POST',
      path: '/v1/tasks/:id/status',
      access: ALL,
      handler: async ({ params, body, session, claim }) => {
        const r = parseJson(body, TaskUpdate);
        return ok(await mapped(() => c.tasks.update(params.id!, session!.agentId, r.status, r.note, claim)));
      },
    },
  ];
}
