import { z } from 'zod';
import { AgentId, Event } from './events.js';

/**
 * The JSONL export (GET /v1/admin/export, `bridge.js export`; read back by `bridge.js import`): a
 * header line, then blob lines, then every event in seq order, one JSON object per line.
 */
export const ExportHeader = z.object({
  kind: z.literal('lighthouse-export'),
  // 1: every blob whole; 2: blobs as stored (chunks, and a manifest with `size` for a chunked one);
  // 3: also grant lines (who may read which blob). Older formats import with grants derived from
  // their shadow events.
  format: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  schemaVersion: z.number().int(),
  /** The last event's seq: an export that ends before it was cut short. */
  lastSeq: z.number().int(),
});
export type ExportHeader = z.infer<typeof ExportHeader>;

/** The format this bridge writes. */
export const EXPORT_FORMAT = 3;

export const ExportBlobLine = z.object({
  kind: z.literal('blob'),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  data: z.base64(),
  /** Only on a manifest: the size of the whole content, whose chunks are blob lines of their own. */
  size: z.number().int().positive().optional(),
});
export type ExportBlobLine = z.infer<typeof ExportBlobLine>;

/** An agent may read this blob (it stored it); between the blob lines and the event lines. */
export const ExportGrantLine = z.object({
  kind: z.literal('grant'),
  agentId: AgentId,
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ExportGrantLine = z.infer<typeof ExportGrantLine>;

export const ExportEventLine = Event.extend({ kind: z.literal('event') });
export type ExportEventLine = z.infer<typeof ExportEventLine>;
