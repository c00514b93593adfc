/**
 * The JSON bodies POST /v1/events answers with, built in one place for both sides of the store: the
 * route sends them, and the writer worker remembers them under an idempotency key inside the same
 * transaction as the append. Kept free of zod so that the writer's bundle stays small.
 */
import type { AppendResponse, ErrorBody, ErrorCode } from '../../protocol/index.js';

const VERSION_CONFLICT: typeof ErrorCode.versionConflict = 'version_conflict';

export function conflictMessage(stream: string, expectedVersion: number, currentVersion: number): string {
  return `stream ${stream} is at version ${currentVersion}, not the expected ${expectedVersion}`;
}

/** The 201 body for events ids[k] appended at seqStart + k, streamVersion versionStart + k. */
export function appendedBody(
  stream: string,
  ids: readonly string[],
  seqStart: number,
  versionStart: number,
): AppendResponse {
  const events: AppendResponse['events'] = new Array<AppendResponse['events'][number]>(ids.length);
  for (let k = 0; k < ids.length; k++)
    events[k] = { seq: seqStart + k, id: ids[k]!, streamVersion: versionStart + k };
  return { stream, streamVersion: versionStart + ids.length - 1, events };
}

/** The 409 body for a wrong expectedVersion. */
export function conflictBody(stream: string, expectedVersion: number, currentVersion: number): ErrorBody {
  return {
    error: {
      code: VERSION_CONFLICT,
      message: conflictMessage(stream, expectedVersion, currentVersion),
      details: { stream, expectedVersion, currentVersion },
    },
  };
}
