import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where an engine endpoint came from, in the order they are tried. */
export type EngineSource =
  | 'setting lighthouse.dockerHost'
  | 'DOCKER_HOST'
  | 'docker context'
  | 'default Docker socket'
  | 'Podman (rootful)'
  | 'Podman (rootless)';

export interface EngineCandidate {
  source: EngineSource;
  /** unix:///path, npipe:////./pipe/name, tcp://host:port, http(s)://host:port or ssh://user@host */
  endpoint: string;
  /** Why this source gave nothing to try (e.g. "not set"); endpoint is empty then. */
  skipped?: string;
}

export interface CandidateInput {
  setting: string | undefined;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  homeDir?: string;
  /** Socket paths standing in for the well-known ones (tests: a machine without an engine). */
  sockets?: { docker?: string[]; podmanRootful?: string };
}

/**
 * The engines to try, in order: the setting, DOCKER_HOST, the current docker context, the
 * default Docker socket, then Podman's rootful and rootless sockets. Sources with nothing to try
 * are kept (with `skipped`) so that "nothing answered" can say everything that was looked at.
 */
export function engineCandidates(input: CandidateInput): EngineCandidate[] {
  const home = input.homeDir ?? os.homedir();
  const out: EngineCandidate[] = [];
  const add = (source: EngineSource, endpoint: string | undefined, skipped = 'not set') => {
    if (endpoint && endpoint.trim() !== '') out.push({ source, endpoint: endpoint.trim() });
    else out.push({ source, endpoint: '', skipped });
  };
  add('setting lighthouse.dockerHost', input.setting);
  add('DOCKER_HOST', input.env.DOCKER_HOST);
  const ctx = currentContextEndpoint(input.env, home);
  add('docker context', ctx.endpoint, ctx.why);
  if (input.platform === 'win32') {
    add('default Docker socket', 'npipe:////./pipe/docker_engine');
    add('Podman (rootful)', 'npipe:////./pipe/podman-machine-default');
    out.push({ source: 'Podman (rootless)', endpoint: '', skipped: 'not on Windows' });
    return out;
  }
  const dockerSockets = input.sockets?.docker ?? [
    '/var/run/docker.sock',
    // Docker Desktop's per-user socket, used when /var/run/docker.sock is not linked.
    ...(input.platform === 'darwin' ? [path.join(home, '.docker', 'run', 'docker.sock')] : []),
  ];
  for (const s of dockerSockets) add('default Docker socket', `unix://${s}`);
  add('Podman (rootful)', `unix://${input.sockets?.podmanRootful ?? '/run/podman/podman.sock'}`);
  const xdg = input.env.XDG_RUNTIME_DIR;
  add(
    'Podman (rootless)',
    xdg ? `unix://${path.join(xdg, 'podman', 'podman.sock')}` : undefined,
    'XDG_RUNTIME_DIR is not set',
  );
  return dedupe(out);
}

function dedupe(list: EngineCandidate[]): EngineCandidate[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    if (!c.endpoint) return true;
    if (seen.has(c.endpoint)) return false;
    seen.add(c.endpoint);
    return true;
  });
}

/** The endpoint of the docker CLI's current context (DOCKER_CONTEXT, else config.json's currentContext). */
export function currentContextEndpoint(
  env: NodeJS.ProcessEnv,
  home: string,
): { endpoint: string | undefined; why: string } {
  const configDir = env.DOCKER_CONFIG || path.join(home, '.docker');
  let name = env.DOCKER_CONTEXT;
  if (!name) {
    try {
      const config = JSON.parse(fs.readFileSync(path.join(configDir, 'config.json'), 'utf8')) as {
        currentContext?: unknown;
      };
      name = typeof config.currentContext === 'string' ? config.currentContext : undefined;
    } catch {
      return { endpoint: undefined, why: `no ${path.join(configDir, 'config.json')}` };
    }
  }
  if (!name || name === 'default') return { endpoint: undefined, why: 'the default context (tried below)' };
  // The CLI keeps a context's metadata under the SHA-256 of its name.
  const id = createHash('sha256').update(name).digest('hex');
  const meta = path.join(configDir, 'contexts', 'meta', id, 'meta.json');
  try {
    const parsed = JSON.parse(fs.readFileSync(meta, 'utf8')) as {
      Endpoints?: { docker?: { Host?: unknown } };
    };
    const host = parsed.Endpoints?.docker?.Host;
    if (typeof host === 'string' && host) return { endpoint: host, why: '' };
    return { endpoint: undefined, why: `context "${name}" has no docker endpoint` };
  } catch {
    return { endpoint: undefined, why: `context "${name}" has no metadata at ${meta}` };
  }
}

/** dockerode's connection options for an endpoint; throws with a clear message for a bad one. */
export function dockerodeOptions(endpoint: string): {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https' | 'ssh';
  username?: string;
} {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  // npipe:////./pipe/name is the pipe //./pipe/name, which Node opens as \\.\pipe\name.
  if (endpoint.startsWith('npipe://'))
    return { socketPath: endpoint.slice('npipe://'.length).replace(/\//g, '\\') };
  if (endpoint.startsWith('/')) return { socketPath: endpoint };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(
      `"${endpoint}" is not an engine address (expected unix:///path, tcp://host:port or ssh://host)`,
    );
  }
  switch (url.protocol) {
    case 'tcp:':
    case 'http:':
      return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
    case 'https:':
      return { host: url.hostname, port: Number(url.port || 2376), protocol: 'https' };
    case 'ssh:': {
      const o: { host: string; port: number; protocol: 'ssh'; username?: string } = {
        host: url.hostname,
        port: Number(url.port || 22),
        protocol: 'ssh',
      };
      if (url.username) o.username = decodeURIComponent(url.username);
      return o;
    }
    default:
      throw new Error(
        `"${endpoint}": unsupported scheme ${url.protocol} (use unix://, tcp://, https:// or ssh://)`,
      );
  }
}
