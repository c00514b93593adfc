import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { AnnotationDiagnostics } from './annotations/annotation-diagnostics.js';
import type { LighthouseApi } from './api.js';
import { BridgeController } from './bridge/controller.js';
import { registerApplyChanges } from './commands/apply-changes.js';
import { registerBridgeLifecycle } from './commands/bridge-lifecycle.js';
import { registerConnectClaudeCode } from './commands/connect-claude-code.js';
import type { CommandContext } from './commands/context.js';
import { registerEventLogCommands } from './commands/event-log.js';
import { registerOpenAgentTerminal } from './commands/open-agent-terminal.js';
import { registerOpenChange } from './commands/open-change.js';
import { registerNameExpert } from './commands/name-expert.js';
import { registerReviewCommands } from './commands/reviews.js';
import { registerShowLogs } from './commands/show-logs.js';
import { LighthouseFileSystem } from './fs/lighthouse-fs.js';
import { SCHEME } from './fs/lighthouse-uri.js';
import { registerMcpDefinitions } from './mcp/definition-provider.js';
import { Secrets } from './secrets.js';
import { readSettings } from './settings.js';
import { AgentsTree } from './tree/agents-tree.js';
import { BridgeTree } from './tree/bridge-tree.js';
import { EventLogTree } from './tree/event-log-tree.js';
import { ReviewsTree } from './tree/reviews-tree.js';
import { ShadowTree } from './tree/shadow-tree.js';
import { createStatusBar } from './views/status-bar.js';

/** Wiring only: each command, view and provider lives in its own file. */
export function activate(context: vscode.ExtensionContext): LighthouseApi {
  const t0 = performance.now();
  const settings = readSettings();
  const output = vscode.window.createOutputChannel('Lighthouse');
  const secrets = new Secrets(context.secrets, vscode.Uri.joinPath(context.globalStorageUri, 'keys').fsPath);
  const version = String(context.extension.packageJSON.version ?? '0.0.0');
  const bridge = new BridgeController(context.extensionPath, version, secrets, output);
  const trees = {
    bridge: new BridgeTree(bridge),
    shadow: new ShadowTree(bridge),
    events: new EventLogTree(bridge, settings.eventLogPageSize, settings.eventLogCapacity),
    agents: new AgentsTree(bridge),
    reviews: new ReviewsTree(bridge),
  };
  const ctx: CommandContext = { extension: context, bridge, secrets, output, trees };
  const eventsView = vscode.window.createTreeView('lighthouse.events', { treeDataProvider: trees.events });
  trees.events.view = eventsView;
  const reviewsView = vscode.window.createTreeView('lighthouse.reviews', { treeDataProvider: trees.reviews });

  context.subscriptions.push(
    output,
    bridge,
    eventsView,
    reviewsView,
    vscode.window.createTreeView('lighthouse.bridge', { treeDataProvider: trees.bridge }),
    vscode.window.createTreeView('lighthouse.shadows', {
      treeDataProvider: trees.shadow,
      showCollapseAll: true,
    }),
    vscode.window.createTreeView('lighthouse.agents', { treeDataProvider: trees.agents }),
    vscode.window.registerFileDecorationProvider(trees.shadow),
    vscode.workspace.registerFileSystemProvider(SCHEME, new LighthouseFileSystem(bridge), {
      isCaseSensitive: true,
      isReadonly: true,
    }),
    new AnnotationDiagnostics(bridge),
    ...createStatusBar(bridge),
    ...registerBridgeLifecycle(ctx),
    ...registerShowLogs(ctx),
    ...registerApplyChanges(ctx),
    ...registerOpenChange(ctx),
    ...registerEventLogCommands(ctx),
    ...registerReviewCommands(ctx),
    ...registerNameExpert(ctx),
    ...registerConnectClaudeCode(ctx),
    ...registerOpenAgentTerminal(ctx),
    ...registerMcpDefinitions(context, bridge, secrets),
    trees.reviews.onDidArrive((node) => {
      reviewsView.badge = { value: trees.reviews.pendingCount + 1, tooltip: 'waiting for you' };
      if (!readSettings().notifyReviews) return;
      const what =
        node.kind === 'review'
          ? `${node.review.agentId} asks to run ${node.review.tool}: ${node.review.reason}`
          : `${node.elicitation.from} asks: ${node.elicitation.question.slice(0, 200)}`;
      void vscode.window.showInformationMessage(`Lighthouse: ${what}`, 'Show Reviews').then((pick) => {
        if (pick) void vscode.commands.executeCommand('lighthouse.reviews.focus');
      });
    }),
    trees.reviews.onDidChangeTreeData(() => {
      // The badge follows the list once it has been redrawn.
      setTimeout(() => {
        reviewsView.badge = trees.reviews.pendingCount
          ? { value: trees.reviews.pendingCount, tooltip: 'waiting for you' }
          : undefined;
      }, 300);
    }),
  );

  // Off the activation path: take over a running container, or start one when asked to.
  setImmediate(() => {
    void bridge.attachIfRunning().then(async (attached) => {
      if (!attached && readSettings().autoStart) {
        // The command reports its own failure.
        await vscode.commands.executeCommand('lighthouse.start');
      }
    });
  });

  return { bridge, trees, activationMs: performance.now() - t0, activatedAt: t0 };
}

export function deactivate(): void {
  // Subscriptions dispose everything; the container keeps running for the next window.
}
