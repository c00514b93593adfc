import { z } from 'zod';
import { Event } from './events.js';

export const StreamFilter = z.object({
  types: z.array(z.string().max(100)).max(50).optional(),
  streams: z.array(z.string().max(200)).max(50).optional(),
  agents: z.array(z.string().max(64)).max(50).optional(),
});
export type StreamFilter = z.infer<typeof StreamFilter>;

/** Messages a client sends on /v1/stream. */
export const ClientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('subscribe'),
    id: z.string().min(1).max(64),
    /** Deliver events with seq greater than this; 0 replays everything. */
    after: z.number().int().min(0).default(0),
    filter: StreamFilter.optional(),
  }),
  z.object({ type: z.literal('unsubscribe'), id: z.string().min(1).max(64) }),
]);
export type ClientMessage = z.input<typeof ClientMessage>;

/** Messages the bridge pushes on /v1/stream. */
export const ServerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('event'), sub: z.string(), event: Event }),
  z.object({ type: z.literal('caught-up'), sub: z.string(), seq: z.number().int() }),
  z.object({ type: z.literal('error'), sub: z.string().optional(), code: z.string(), message: z.string() }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** Close codes the bridge uses on /v1/stream, beyond the standard ones. */
export const CloseCode = {
  goingAway: 1001,
  policy: 1008,
  sessionRevoked: 4001,
  slowConsumer: 4008,
  sessionExpired: 4002,
} as const;
