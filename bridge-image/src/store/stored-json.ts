import { clipDeepJson, MAX_STORED_DEPTH, nestsDeeperThan, UNREADABLE } from '../../protocol/json-depth.js';

/**
 * A stored JSON value as readers get it: parsed, or, when it nests deeper than MAX_STORED_DEPTH
 * or is not JSON at all, with the part that cannot be served replaced by an UNREADABLE marker.
 * Never throws, so that no stored row can break a query, an export or a stream.
 */
export function readStoredJson(text: string): unknown {
  let safe: string | undefined = text;
  if (nestsDeeperThan(text, MAX_STORED_DEPTH)) safe = clipDeepJson(text, MAX_STORED_DEPTH);
  if (safe !== undefined) {
    try {
      return JSON.parse(safe) as unknown;
    } catch {
      // Not JSON: the marker below.
    }
  }
  return { [UNREADABLE]: 'not valid JSON', json: text };
}
