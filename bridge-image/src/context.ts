import type { AgentRegistry } from './agents.js';
import type { Authenticator } from './auth/authenticator.js';
import type { Session, SessionManager } from './auth/sessions.js';
import type { BridgeConfig } from './config.js';
import type { ExpertRoster } from './experts.js';
import type { Logger } from './log.js';
import type { SecurityKind } from '../protocol/index.js';
import type { BridgeMetrics } from './metrics.js';
import type { SecurityRecorder } from './security.js';
import type { EventStore } from './store/event-store.js';
import type { FuseStatus } from './fuse/fuse-host.js';

/** The services every route handler and the stream server share. */
export interface BridgeServices {
  config: BridgeConfig;
  store: EventStore;
  sessions: SessionManager;
  auth: Authenticator;
  agents: AgentRegistry;
  /** Who the developer named expert. */
  experts: ExpertRoster;
  metrics: BridgeMetrics;
  security: SecurityRecorder;
  log: Logger;
  startedAt: number;
  /** Revokes a session everywhere (HTTP and its WebSockets) and records why. */
  revoke: (s: Session, reason: string, kind?: SecurityKind) => Promise<void>;
  requestShutdown: (reason: string) => void;
  fuseStatus: () => FuseStatus;
  /**
   * Resolves once writes made through the FUSE mount in this agent's shadow (every shadow without
   * one) are recorded; call before reading or changing a shadow for an HTTP request.
   */
  mountWrites: (agent?: string) => Promise<void>;
}
