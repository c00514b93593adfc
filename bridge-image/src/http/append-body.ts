import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import {
  AppendRequest,
  EVENT_TYPE_PATTERN,
  MAX_EVENTS_PER_APPEND,
  nestsDeeperThan,
  STREAM_NAME_PATTERN,
} from '../../protocol/index.js';
import { parseJson, tooDeep } from './body.js';

export type AppendBody = z.output<typeof AppendRequest>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isString = (v: unknown, min: number, max: number, re: RegExp): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max && re.test(v);

/**
 * The hot path's check of a POST /v1/events body: the same rules as the protocol's AppendRequest
 * (zod stays the definition; a test holds the two to agree), written out by hand because it runs on
 * every append. Returns the parsed request, or undefined for anything AppendRequest would refuse.
 */
export function checkAppend(json: unknown): AppendBody | undefined {
  if (!isObject(json)) return undefined;
  const { stream, expectedVersion, events } = json;
  if (stream !== undefined && !isString(stream, 1, 200, STREAM_NAME_PATTERN)) return undefined;
  if (
    expectedVersion !== undefined &&
    (typeof expectedVersion !== 'number' || !Number.isSafeInteger(expectedVersion) || expectedVersion < 0)
  )
    return undefined;
  if (!Array.isArray(events) || events.length < 1 || events.length > MAX_EVENTS_PER_APPEND) return undefined;
  const out = new Array<AppendBody['events'][number]>(events.length);
  for (let i = 0; i < events.length; i++) {
    const e: unknown = events[i];
    if (!isObject(e)) return undefined;
    const type = e.type;
    if (!isString(type, 3, 100, EVENT_TYPE_PATTERN)) return undefined;
    out[i] = { type, data: e.data === undefined ? null : e.data };
  }
  const r: AppendBody = { events: out };
  if (stream !== undefined) r.stream = stream;
  if (expectedVersion !== undefined) r.expectedVersion = expectedVersion;
  return r;
}

/**
 * Parses a POST /v1/events body: the hand-written check for what is valid, and zod for what is not,
 * so that every refusal is zod's 400 naming the field, word for word.
 */
export function parseAppendBody(body: Buffer): AppendBody {
  // Before parsing: a value nested deeper than the limit would parse, but could not be stored.
  if (nestsDeeperThan(body)) throw tooDeep();
  if (isUtf8(body)) {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      json = undefined;
    }
    const r = checkAppend(json);
    if (r) return r;
  }
  return parseJson(body, AppendRequest);
}
