import {
  BridgeError,
  ErrorCode,
  LeaseHeldDetails,
  VersionConflictDetails,
} from '../bridge-image/protocol/index.js';

/** Who was calling where, so that a failure can say which bridge and which agent it was about. */
export interface CallContext {
  bridgeUrl: string;
  agentId: string;
  /** What the calling tool suggests when the bridge has no such thing (404 not_found), e.g. a lease. */
  notFoundHint?: string;
  /** What the calling tool suggests when the bridge refuses the agent (403 forbidden), e.g. a role. */
  forbiddenHint?: string;
  /** What the calling tool suggests when the bridge refuses the request as it stands (400 or 409 conflict). */
  conflictHint?: string;
  /** Where the calling tool's effect shows, for a call carried out whose answer was lost (reply_lost). */
  doneHint?: string;
}

/** The bridge's answer when a path is refused by its path-safety rules (400 or 403). */
export const PATH_REJECTED = 'path_rejected';
/** The bridge's answer when another agent's lease stands in the way (423). */
export const LEASE_HELD = 'lease_held';

/** The bridge's answer when a coordination request clashes with what it holds (400 or 409). */
export const CONFLICT = 'conflict';

/** How paths must look, told to the model whenever the bridge refuses one. */
export const PATH_RULE =
  'Paths are relative to the workspace root, with "/" between names and no ".." segments, e.g. ' +
  '"src/index.ts"; absolute paths, "~", backslashes and encoded or look-alike dots are refused.';

/**
 * Turns a failed bridge call into a message that tells the calling model what happened and what
 * to do next. The model cannot read our logs, so everything it needs must be in this text.
 */
export function describeFailure(err: unknown, ctx: CallContext): string {
  if (!(err instanceof BridgeError)) {
    // Not a BridgeError: the bridge answered with something the protocol does not describe.
    const msg = err instanceof Error ? err.message : String(err);
    return `Unexpected answer from the Lighthouse bridge at ${ctx.bridgeUrl}: ${msg}. The bridge and this MCP server may be different versions.`;
  }
  const { code, message } = err;
  switch (code) {
    case 'unreachable':
      return `The Lighthouse bridge at ${ctx.bridgeUrl} is unreachable (${message}). It is not running or listens elsewhere: start it (npm start in the project, or from VS Code) and retry; if it runs on another port, restart this MCP server with --bridge <url>.`;
    case 'timeout':
      return `The Lighthouse bridge at ${ctx.bridgeUrl} did not answer in time (${message}). It may be overloaded or stuck; retry in a moment, and if it keeps happening check the bridge's log.`;
    case 'cancelled':
      return `The call was cancelled before the bridge answered (${message}).`;
    case ErrorCode.versionConflict:
      return describeConflict(err);
    case ErrorCode.replyLost:
      // The model calls the tool again with a new key, which would do it again: it must look first.
      return (
        'The bridge carried this call out, but stopped before it could answer, so the result is not known ' +
        'here; it was not done a second time. Look at its effect before deciding what to do next: calling ' +
        `again would do it again. ${ctx.doneHint ?? 'The list and read tools show the current state.'}`
      );
    case ErrorCode.badSignature:
    case ErrorCode.unauthenticated:
      return `The bridge at ${ctx.bridgeUrl} refused the credentials of agent "${ctx.agentId}" (${code}: ${message}). The key file must hold the key made for exactly this agent id by this bridge's master secret (npm run key -- ${ctx.agentId}); fix the MCP server's --agent or --key-file and restart it.`;
    case ErrorCode.staleTimestamp:
      return `The bridge refused the request because the clocks disagree (${message}). Fix the system clock and retry.`;
    case ErrorCode.sessionRevoked:
      return `The bridge revoked this agent's session (${message}). The developer sees why in VS Code; the MCP server must be restarted to open a new session.`;
    case ErrorCode.forbidden:
      return `Not allowed for agent "${ctx.agentId}": ${message}.${ctx.forbiddenHint ? ` ${ctx.forbiddenHint}` : ''}`;
    case ErrorCode.rateLimited:
      return `Too many requests: ${message}. Slow down; the MCP server must be restarted to open a new session.`;
    case ErrorCode.bodyTooLarge:
      return `The request is too large for the bridge (${message}). Send less data per call (for files: at most 64 MB).`;
    case ErrorCode.unavailable:
      return `The bridge is not available right now (${message}). Retry in a moment.`;
    case ErrorCode.invalidRequest:
    case ErrorCode.invalidJson:
    case ErrorCode.invalidUtf8:
      return `The bridge refused the arguments: ${message}. Fix them and retry.`;
    case ErrorCode.notFound:
      return `Not found: ${message}.${ctx.notFoundHint ? ` ${ctx.notFoundHint}` : ''}`;
    case CONFLICT:
      return err.status === 400
        ? `The bridge refused it: ${message}. Fix it and retry.${ctx.conflictHint ? ` ${ctx.conflictHint}` : ''}`
        : `Refused: ${message}.${ctx.conflictHint ? ` ${ctx.conflictHint}` : ''}`;
    case LEASE_HELD:
      return describeLeaseHeld(err, ctx);
    case PATH_REJECTED:
      return `The bridge refused the path (${message}). ${PATH_RULE}`;
    // The errnos of the shadow file API, each with the next step.
    case 'ENOENT':
      return `${message}. Nothing by that name exists in your shadow of the workspace. Check the path (relative to the workspace root): list_directory or tree show what exists, search_files finds files by content.`;
    case 'EISDIR':
      return `${message}. This operation needs a file, not a directory: give the full path of a file (list_directory shows what the directory holds).`;
    case 'ENOTDIR':
      return `${message}. A file stands where a directory is needed. Use another path, or move or delete that file first.`;
    case 'ENOTEMPTY':
      return `${message}. Only an empty directory can be removed. Delete or move the files inside it first (list_directory shows them).`;
    case 'EEXIST':
      return `${message}. Choose another name, or delete what is there first.`;
    case 'EINVAL':
      return `The bridge refused the operation: ${message}.`;
    default:
      return `The bridge answered HTTP ${err.status} ${code}: ${message}.`;
  }
}

function describeConflict(err: BridgeError): string {
  const details = VersionConflictDetails.safeParse(err.details);
  if (!details.success) return `Version conflict: ${err.message}. Re-read the stream and retry.`;
  const { stream, expectedVersion, currentVersion } = details.data;
  return `Version conflict: stream ${stream} is at version ${currentVersion}, not ${expectedVersion}; another writer got there first. Re-read it (query_events with stream "${stream}") and retry with expectedVersion ${currentVersion}.`;
}

function describeLeaseHeld(err: BridgeError, ctx: CallContext): string {
  const details = LeaseHeldDetails.safeParse(err.details);
  if (!details.success) {
    return `Refused because of another agent's lease: ${err.message}. list_leases shows who holds which paths and until when; wait for it to expire or ask the holder to release it.`;
  }
  const { holder, glob, leaseId, expiresAt } = details.data;
  const who = holder === ctx.agentId ? 'you (from another session)' : `agent "${holder}"`;
  return (
    `Refused: ${err.message}. The lease (${leaseId} on "${glob}") belongs to ${who} and lasts until ` +
    `${expiresAt}${untilInWords(expiresAt)}. Wait until it expires or is released, then retry ` +
    `(list_leases shows the live leases); or ask ${holder} to release it (e.g. add_annotation on the ` +
    'path, or store_event on a shared stream they read); or work on other files meanwhile.'
  );
}

/** " (in about 4 min)": how long until an ISO time, for a model that does not know what time it is. */
function untilInWords(iso: string): string {
  const ms = Date.parse(iso) - Date.now();
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return ' (about now)';
  if (ms < 90_000) return ` (in about ${Math.max(1, Math.round(ms / 1000))} s)`;
  if (ms < 90 * 60_000) return ` (in about ${Math.round(ms / 60_000)} min)`;
  return ` (in about ${Math.round(ms / 3600_000)} h)`;
}
