import path from 'node:path';
import type { Synchronous } from './store/event-store.js';
import type { LogLevel } from './log.js';

export interface BridgeConfig {
  dataDir: string;
  workspace: string;
  host: string;
  port: number;
  secretFile: string | undefined;
  synchronous: Synchronous;
  bodyLimitBytes: number;
  sessionTtlMs: number;
  sessionIdleMs: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  shutdownDeadlineMs: number;
  wsMaxPayloadBytes: number;
  wsHighWaterBytes: number;
  slowConsumerTimeoutMs: number;
  heartbeatIntervalMs: number;
  logLevel: LogLevel;
  version: string;
  /** Where the FUSE view is mounted; null: no FUSE. */
  fuseMount: string | null;
  /** An escalation waits this long for an expert, then goes to the developer. */
  expertTimeoutMs: number;
  /** The developer's time to answer before the policy's default decides. */
  reviewTimeoutMs: number;
  /** Open sessions one agent may hold at once; one more is refused with 429. */
  maxSessionsPerAgent: number;
  /** Simultaneous HTTP (and WebSocket) connections; more are closed at once by node's server. */
  maxConnections: number;
}

export const defaultConfig = (dataDir: string, workspace: string): BridgeConfig => ({
  dataDir: path.resolve(dataDir),
  workspace: path.resolve(workspace),
  host: '127.0.0.1',
  port: 8765,
  secretFile: undefined,
  synchronous: 'FULL',
  bodyLimitBytes: 1024 * 1024,
  sessionTtlMs: 60 * 60_000,
  sessionIdleMs: 30 * 60_000,
  rateLimitPerSecond: 2_000,
  rateLimitBurst: 4_000,
  shutdownDeadlineMs: 8_000,
  wsMaxPayloadBytes: 1024 * 1024,
  wsHighWaterBytes: 4 * 1024 * 1024,
  slowConsumerTimeoutMs: 30_000,
  heartbeatIntervalMs: 30_000,
  logLevel: 'info',
  version: '0.1.0',
  fuseMount: null,
  expertTimeoutMs: 30_000,
  reviewTimeoutMs: 10 * 60_000,
  maxSessionsPerAgent: 64,
  maxConnections: 1024,
});
