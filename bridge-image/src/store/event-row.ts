import type { Event } from '../../protocol/index.js';
import { readStoredJson } from './stored-json.js';

/** An events row as SQLite gives it. */
export interface EventRow {
  seq: number;
  id: string;
  stream: string;
  stream_version: number;
  type: string;
  agent_id: string;
  ts: number;
  data: string;
}

export const EVENT_COLUMNS = 'seq, id, stream, stream_version, type, agent_id, ts, data';

export const toEvent = (r: EventRow): Event => ({
  seq: r.seq,
  id: r.id,
  stream: r.stream,
  streamVersion: r.stream_version,
  type: r.type,
  agentId: r.agent_id,
  ts: new Date(r.ts).toISOString(),
  // Never throws, and never too deep to be written back: no stored row can break a reader.
  data: readStoredJson(r.data),
});

/** The path an event concerns, kept in its own column for queries by path. */
export function pathOf(data: unknown): string | null {
  if (data && typeof data === 'object' && 'path' in data) {
    const p = (data as { path: unknown }).path;
    if (typeof p === 'string') return p;
  }
  return null;
}
