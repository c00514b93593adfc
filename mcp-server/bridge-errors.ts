import { BridgeError, ErrorCode, VersionConflictDetails } from '../bridge-image/protocol/index.js';

/** Who was calling where, so that a failure can say which bridge and which agent it was about. */
export interface CallContext {
  bridgeUrl: string;
  agentId: string;
}

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
    case ErrorCode.badSignature:
    case ErrorCode.unauthenticated:
      return `The bridge at ${ctx.bridgeUrl} refused the credentials of agent "${ctx.agentId}" (${code}: ${message}). The key file must hold the key made for exactly this agent id by this bridge's master secret (npm run key -- ${ctx.agentId}); fix the MCP server's --agent or --key-file and restart it.`;
    case ErrorCode.staleTimestamp:
      return `The bridge refused the request because the clocks disagree (${message}). Fix the system clock and retry.`;
    case ErrorCode.sessionRevoked:
      return `The bridge revoked this agent's session (${message}). The developer sees why in VS Code; the MCP server must be restarted to open a new session.`;
    case ErrorCode.forbidden:
      return `Not allowed for agent "${ctx.agentId}": ${message}.`;
    case ErrorCode.rateLimited:
      return `Too many requests: ${message}. Slow down; the MCP server must be restarted to open a new session.`;
    case ErrorCode.bodyTooLarge:
      return `The request is too large for the bridge (${message}). Store less data per event.`;
    case ErrorCode.unavailable:
      return `The bridge is not available right now (${message}). Retry in a moment.`;
    case ErrorCode.invalidRequest:
    case ErrorCode.invalidJson:
    case ErrorCode.invalidUtf8:
      return `The bridge refused the arguments: ${message}. Fix them and retry.`;
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
