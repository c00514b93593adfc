import path from 'node:path';
import type Docker from 'dockerode';
import * as vscode from 'vscode';
import type { BridgeClient, Status, StreamSubscription } from '../../bridge-image/protocol/index.js';
import { deriveAdminKey } from '../../bridge-image/protocol/signing.js';
import {
  ensureContainer,
  findContainer,
  hostViewDirOf,
  publishedPort,
  volumeName,
  waitReady,
  type RunningBridge,
} from '../engine/container.js';
import { discoverEngine, type FoundEngine } from '../engine/discover.js';
import { hostViewDirFor, prepareHostView, VIEW_NAME } from '../engine/host-view.js';
import { ensureImage } from '../engine/image.js';
import type { Secrets } from '../secrets.js';
import { readSettings } from '../settings.js';
import { workspaceFolder, workspaceIdOf } from '../workspace-id.js';
import { EventHub } from './event-hub.js';
import { loadProtocol } from '../util/protocol.js';

export type BridgeState = 'stopped' | 'starting' | 'ready' | 'unhealthy' | 'stopping';

/** The agent id of the developer, i.e. of this extension's admin session. */
export const DEVELOPER_ID = 'developer';

export interface BridgeInfo {
  engine: string;
  engineEndpoint: string;
  containerId: string;
  containerName: string;
  image: string;
  port: number;
  url: string;
  startedAt: number;
  /** Where the container's FUSE view is on this machine (bound with rshared), when it is. */
  hostView: string | undefined;
  /** Why the FUSE view is not on this machine, when FUSE is on and it is not. */
  hostViewReason: string | undefined;
}

/**
 * Owns the bridge's life from VS Code: the engine, the image, the container, the admin client and
 * the live event subscription. Views read from it and listen to its events.
 */
export class BridgeController implements vscode.Disposable {
  private stateValue: BridgeState = 'stopped';
  private readonly stateEmitter = new vscode.EventEmitter<BridgeState>();
  readonly onDidChangeState = this.stateEmitter.event;
  readonly events = new EventHub();
  client: BridgeClient | undefined;
  info: BridgeInfo | undefined;
  lastError: string | undefined;
  private engine: FoundEngine | undefined;
  private subscription: StreamSubscription | undefined;
  private busy: Promise<unknown> | undefined;
  private hostViewReason: string | undefined;

  constructor(
    private readonly extensionRoot: string,
    private readonly version: string,
    private readonly secrets: Secrets,
    private readonly output: vscode.OutputChannel,
  ) {}

  get state(): BridgeState {
    return this.stateValue;
  }

  private setState(s: BridgeState): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    this.stateEmitter.fire(s);
  }

  workspace(): { path: string; id: string } {
    const folder = workspaceFolder();
    if (!folder) throw new Error('open a folder first: the bridge serves one project folder');
    return { path: folder.uri.fsPath, id: workspaceIdOf(folder.uri.fsPath) };
  }

  async docker(signal?: AbortSignal): Promise<FoundEngine> {
    if (this.engine) {
      try {
        await this.engine.docker.ping();
        return this.engine;
      } catch {
        this.engine = undefined;
      }
    }
    const s = readSettings();
    const opts: Parameters<typeof discoverEngine>[0] = {
      setting: s.dockerHost,
      env: process.env,
      platform: process.platform,
    };
    if (signal) opts.signal = signal;
    this.engine = await discoverEngine(opts);
    this.output.appendLine(
      `engine: ${this.engine.version} at ${this.engine.candidate.endpoint} (${this.engine.candidate.source})`,
    );
    return this.engine;
  }

  /** Only one start/stop at a time: a second request waits for the first. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = (this.busy ?? Promise.resolve()).then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  start(report: (message: string) => void = () => undefined, signal?: AbortSignal): Promise<BridgeInfo> {
    return this.exclusive(async () => {
      if (this.stateValue === 'ready' && this.info) return this.info;
      this.setState('starting');
      try {
        const info = await this.startSteps(report, signal);
        this.lastError = undefined;
        return info;
      } catch (e) {
        this.lastError = (e as Error).message;
        this.output.appendLine(`start failed: ${this.lastError}`);
        this.setState('stopped');
        throw e;
      }
    });
  }

  private async startSteps(report: (message: string) => void, signal?: AbortSignal): Promise<BridgeInfo> {
    const s = readSettings();
    const ws = this.workspace();
    report('finding the container engine');
    const engine = await this.docker(signal);
    report('preparing the bridge image');
    const image = await ensureImage({
      docker: engine.docker,
      root: this.extensionRoot,
      configuredImage: s.image || undefined,
      baseImage: s.baseImage || undefined,
      version: this.version,
      onProgress: ({ line }) => {
        this.output.appendLine(line);
        report(`building: ${line.slice(0, 80)}`);
      },
      ...(signal ? { signal } : {}),
    });
    if (image.built) this.output.appendLine(`built ${image.image}`);
    signal?.throwIfAborted();
    const master = await this.secrets.master(ws.id);
    let hostViewDir: string | undefined;
    this.hostViewReason = undefined;
    if (s.fuse) {
      const view = await prepareHostView(hostViewDirFor(ws.path, ws.id));
      if (view.ok) hostViewDir = view.hostDir;
      else {
        this.hostViewReason = view.reason;
        this.output.appendLine(`the FUSE view stays inside the container: ${view.reason}`);
      }
    }
    report('starting the container');
    const running = await ensureContainer({
      docker: engine.docker,
      image: image.image,
      workspacePath: ws.path,
      workspaceId: ws.id,
      secretHex: master.toString('hex'),
      fuse: s.fuse,
      ...(hostViewDir ? { hostViewDir } : {}),
      preferredPort: s.port,
      logLevel: s.logLevel,
    });
    report('waiting until the bridge is ready');
    await waitReady({
      docker: engine.docker,
      containerId: running.containerId,
      port: running.port,
      timeoutMs: s.readyTimeoutSeconds * 1000,
      ...(signal ? { signal } : {}),
    });
    return this.connect(engine, running, master);
  }

  /** Takes over this workspace's container when it already runs (e.g. after a window reload). */
  async attachIfRunning(): Promise<boolean> {
    return this.exclusive(async () => {
      if (this.stateValue !== 'stopped') return false;
      let engine: FoundEngine;
      let ws: { path: string; id: string };
      try {
        ws = this.workspace();
        engine = await this.docker();
      } catch {
        return false;
      }
      const existing = await findContainer(engine.docker, ws.id);
      const port = existing && publishedPort(existing);
      if (!existing || existing.State !== 'running' || !port) return false;
      this.setState('starting');
      try {
        await waitReady({ docker: engine.docker, containerId: existing.Id, port, timeoutMs: 30_000 });
        const master = await this.secrets.master(ws.id);
        await this.connect(
          engine,
          {
            containerId: existing.Id,
            containerName: existing.Names[0]?.replace(/^\//, '') ?? existing.Id,
            port,
            image: existing.Image,
            reused: true,
            ...(hostViewDirOf(existing) ? { hostViewDir: hostViewDirOf(existing)! } : {}),
          },
          master,
        );
        return true;
      } catch (e) {
        this.output.appendLine(`could not take over the running bridge: ${(e as Error).message}`);
        this.setState('stopped');
        return false;
      }
    });
  }

  private async connect(engine: FoundEngine, running: RunningBridge, master: Buffer): Promise<BridgeInfo> {
    const url = `http://127.0.0.1:${running.port}`;
    const { BridgeClient } = await loadProtocol();
    const client = new BridgeClient({
      baseUrl: url,
      agentId: DEVELOPER_ID,
      key: deriveAdminKey(master),
      role: 'admin',
      userAgent: `lighthouse-vscode/${this.version}`,
    });
    let status: Status;
    try {
      status = await client.status();
    } catch (e) {
      await client.close();
      throw new Error(
        `the bridge at ${url} refused this window's key (${(e as Error).message}); ` +
          'it was started with another secret: run "Lighthouse: Remove Bridge Container" and start again',
      );
    }
    this.client = client;
    this.info = {
      engine: engine.version,
      engineEndpoint: engine.candidate.endpoint,
      containerId: running.containerId,
      containerName: running.containerName,
      image: running.image,
      port: running.port,
      url,
      startedAt: Date.parse(status.startedAt),
      hostView: running.hostViewDir ? path.join(running.hostViewDir, VIEW_NAME) : undefined,
      hostViewReason: running.hostViewDir ? undefined : this.hostViewReason,
    };
    const settings = readSettings();
    const after = Math.max(0, status.lastSeq - settings.eventLogCapacity);
    this.subscription = client.subscribe({
      after,
      onEvent: (e) => this.events.push(e),
      onCaughtUp: () => {
        if (this.client === client) this.setState('ready');
      },
      onDisconnect: ({ willRetry, reason }) => {
        if (this.client !== client) return;
        this.output.appendLine(
          `event stream disconnected${reason ? ` (${reason})` : ''}${willRetry ? ', reconnecting' : ''}`,
        );
        this.setState('unhealthy');
      },
    });
    this.output.appendLine(
      `bridge ready at ${url} (container ${running.containerName}${running.reused ? ', reused' : ''})`,
    );
    this.setState('ready');
    return this.info;
  }

  private async disconnect(): Promise<void> {
    this.subscription?.close();
    this.subscription = undefined;
    const c = this.client;
    this.client = undefined;
    this.info = undefined;
    if (c) await c.close();
  }

  /** Disconnects, then does `fn` to this workspace's container (if any), stopping → stopped. */
  private teardown(
    fn: (docker: Docker, existing: Docker.ContainerInfo | undefined, workspaceId: string) => Promise<void>,
  ): Promise<void> {
    return this.exclusive(async () => {
      const engine = await this.docker();
      const ws = this.workspace();
      this.setState('stopping');
      try {
        await this.disconnect();
        await fn(engine.docker, await findContainer(engine.docker, ws.id), ws.id);
      } finally {
        this.setState('stopped');
      }
    });
  }

  stop(): Promise<void> {
    return this.teardown(async (docker, existing) => {
      if (existing && existing.State === 'running') await docker.getContainer(existing.Id).stop({ t: 15 });
    });
  }

  /** Removes the container; the data volume stays unless `withData`. */
  remove(withData: boolean): Promise<void> {
    return this.teardown(async (docker, existing, workspaceId) => {
      if (existing) await docker.getContainer(existing.Id).remove({ force: true });
      if (withData) {
        await docker
          .getVolume(volumeName(workspaceId))
          .remove()
          .catch(() => undefined);
      }
    });
  }

  async container(): Promise<{ docker: Docker; id: string } | undefined> {
    const engine = await this.docker();
    const existing = await findContainer(engine.docker, this.workspace().id);
    return existing ? { docker: engine.docker, id: existing.Id } : undefined;
  }

  dispose(): void {
    void this.disconnect();
    this.stateEmitter.dispose();
    this.events.dispose();
  }
}
