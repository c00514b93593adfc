import fs from 'node:fs';
import path from 'node:path';
import { AgentId, BridgeClient, BridgeError, deriveAdminKey, deriveAgentKey } from '../protocol/index.js';
import { createBridge } from './bridge.js';
import { ensureSecretFile, loadMasterSecret, SecretError, writeKeyFile } from './auth/secret.js';
import { parseArgs, UsageError } from './cli-args.js';
import { createLogger, isLogLevel } from './log.js';
import { nativeMountPoint, privateMountParent } from './mount-point.js';
import { keysDirOf } from './keyed-agents.js';
import type { FuseStatus } from './fuse/fuse-host.js';
import { EventStore, type Synchronous } from './store/event-store.js';
import { ImportError } from './store/import-error.js';
import { exportJsonl } from './store/jsonl.js';
import { importJsonl } from './store/jsonl-import.js';
import { StoreOpenError } from './store/schema.js';
import { writeLines } from './write-lines.js';

const HELP = `lighthouse bridge

usage:
  bridge.js [serve] [options]        run the bridge
  bridge.js key <agent-id> [--out F] write an agent's key file (mode 0600) from the master secret
  bridge.js backup --to FILE         online backup of the event store
  bridge.js export [--out FILE]      JSONL export (stdout by default)
  bridge.js import --from FILE       restore a JSONL export into an empty store (FILE - : stdin)
  bridge.js expert name <agent-id> --capabilities a,b
                                     name an agent expert on the running bridge at --host/--port
                                     (signed as admin with the master secret); again: replaces them
  bridge.js expert remove <agent-id> it is no longer an expert (its expert sessions are revoked)
  bridge.js expert list              the named experts

options (environment in brackets):
  --native               run on this machine: store under ./.lighthouse/data, a master secret
                         created at ./.lighthouse/secret on first run, workspace = current dir
  --host H               listen address, loopback only by default [LIGHTHOUSE_HOST] (127.0.0.1)
  --port N               port, 0 for any free one [LIGHTHOUSE_PORT] (8765)
  --data-dir D           event store directory [LIGHTHOUSE_DATA_DIR] (/data; --native: .lighthouse/data)
  --workspace W          the project, read-only to the bridge [LIGHTHOUSE_WORKSPACE] (/workspace)
  --secret-file F        master secret, 64 hex chars [LIGHTHOUSE_AUTH_SECRET_FILE] (required)
  --synchronous S        SQLite synchronous: FULL (default), NORMAL, EXTRA [LIGHTHOUSE_SYNCHRONOUS]
  --log-level L          debug, info, warn, error [LIGHTHOUSE_LOG_LEVEL] (info)
  --session-ttl-ms N     session life from open or refresh [LIGHTHOUSE_SESSION_TTL_MS] (3600000)
  --session-idle-ms N    idle time that ends a session [LIGHTHOUSE_SESSION_IDLE_MS] (1800000)
  --slow-consumer-ms N   a WebSocket reader stalled this long is disconnected [LIGHTHOUSE_SLOW_CONSUMER_MS] (30000)
  --fuse-mount P         mount the FUSE view (current/, shadows/, history/, context/, streams/) at P
                         [LIGHTHOUSE_FUSE_MOUNT] (/mnt/lighthouse/project; --native: outside the
                         project, $XDG_RUNTIME_DIR/lighthouse/<project>-<id> or /tmp/lighthouse-<uid>/...)
  --no-fuse              run without the FUSE view [LIGHTHOUSE_FUSE=off]
  --expert-timeout-ms N  an escalation waits this long for an expert [LIGHTHOUSE_EXPERT_TIMEOUT_MS] (30000)
  --review-timeout-ms N  then this long for the developer, before the policy default [LIGHTHOUSE_REVIEW_TIMEOUT_MS] (600000)
  --rate-limit N         requests per second per session before the burst revokes it [LIGHTHOUSE_RATE_LIMIT] (2000)
  --max-sessions-per-agent N
                         open sessions one agent may hold; one more is refused with 429
                         [LIGHTHOUSE_MAX_SESSIONS_PER_AGENT] (64)
  --max-connections N    simultaneous HTTP and WebSocket connections; node closes each one beyond it
                         at once, without an answer (counted in lighthouse_http_connections_dropped_total)
                         [LIGHTHOUSE_MAX_CONNECTIONS] (1024)
`;

const VALUED = [
  'host',
  'port',
  'data-dir',
  'workspace',
  'secret-file',
  'synchronous',
  'log-level',
  'out',
  'to',
  'from',
  'rate-limit',
  'session-ttl-ms',
  'session-idle-ms',
  'slow-consumer-ms',
  'fuse-mount',
  'expert-timeout-ms',
  'review-timeout-ms',
  'capabilities',
  'max-sessions-per-agent',
  'max-connections',
];
const SWITCHES = ['native', 'help', 'no-fuse'];

interface Resolved {
  native: boolean;
  host: string;
  port: number;
  dataDir: string;
  workspace: string;
  secretFile: string | undefined;
  synchronous: Synchronous;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  rateLimit: number | undefined;
  sessionTtlMs: number | undefined;
  sessionIdleMs: number | undefined;
  slowConsumerMs: number | undefined;
  fuseMount: string | null;
  /** The mount point is --native's own default (outside the project), not one given. */
  defaultMount: boolean;
  expertTimeoutMs: number | undefined;
  reviewTimeoutMs: number | undefined;
  maxSessionsPerAgent: number | undefined;
  maxConnections: number | undefined;
}

function resolve(flags: Map<string, string | true>): Resolved {
  const env = process.env;
  const get = (flag: string, envName: string): string | undefined => {
    const f = flags.get(flag);
    return typeof f === 'string' ? f : env[envName] || undefined;
  };
  const native = flags.get('native') === true;
  const home = path.resolve('.lighthouse');
  const port = Number(get('port', 'LIGHTHOUSE_PORT') ?? 8765);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0-65535, not ${get('port', 'LIGHTHOUSE_PORT')}`);
  const sync = (get('synchronous', 'LIGHTHOUSE_SYNCHRONOUS') ?? 'FULL').toUpperCase();
  if (!['OFF', 'NORMAL', 'FULL', 'EXTRA'].includes(sync))
    throw new UsageError(`--synchronous must be FULL, NORMAL, EXTRA or OFF, not ${sync}`);
  const level = get('log-level', 'LIGHTHOUSE_LOG_LEVEL') ?? 'info';
  if (!isLogLevel(level))
    throw new UsageError(`--log-level must be debug, info, warn or error, not ${level}`);
  const positive = (flag: string, envName: string): number | undefined => {
    const v = get(flag, envName);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(n > 0)) throw new UsageError(`--${flag} must be a positive number, not ${v}`);
    return n;
  };
  const whole = (flag: string, envName: string): number | undefined => {
    const n = positive(flag, envName);
    if (n !== undefined && !Number.isInteger(n))
      throw new UsageError(`--${flag} must be a whole number, not ${n}`);
    return n;
  };
  return {
    sessionTtlMs: positive('session-ttl-ms', 'LIGHTHOUSE_SESSION_TTL_MS'),
    sessionIdleMs: positive('session-idle-ms', 'LIGHTHOUSE_SESSION_IDLE_MS'),
    slowConsumerMs: positive('slow-consumer-ms', 'LIGHTHOUSE_SLOW_CONSUMER_MS'),
    native,
    host: get('host', 'LIGHTHOUSE_HOST') ?? '127.0.0.1',
    port,
    dataDir: path.resolve(
      get('data-dir', 'LIGHTHOUSE_DATA_DIR') ?? (native ? path.join(home, 'data') : '/data'),
    ),
    workspace: path.resolve(
      get('workspace', 'LIGHTHOUSE_WORKSPACE') ?? (native ? process.cwd() : '/workspace'),
    ),
    secretFile:
      get('secret-file', 'LIGHTHOUSE_AUTH_SECRET_FILE') ?? (native ? path.join(home, 'secret') : undefined),
    synchronous: sync as Synchronous,
    logLevel: level,
    rateLimit: positive('rate-limit', 'LIGHTHOUSE_RATE_LIMIT'),
    expertTimeoutMs: positive('expert-timeout-ms', 'LIGHTHOUSE_EXPERT_TIMEOUT_MS'),
    reviewTimeoutMs: positive('review-timeout-ms', 'LIGHTHOUSE_REVIEW_TIMEOUT_MS'),
    defaultMount: native && get('fuse-mount', 'LIGHTHOUSE_FUSE_MOUNT') === undefined,
    maxSessionsPerAgent: whole('max-sessions-per-agent', 'LIGHTHOUSE_MAX_SESSIONS_PER_AGENT'),
    maxConnections: whole('max-connections', 'LIGHTHOUSE_MAX_CONNECTIONS'),
    fuseMount:
      flags.get('no-fuse') === true || /^(off|0|false|no)$/i.test(env.LIGHTHOUSE_FUSE ?? '')
        ? null
        : path.resolve(
            get('fuse-mount', 'LIGHTHOUSE_FUSE_MOUNT') ??
              (native ? nativeMountPoint(process.cwd()) : '/mnt/lighthouse/project'),
          ),
  };
}

async function serve(r: Resolved): Promise<void> {
  const log = createLogger(r.logLevel);
  let created = false;
  if (r.native && r.secretFile) created = ensureSecretFile(r.secretFile);
  if (r.fuseMount !== null && r.defaultMount) {
    try {
      privateMountParent(r.fuseMount);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const bridge = createBridge({
    dataDir: r.dataDir,
    workspace: r.workspace,
    host: r.host,
    port: r.port,
    secretFile: r.secretFile,
    synchronous: r.synchronous,
    logLevel: r.logLevel,
    rateLimitPerSecond: r.rateLimit,
    rateLimitBurst: r.rateLimit === undefined ? undefined : r.rateLimit * 2,
    sessionTtlMs: r.sessionTtlMs,
    sessionIdleMs: r.sessionIdleMs,
    slowConsumerTimeoutMs: r.slowConsumerMs,
    fuseMount: r.fuseMount,
    expertTimeoutMs: r.expertTimeoutMs,
    reviewTimeoutMs: r.reviewTimeoutMs,
    maxSessionsPerAgent: r.maxSessionsPerAgent,
    maxConnections: r.maxConnections,
    log,
  });
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    bridge.close(reason).then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('shutdown failed', { err: e });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  bridge.onShutdownRequested(stop);
  // The first agent's key, made before the bridge listens: it finds its key file and gives the
  // agent its shadow at once.
  const firstKey = r.native && r.secretFile ? writeAgentKey(r.secretFile, FIRST_AGENT) : undefined;
  const port = await bridge.listen();
  if (firstKey) printConnectHelp(r, port, created, bridge.fuseStatus(), firstKey);
}

const FIRST_AGENT = 'claude';

/** Writes an agent's key file beside the master secret (or at `out`); returns its path. */
function writeAgentKey(secretFile: string, agentId: string, out?: string): string {
  const file = out ?? path.join(keysDirOf(secretFile), `${agentId}.key`);
  writeKeyFile(file, deriveAgentKey(loadMasterSecret(secretFile).secret, agentId));
  return file;
}

function printConnectHelp(
  r: Resolved,
  port: number,
  created: boolean,
  fuse: FuseStatus,
  keyFile: string,
): void {
  const url = `http://${r.host}:${port}`;
  const secret = r.secretFile!;
  const agent = FIRST_AGENT;
  const mcp = path.resolve(__dirname, '..', '..', 'dist', 'mcp-server.js');
  const vsix = fs.readdirSync(path.resolve(__dirname, '..', '..')).find((f) => f.endsWith('.vsix'));
  const lines = [
    '',
    `Lighthouse bridge ready at ${url}`,
    `  event store:    ${r.dataDir}`,
    `  master secret:  ${secret}${created ? ' (created now, mode 0600)' : ''}`,
    fuse.mounted
      ? `  FUSE view:      ${r.fuseMount} (current/, shadows/<agent>/, history/, context/, streams/)`
      : `  FUSE view:      off (${fuse.reason})`,
    `  agent key:      ${keyFile} (agent "${agent}", mode 0600)`,
    '',
    'Connect Claude Code (the agent key is passed by file, never on the command line):',
    `  claude mcp add lighthouse -- node ${mcp} --bridge ${url} --agent ${agent} --key-file ${keyFile}`,
    '  more agents:    npm run key -- <agent-id>   (writes .lighthouse/keys/<agent-id>.key)',
    fuse.mounted
      ? `Or start Claude Code in ${agent}'s shadow (${path.join(r.fuseMount!, 'shadows', agent)}), MCP and hooks wired:\n` +
        `  node ${path.resolve(__dirname, '..', '..', 'dist', 'lighthouse.js')} agent ${agent} --bridge ${url}`
      : '',
    vsix ? `VS Code extension: ${path.resolve(__dirname, '..', '..', vsix)}` : '',
    'Stop with Ctrl-C.',
    '',
  ];
  process.stdout.write(lines.filter((l, i) => l !== '' || i === 0 || lines[i - 1] !== '').join('\n') + '\n');
}

/** An admin client of the bridge listening at r's address, signed with the master secret. */
function adminClient(r: Resolved, timeoutMs?: number): BridgeClient {
  return new BridgeClient({
    baseUrl: `http://${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`,
    agentId: 'admin',
    role: 'admin',
    key: deriveAdminKey(loadMasterSecret(r.secretFile).secret),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

/** Asks a bridge listening at r's address to know this agent (admin-signed); false when none answers. */
async function tellRunningBridge(r: Resolved, agentId: string): Promise<boolean> {
  const client = adminClient(r, 2000);
  try {
    await client.addAgent(agentId);
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** `expert name|remove|list`: the developer's naming of experts, over the running bridge's API. */
async function expertCommand(r: Resolved, args: string[], caps: string | true | undefined): Promise<void> {
  const [action, id] = args;
  const client = adminClient(r);
  try {
    if (action === 'list') {
      for (const e of (await client.listExperts()).experts)
        process.stdout.write(`${e.agentId}\t${e.capabilities.join(',')}\tnamed ${e.namedAt}\n`);
      return;
    }
    if (action !== 'name' && action !== 'remove')
      throw new UsageError('expert: name <agent-id> --capabilities a,b | remove <agent-id> | list');
    if (!id) throw new UsageError(`expert ${action}: give the agent id`);
    if (action === 'remove') {
      const done = await client.removeExpert(id);
      process.stdout.write(`${id} is no longer an expert (${done.sessionsEnded} expert sessions revoked)\n`);
      return;
    }
    if (typeof caps !== 'string') throw new UsageError('expert name: give --capabilities a,b');
    const e = await client.nameExpert({ agentId: id, capabilities: caps.split(',').map((c) => c.trim()) });
    process.stdout.write(`${e.agentId} is an expert for ${e.capabilities.join(', ')}\n`);
  } catch (e) {
    if (e instanceof BridgeError) throw new UsageError(`expert ${action}: ${e.message}`);
    throw e;
  } finally {
    await client.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { positional, flags } = parseArgs(argv, VALUED, SWITCHES);
  if (flags.get('help')) {
    process.stdout.write(HELP);
    return;
  }
  const cmd = positional[0] ?? 'serve';
  const r = resolve(flags);
  const storeFile = path.join(r.dataDir, 'events.db');
  switch (cmd) {
    case 'serve':
      return serve(r);
    case 'key': {
      const id = AgentId.safeParse(positional[1]);
      if (!id.success) throw new UsageError(`key: give an agent id (${id.error.issues[0]?.message})`);
      if (!r.secretFile) throw new UsageError('key: no master secret (--secret-file, or --native)');
      const out = writeAgentKey(r.secretFile, id.data, flags.get('out') as string | undefined);
      process.stdout.write(`${out}\n`);
      // A bridge running here gives the agent its shadow now; one that is not learns of the key at start.
      if (await tellRunningBridge(r, id.data))
        process.stdout.write(`the running bridge knows ${id.data} now\n`);
      return;
    }
    case 'backup': {
      const to = flags.get('to');
      if (typeof to !== 'string') throw new UsageError('backup needs --to FILE');
      const store = EventStore.open({ file: storeFile });
      try {
        const bytes = await store.backup(path.resolve(to));
        process.stdout.write(
          `backup written to ${path.resolve(to)} (${bytes} bytes, ${store.lastSeq} events)\n`,
        );
      } finally {
        await store.close();
      }
      return;
    }
    case 'export': {
      const store = EventStore.open({ file: storeFile });
      const outFlag = flags.get('out');
      const out: NodeJS.WritableStream =
        typeof outFlag === 'string' ? fs.createWriteStream(outFlag, { mode: 0o600 }) : process.stdout;
      try {
        // No stall limit: a pipe's reader may be slow on purpose (a compressor, a remote copy).
        if (!(await writeLines(exportJsonl(store), out, Infinity))) {
          throw new Error('export: the output was closed before the export was written');
        }
      } finally {
        await store.close();
      }
      if (out !== process.stdout) await new Promise<void>((res) => out.end(() => res()));
      return;
    }
    case 'import': {
      const from = flags.get('from');
      if (typeof from !== 'string') throw new UsageError('import needs --from FILE');
      let input: NodeJS.ReadableStream = process.stdin;
      if (from !== '-') {
        try {
          input = fs.createReadStream('', { fd: fs.openSync(from, 'r'), highWaterMark: 1024 * 1024 });
        } catch (e) {
          throw new UsageError(`import: cannot read ${from}: ${(e as Error).message}`);
        }
      }
      const store = EventStore.open({ file: storeFile });
      try {
        const n = await importJsonl(store, input as AsyncIterable<Buffer>);
        process.stdout.write(`imported ${n.events} events and ${n.blobs} blobs into ${storeFile}\n`);
      } finally {
        await store.close();
      }
      return;
    }
    case 'expert':
      return expertCommand(r, positional.slice(1), flags.get('capabilities'));
    default:
      throw new UsageError(`unknown command ${cmd} (see --help)`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (
    e instanceof UsageError ||
    e instanceof SecretError ||
    e instanceof StoreOpenError ||
    e instanceof ImportError
  ) {
    process.stderr.write(`lighthouse: ${e.message}\n`);
    process.exit(2);
  }
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE') {
    process.stderr.write(
      `lighthouse: the port is already in use (${err.message}); pass --port another one\n`,
    );
    process.exit(2);
  }
  process.stderr.write(`lighthouse: ${err.stack ?? String(e)}\n`);
  process.exit(1);
});
