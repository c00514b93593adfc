import { z } from 'zod';

export const AgentId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'agent id: 1-64 letters, digits, "_", "." or "-"');

/** Ids the bridge itself signs events with: no agent may be called so. */
export const RESERVED_AGENT_IDS: ReadonlySet<string> = new Set(['admin', 'system', 'bridge', 'unknown']);
/**
 * Names and ids (streams, threads, display names) hold no control characters (C0 with NUL, DEL,
 * C1): they end up in logs, SQLite text, file names of the FUSE view and terminals.
 */
export const NO_CONTROL = /^[^\p{Cc}]*$/u;
export const NO_CONTROL_MESSAGE = 'must not hold control characters (NUL, newlines, escapes)';
/** Free text (notes, message bodies) may hold newlines and tabs, never NUL. */
export const NO_NUL = /^[^\0]*$/;
export const NO_NUL_MESSAGE = 'must not hold NUL characters';

/** A name or id: no control characters, at most `max` long. */
export const SafeName = (max: number) => z.string().max(max).regex(NO_CONTROL, NO_CONTROL_MESSAGE);
/** Free text: any characters but NUL, at most `max` long. */
export const SafeText = (max: number) => z.string().max(max).regex(NO_NUL, NO_NUL_MESSAGE);

/** The patterns of stream names and event types, shared with the bridge's fast check of appends. */
export const STREAM_NAME_PATTERN = /^[a-z][a-z0-9_-]*(:[^\s\p{Cc}]+)?$/u;
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

export const StreamName = z
  .string()
  .min(1)
  .max(200)
  .regex(
    STREAM_NAME_PATTERN,
    'stream: "<kind>" or "<kind>:<name>", e.g. agent:claude-1, with no spaces or control characters',
  );

export const EventType = z
  .string()
  .min(3)
  .max(100)
  .regex(EVENT_TYPE_PATTERN, 'event type: dotted lowercase, e.g. custom.build_started');

/** A stored event, as every reader sees it. `seq` is global and gap-free. */
export const Event = z.object({
  seq: z.number().int().positive(),
  id: z.string(),
  stream: z.string(),
  streamVersion: z.number().int().positive(),
  type: z.string(),
  agentId: z.string(),
  ts: z.string(),
  data: z.unknown(),
});
export type Event = z.infer<typeof Event>;

/** The vocabulary of the bridge's own events; agents add `custom.*`. */
export const EventTypes = {
  agentRegistered: 'agent.registered',
  /** The developer gave the agent a key: it has a shadow from then on, before it ever connects. */
  agentAdded: 'agent.added',
  agentHeartbeat: 'agent.heartbeat',
  agentConnected: 'agent.connected',
  agentDisconnected: 'agent.disconnected',
  sessionStarted: 'session.started',
  sessionEnded: 'session.ended',
  sessionRevoked: 'session.revoked',
  systemStarted: 'system.started',
  systemShutdown: 'system.shutdown',
  systemImported: 'system.imported',
} as const;

/** Kinds of security events, recorded as `security.<kind>`. */
export const SecurityKind = z.enum([
  'unsigned',
  'bad_signature',
  'stale_timestamp',
  'replay',
  'unknown_session',
  'expired_session',
  'revoked_session_use',
  'forbidden',
  'hijack_suspected',
  'rate_limited',
  'path_rejected',
]);
export type SecurityKind = z.infer<typeof SecurityKind>;

export const NewEvent = z.object({
  type: EventType,
  data: z.unknown().default(null),
});
export type NewEvent = z.infer<typeof NewEvent>;

export const MAX_EVENTS_PER_APPEND = 1000;

/** POST /v1/events: one or more events, appended atomically to one stream. */
export const AppendRequest = z.object({
  stream: StreamName.optional(),
  expectedVersion: z.number().int().min(0).optional(),
  events: z.array(NewEvent).min(1).max(MAX_EVENTS_PER_APPEND),
});
export type AppendRequest = z.input<typeof AppendRequest>;

export const AppendResponse = z.object({
  stream: z.string(),
  streamVersion: z.number().int(),
  events: z.array(z.object({ seq: z.number().int(), id: z.string(), streamVersion: z.number().int() })),
});
export type AppendResponse = z.infer<typeof AppendResponse>;

export const VersionConflictDetails = z.object({
  stream: z.string(),
  expectedVersion: z.number().int(),
  currentVersion: z.number().int(),
});

const intParam = (name: string, min: number) =>
  z.coerce
    .number({ message: `${name} must be an integer` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`);

/** GET /v1/events query string. Paging: pass `nextCursor` back as `after` (asc) or `before` (desc). */
export const EventQuery = z.object({
  type: SafeName(1000).optional(),
  agent: SafeName(200).optional(),
  stream: SafeName(200).optional(),
  path: SafeName(4096).optional(),
  since: z.iso.datetime({ offset: true, message: 'since must be an ISO 8601 date-time' }).optional(),
  until: z.iso.datetime({ offset: true, message: 'until must be an ISO 8601 date-time' }).optional(),
  after: intParam('after', 0).optional(),
  before: intParam('before', 1).optional(),
  limit: intParam('limit', 1).max(10_000, 'limit must be at most 10000').default(100),
  order: z.enum(['asc', 'desc']).default('asc'),
});
export type EventQuery = z.input<typeof EventQuery>;

export const EventPage = z.object({
  events: z.array(Event),
  nextCursor: z.number().int().nullable(),
  lastSeq: z.number().int(),
});
export type EventPage = z.infer<typeof EventPage>;

export const BlobPut = z.object({ hash: z.string(), size: z.number().int(), created: z.boolean() });
export type BlobPut = z.infer<typeof BlobPut>;
