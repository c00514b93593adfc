import type { BridgeController } from './bridge/controller.js';
import type { AgentsTree } from './tree/agents-tree.js';
import type { BridgeTree } from './tree/bridge-tree.js';
import type { EventLogTree } from './tree/event-log-tree.js';
import type { ReviewsTree } from './tree/reviews-tree.js';
import type { ShadowTree } from './tree/shadow-tree.js';

/** The extension's tree views, one provider each. */
export interface LighthouseTrees {
  bridge: BridgeTree;
  shadow: ShadowTree;
  events: EventLogTree;
  agents: AgentsTree;
  reviews: ReviewsTree;
}

/** What `activate` returns: for other extensions, the end-to-end tests and the benchmark. */
export interface LighthouseApi {
  bridge: BridgeController;
  trees: LighthouseTrees;
  /** How long activate() took, in milliseconds. */
  activationMs: number;
  /** performance.now() when activate() began. */
  activatedAt: number;
}
