import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { registerAcknowledgeMessage } from './acknowledge-message.js';
import { registerAcquireLease } from './acquire-lease.js';
import { registerAddAnnotation } from './add-annotation.js';
import { registerAnswerReview } from './answer-review.js';
import { registerAskAgent } from './ask-agent.js';
import { registerCheckElicitation } from './check-elicitation.js';
import { registerDeleteFile } from './delete-file.js';
import { registerDispatchTask } from './dispatch-task.js';
import { registerEditFile } from './edit-file.js';
import { registerHealth } from './health.js';
import { registerInbox } from './inbox.js';
import { registerListAgents } from './list-agents.js';
import { registerListAnnotations } from './list-annotations.js';
import { registerListDirectory } from './list-directory.js';
import { registerListLeases } from './list-leases.js';
import { registerListReviews } from './list-reviews.js';
import { registerListTasks } from './list-tasks.js';
import { registerMoveFile } from './move-file.js';
import { registerQueryEvents } from './query-events.js';
import { registerReadFile } from './read-file.js';
import { registerRegisterExpert } from './register-expert.js';
import { registerReleaseLease } from './release-lease.js';
import { registerRenewLease } from './renew-lease.js';
import { registerResolveAnnotation } from './resolve-annotation.js';
import { registerRespondElicitation } from './respond-elicitation.js';
import { registerSearchFiles } from './search-files.js';
import { registerSendMessage } from './send-message.js';
import { registerShadowChanges } from './shadow-changes.js';
import { registerShadowDiff } from './shadow-diff.js';
import { registerStartCollaboration } from './start-collaboration.js';
import { registerStatus } from './status.js';
import { registerStoreEvent } from './store-event.js';
import { registerTree } from './tree.js';
import { registerUpdateTask } from './update-task.js';
import { registerValidate } from './validate-command.js';
import { registerWaitForReview } from './wait-for-review.js';
import { registerWriteFile } from './write-file.js';

/** Every tool the MCP server offers, in the order clients list them. */
export function registerTools(server: McpServer, client: BridgeClient): void {
  registerStatus(server, client);
  registerHealth(server, client);
  registerValidate(server, client);
  // Files in the agent's shadow.
  registerReadFile(server, client);
  registerWriteFile(server, client);
  registerEditFile(server, client);
  registerDeleteFile(server, client);
  registerMoveFile(server, client);
  registerListDirectory(server, client);
  registerTree(server, client);
  registerSearchFiles(server, client);
  registerShadowDiff(server, client);
  registerShadowChanges(server, client);
  // Leases and annotations.
  registerAcquireLease(server, client);
  registerRenewLease(server, client);
  registerReleaseLease(server, client);
  registerListLeases(server, client);
  registerAddAnnotation(server, client);
  registerListAnnotations(server, client);
  registerResolveAnnotation(server, client);
  // Events and agents.
  registerStoreEvent(server, client);
  registerQueryEvents(server, client);
  registerRegisterExpert(server, client);
  registerListAgents(server, client);
  // Reviews of escalated validations.
  registerListReviews(server, client);
  registerWaitForReview(server, client);
  registerAnswerReview(server, client);
  // Messages, questions, tasks and collaborations between agents.
  registerSendMessage(server, client);
  registerInbox(server, client);
  registerAcknowledgeMessage(server, client);
  registerAskAgent(server, client);
  registerCheckElicitation(server, client);
  registerRespondElicitation(server, client);
  registerDispatchTask(server, client);
  registerUpdateTask(server, client);
  registerListTasks(server, client);
  registerStartCollaboration(server, client);
}
