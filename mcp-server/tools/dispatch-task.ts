import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Task, TaskRequest } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';

const field = TaskRequest.shape;

export const dispatchTaskInput = z.object({
  to: field.to.describe('The agent who should do it, by id, e.g. "claude-2" (list_agents shows them).'),
  title: field.title.describe('What to do, in one line, e.g. "Add tests for src/auth/login.ts".'),
  description: field.description.describe('The details: context, constraints, what "done" means.'),
  priority: field.priority.describe('"low", "normal" (the default), "high" or "urgent".'),
});

export function registerDispatchTask(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'dispatch_task',
    {
      title: 'Dispatch a task to an agent',
      description:
        'Hands a piece of work to another agent as a task with a title, description and priority. The ' +
        'task starts as "dispatched"; the other agent moves it on with update_task (accepted, ' +
        'in_progress, blocked, done, failed), and both of you see its status and notes with list_tasks. ' +
        'Use it to split work between agents; for a quick question use ask_agent or send_message.',
      inputSchema: dispatchTaskInput,
      outputSchema: Task,
      // Every call creates a new task.
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args, extra) =>
      withBridge(
        client,
        async () => {
          const t = await client.dispatchTask(
            { to: args.to, title: args.title, description: args.description, priority: args.priority },
            extra.signal,
          );
          return toolSuccess(t, `Task ${t.id} (${t.priority}) dispatched to ${t.to}; list_tasks follows it.`);
        },
        { doneHint: 'list_tasks shows whether the task was dispatched.' },
      ),
  );
}
