import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode, EventTypes, type SecurityKind } from '../protocol/index.js';
import { AgentRegistry } from './agents.js';
import { ExpertRoster } from './experts.js';
import { Authenticator } from './auth/authenticator.js';
import { loadMasterSecret } from './auth/secret.js';
import { SessionManager, type Session } from './auth/sessions.js';
import { defaultConfig, type BridgeConfig } from './config.js';
import type { BridgeServices } from './context.js';
import { adminRoutes } from './http/routes/admin.js';
import { agentRoutes } from './http/routes/agents.js';
import { blobRoutes } from './http/routes/blobs.js';
import { expertRoutes } from './http/routes/experts.js';
import { eventRoutes } from './http/routes/events.js';
import { healthRoutes } from './http/routes/health.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { shadowRoutes } from './http/routes/shadow.js';
import { leaseRoutes } from './http/routes/leases.js';
import { annotationRoutes } from './http/routes/annotations.js';
import { validationRoutes } from './http/routes/validation.js';
import { coordinationRoutes, type Coordination } from './http/routes/coordination.js';
import { ReviewDesk } from './coordination/review-desk.js';
import { PostOffice } from './coordination/post-office.js';
import { Elicitations } from './coordination/elicitations.js';
import { TaskBoard } from './coordination/task-board.js';
import { DecisionCache, policyFile, watchPolicy } from './validation/index.js';
import { AnnotationBook } from './annotations/annotation-book.js';
import { LeaseTable } from './leases/lease-table.js';
import { ShadowFiles } from './shadow/shadow-files.js';
import { WorkspaceBase } from './shadow/workspace-base.js';
import { hiddenPaths } from './shadow/hidden-paths.js';
import { Pipeline } from './http/pipeline.js';
import { Router } from './http/router.js';
import { answerAndClose, answerClientError, guardUpgrade } from './http/socket-guards.js';
import { createLogger, type Logger } from './log.js';
import { BridgeMetrics } from './metrics.js';
import { SecurityRecorder } from './security.js';
import { EventStore } from './store/event-store.js';
import { StreamServer } from './ws/stream-server.js';
import { FuseHost, type FuseStatus } from './fuse/fuse-host.js';
import { keyedAgents, keysDirOf } from './keyed-agents.js';
import path from 'node:path';

export interface CreateBridgeOptions extends Partial<BridgeConfig> {
  dataDir: string;
  workspace: string;
  log?: Logger;
  /** The master secret itself (tests); otherwise read from `secretFile`. */
  secret?: Buffer;
}

export interface Bridge {
  readonly config: BridgeConfig;
  readonly store: EventStore;
  readonly server: http.Server;
  /** Listens on config.host:config.port (0 for any free port); resolves with the bound port. */
  listen(): Promise<number>;
  readonly url: string;
  /** Stops accepting, drains in-flight requests, closes WebSockets, checkpoints the WAL. */
  close(reason?: string): Promise<void>;
  /** Called when an admin asks the bridge to stop. */
  onShutdownRequested(fn: (reason: string) => void): void;
  /** Whether the FUSE view is mounted, or why not. */
  fuseStatus(): FuseStatus;
}

export function createBridge(opts: CreateBridgeOptions): Bridge {
  const config: BridgeConfig = { ...defaultConfig(opts.dataDir, opts.workspace), ...stripUndefined(opts) };
  config.dataDir = path.resolve(config.dataDir);
  config.workspace = path.resolve(config.workspace);
  const log = opts.log ?? createLogger(config.logLevel);
  let secret = opts.secret;
  if (!secret) {
    const loaded = loadMasterSecret(config.secretFile);
    for (const w of loaded.warnings) log.warn(w);
    secret = loaded.secret;
  }
  const store = EventStore.open({
    file: path.join(config.dataDir, 'events.db'),
    synchronous: config.synchronous,
  });
  const sessions = new SessionManager(secret, {
    ttlMs: config.sessionTtlMs,
    idleMs: config.sessionIdleMs,
    ratePerSecond: config.rateLimitPerSecond,
    burst: config.rateLimitBurst,
  });
  let streams: StreamServer | undefined;
  const experts = new ExpertRoster(store);
  const agents = new AgentRegistry(store, sessions, experts);
  const metrics = new BridgeMetrics({
    activeSessions: () => sessions.size,
    connectedAgents: () => agents.connectedCount(),
    storeBytes: () => store.sizeBytes(),
    lastSeq: () => store.lastSeq,
    wsConnections: () => streams?.connectionCount ?? 0,
    wsBufferedBytes: () => streams?.bufferedBytes() ?? 0,
  });
  store.onWarning((message) => log.warn(message));
  store.onCommit((s) => {
    metrics.eventsAppended.inc({}, s.events);
    metrics.commitBatch.observe(s.appends);
    for (const l of s.latencies) metrics.appendLatency.observe(l);
  });
  const security = new SecurityRecorder(store, metrics, log);
  const shutdownListeners: ((reason: string) => void)[] = [];

  const revokeWith = async (s: Session, reason: string, kind: SecurityKind | undefined) => {
    sessions.revoke(s, reason);
    streams?.closeSession(s.id, CloseCode.sessionRevoked, `session revoked: ${reason}`.slice(0, 120));
    if (kind) security.record(kind, { agentId: s.agentId, sessionId: s.id, reason });
    await store
      .append({
        stream: `agent:${s.agentId}`,
        agentId: s.agentId,
        events: [{ type: EventTypes.sessionRevoked, data: { sessionId: s.id, reason } }],
      })
      .catch((e: Error) => log.error('could not record a revocation', { err: e }));
  };
  const auth = new Authenticator(sessions, (s, reason, kind) => void revokeWith(s, reason, kind));

  const svc: BridgeServices = {
    config,
    store,
    sessions,
    auth,
    agents,
    experts,
    metrics,
    security,
    log,
    startedAt: Date.now(),
    revoke: (s, reason, kind) => revokeWith(s, reason, kind),
    requestShutdown: (reason) => {
      for (const fn of shutdownListeners) fn(reason);
    },
    fuseStatus: () =>
      config.fuseMount === null
        ? { enabled: false, mounted: false, reason: 'disabled by configuration', mountPoint: null }
        : fuse.status,
    mountWrites: (agent) => fuse.settleWrites(agent),
  };
  streams = new StreamServer(svc);
  const leases = new LeaseTable(store);
  const base = new WorkspaceBase(config.workspace, hiddenPaths(config));
  const shadows = new ShadowFiles(store, base, (agent, rel) => leases.checkWrite(agent, rel));
  const annotations = new AnnotationBook(store);
  const coordination: Coordination = {
    reviews: new ReviewDesk(
      store,
      agents,
      { expertMs: config.expertTimeoutMs, developerMs: config.reviewTimeoutMs },
      () => (policy.current.escalationDefault === 'approve' ? 'approved' : 'blocked'),
    ),
    post: new PostOffice(store),
    elicitations: new Elicitations(store),
    tasks: new TaskBoard(store),
  };
  const decisions = new DecisionCache();
  const policy = watchPolicy(config.workspace, {
    onChange: () => log.info('policy reloaded', { file: policyFile(config.workspace) }),
    onError: (e) =>
      log.warn('policy file refused; the last good policy stays in force', { issues: e.issues }),
  });
  const fuse = new FuseHost({
    store,
    shadows,
    base,
    annotations,
    agents,
    security,
    log,
    daemonScript: path.join(__dirname, 'fuse-daemon.js'),
  });

  const router = new Router();
  const pipeline = new Pipeline(svc, router);
  router.add(
    ...healthRoutes(svc, () => pipeline.draining),
    ...sessionRoutes(svc),
    ...eventRoutes(svc),
    ...agentRoutes(svc),
    ...expertRoutes(svc),
    ...blobRoutes(svc),
    ...adminRoutes(svc),
    ...shadowRoutes(svc, shadows),
    ...leaseRoutes(svc, leases),
    ...annotationRoutes(svc, annotations),
    ...validationRoutes(svc, policy, decisions, coordination.reviews),
    ...coordinationRoutes(svc, coordination),
  );

  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 120_000 }, pipeline.handle);
  // Beyond this many open connections node closes each new one at once, with no answer (a client
  // sees its connection reset); every one so dropped is counted.
  server.maxConnections = config.maxConnections;
  server.on('drop', () => metrics.connectionsDropped.inc());
  // No input may end the process: see socket-guards.ts.
  server.on(
    'upgrade',
    guardUpgrade(log, (req, socket, head) => {
      if (pipeline.draining) {
        answerAndClose(
          socket,
          'HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n',
        );
        return;
      }
      streams!.handleUpgrade(req, socket, head);
    }),
  );
  server.on('clientError', answerClientError(log));

  const sweeper = setInterval(() => {
    for (const { session, reason } of sessions.sweep()) {
      streams?.closeSession(session.id, CloseCode.sessionExpired, `session ${reason}`);
      store
        .append({
          stream: `agent:${session.agentId}`,
          agentId: session.agentId,
          events: [{ type: EventTypes.sessionEnded, data: { sessionId: session.id, reason } }],
        })
        .catch(() => undefined);
    }
  }, 5_000);
  sweeper.unref();

  let port = config.port;
  let closing: Promise<void> | undefined;

  return {
    config,
    store,
    server,
    get url() {
      return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    },
    async listen() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      port = (server.address() as AddressInfo).port;
      // An agent the developer made a key for has its shadow from then on, connected or not.
      if (config.secretFile)
        for (const id of keyedAgents(keysDirOf(config.secretFile))) await agents.add(id, 'key-file');
      if (config.fuseMount !== null) await fuse.start(config.fuseMount);
      await store.append({
        stream: 'system',
        agentId: 'bridge',
        events: [
          { type: EventTypes.systemStarted, data: { version: config.version, pid: process.pid, port } },
        ],
      });
      log.info('bridge listening', {
        url: `http://${config.host}:${port}`,
        dataDir: config.dataDir,
        lastSeq: store.lastSeq,
      });
      return port;
    },
    close(reason = 'shutdown') {
      closing ??= (async () => {
        log.info('bridge stopping', { reason, inFlight: pipeline.inFlight });
        pipeline.draining = true;
        clearInterval(sweeper);
        leases.close();
        policy.close();
        coordination.reviews.close();
        const stopped = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        streams!.closeAll(CloseCode.goingAway, 'bridge shutting down');
        const drained = await pipeline.waitIdle(config.shutdownDeadlineMs);
        if (!drained)
          log.warn('shutdown deadline passed with requests in flight', { inFlight: pipeline.inFlight });
        if (config.fuseMount !== null) await fuse.stop(config.fuseMount);
        // What the recording rate held back is summarised before the store closes.
        await security.close();
        if (store.isOpen) {
          await store
            .append({
              stream: 'system',
              agentId: 'bridge',
              events: [{ type: EventTypes.systemShutdown, data: { reason } }],
            })
            .catch(() => undefined);
          await store.close();
        }
        streams!.terminateAll();
        server.closeAllConnections();
        await stopped;
        log.info('bridge stopped', { reason });
      })();
      return closing;
    },
    fuseStatus: () => svc.fuseStatus(),
    onShutdownRequested(fn) {
      shutdownListeners.push(fn);
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
