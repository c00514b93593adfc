import { ErrorCode, EventQuery, type EventPage } from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { appendedBody } from '../../store/append-reply.js';
import { VersionConflict } from '../../store/event-store.js';
import { parseAppendBody } from '../append-body.js';
import { parseQuery } from '../body.js';
import { HttpError } from '../errors.js';
import { ok, type Route } from '../router.js';

const ALL = ['admin', 'agent', 'expert'] as const;
const list = (s: string | undefined) =>
  s
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function eventRoutes(svc: BridgeServices): Route[] {
  const { store } = svc;
  return [
    {
      method: 'POST',
      path: '/v1/events',
      access: ALL,
      remembersReply: true,
      handler: async ({ body, session, idempotencyKey }) => {
        const s = session!;
        const req = parseAppendBody(body);
        const own = `agent:${s.agentId}`;
        const stream = req.stream ?? own;
        // Agents write only custom events, and only to their own stream or a shared custom one.
        for (let i = 0; i < req.events.length; i++) {
          const type = req.events[i]!.type;
          if (!type.startsWith('custom.')) {
            throw new HttpError(
              400,
              ErrorCode.invalidRequest,
              `events[${i}].type: only custom.* events may be appended through the API, not ${type}`,
            );
          }
        }
        if (stream !== own && !stream.startsWith('custom:')) {
          throw new HttpError(
            403,
            ErrorCode.forbidden,
            `stream: you may append to ${own} or a custom:<name> stream, not ${stream}`,
          );
        }
        try {
          const events = await store.append({
            stream,
            agentId: s.agentId,
            expectedVersion: req.expectedVersion,
            events: req.events,
            idempotencyKey,
          });
          const ids = events.map((e) => e.id);
          const reply = ok(appendedBody(stream, ids, events[0]!.seq, events[0]!.streamVersion), 201);
          reply.remembered = idempotencyKey !== undefined;
          return reply;
        } catch (e) {
          if (e instanceof VersionConflict) {
            throw new HttpError(
              409,
              ErrorCode.versionConflict,
              e.message,
              {
                stream: e.stream,
                expectedVersion: e.expectedVersion,
                currentVersion: e.currentVersion,
              },
              idempotencyKey !== undefined,
            );
          }
          throw e;
        }
      },
    },
    {
      method: 'GET',
      path: '/v1/events',
      access: ALL,
      handler: async ({ query }) => {
        const q = parseQuery(query, EventQuery);
        // Writes made through the FUSE mount are recorded after close(2) returns; a query that may
        // list them waits for them.
        if (q.stream?.startsWith('shadow:')) await svc.mountWrites(q.stream.slice('shadow:'.length));
        else if (q.stream === undefined && (q.type === undefined || q.type.includes('shadow')))
          await svc.mountWrites();
        if (q.since && q.until && Date.parse(q.since) >= Date.parse(q.until)) {
          throw new HttpError(
            400,
            ErrorCode.invalidRequest,
            'invalid query: since must be earlier than until',
          );
        }
        const page = store.query({
          types: list(q.type),
          agents: list(q.agent),
          streams: q.stream === undefined ? undefined : [q.stream],
          path: q.path,
          since: q.since === undefined ? undefined : Date.parse(q.since),
          until: q.until === undefined ? undefined : Date.parse(q.until),
          after: q.after,
          before: q.before,
          limit: q.limit,
          order: q.order,
        });
        const body: EventPage = { ...page, lastSeq: store.lastSeq };
        return ok(body);
      },
    },
  ];
}
