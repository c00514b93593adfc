import type Docker from 'dockerode';
import {
  dockerodeOptions,
  engineCandidates,
  type CandidateInput,
  type EngineCandidate,
} from './candidates.js';

export interface FoundEngine {
  docker: Docker;
  candidate: EngineCandidate;
  /** e.g. "Docker 28.2.2" or "Podman Engine 5.0.0" */
  version: string;
}

export interface Attempt {
  candidate: EngineCandidate;
  /** Why it did not answer, or why it was not tried. */
  error: string;
}

/** No engine answered: the message lists every source looked at and how to fix it. */
export class EngineNotFoundError extends Error {
  override name = 'EngineNotFoundError';
  constructor(readonly attempts: Attempt[]) {
    super(describeAttempts(attempts));
  }
}

export const ENGINE_HELP =
  'Start Docker (Docker Desktop, or `sudo systemctl start docker`) or Podman ' +
  '(`systemctl --user start podman.socket`), or set "lighthouse.dockerHost" to the engine\'s address ' +
  '(e.g. unix:///var/run/docker.sock or tcp://127.0.0.1:2375).';

function describeAttempts(attempts: Attempt[]): string {
  const lines = attempts.map((a) =>
    a.candidate.endpoint
      ? `- ${a.candidate.source} (${a.candidate.endpoint}): ${a.error}`
      : `- ${a.candidate.source}: ${a.error}`,
  );
  return `No container engine answered. Tried:\n${lines.join('\n')}\n${ENGINE_HELP}`;
}

/** Turns a connection error into words: a missing socket and a stopped engine read differently. */
export function explainConnectError(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { statusCode?: number; reason?: string };
  switch (err.code) {
    case 'ENOENT':
      return 'no such socket (is the engine installed and running?)';
    case 'ECONNREFUSED':
      return 'connection refused (the engine is stopped)';
    case 'EACCES':
      return 'permission denied (add your user to the "docker" group, or use rootless Podman)';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return 'no answer in time';
    default:
      if (err.statusCode) return `answered HTTP ${err.statusCode}${err.reason ? ` (${err.reason})` : ''}`;
      return err.message || String(e);
  }
}

export interface DiscoverOptions extends CandidateInput {
  /** Per candidate; a local socket answers in milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The first engine that answers a ping, in the order of `engineCandidates`. */
export async function discoverEngine(opts: DiscoverOptions): Promise<FoundEngine> {
  // Loaded on first use: dockerode and what it pulls in would slow the extension's activation.
  const { default: Docker } = await import('dockerode');
  const attempts: Attempt[] = [];
  for (const candidate of engineCandidates(opts)) {
    opts.signal?.throwIfAborted();
    if (!candidate.endpoint) {
      attempts.push({ candidate, error: candidate.skipped ?? 'not set' });
      continue;
    }
    const timeoutMs = opts.timeoutMs ?? 3000;
    let docker: Docker;
    try {
      docker = new Docker({ ...dockerodeOptions(candidate.endpoint), timeout: timeoutMs });
    } catch (e) {
      attempts.push({ candidate, error: (e as Error).message });
      continue;
    }
    const started = Date.now();
    try {
      await docker.ping();
      const v = await docker.version();
      const named = v.Components?.find((c) => /engine/i.test(c.Name))?.Name;
      const engine = !named || named === 'Engine' ? 'Docker Engine' : named;
      // The probe's short timeout would cut long builds and followed logs: use a fresh client.
      return {
        docker: new Docker(dockerodeOptions(candidate.endpoint)),
        candidate,
        version: `${engine} ${v.Version}`,
      };
    } catch (e) {
      // dockerode ends a request that outlives its timeout with a bare "socket hang up" (the
      // timer runs on the event loop's clock, which may lag Date.now() a little: hence 0.9).
      const timedOut =
        (e as NodeJS.ErrnoException).code === 'ECONNRESET' && Date.now() - started >= timeoutMs * 0.9;
      attempts.push({ candidate, error: timedOut ? 'no answer in time' : explainConnectError(e) });
    }
  }
  throw new EngineNotFoundError(attempts);
}
