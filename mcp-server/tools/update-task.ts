import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { Task, TaskUpdate } from '../../bridge-image/protocol/index.js';
import { ObjectId } from '../tool-inputs.js';
import { toolSuccess, withBridge } from '../tool-results.js';

export const updateTaskInput = z.object({
  task_id: ObjectId.describe('The id of the task, as dispatch_task or list_tasks returned it.'),
  status: TaskUpdate.shape.status.describe(
    'The new status: "accepted", "in_progress", "blocked", "done", "failed" or "cancelled".',
  ),
  note: TaskUpdate.shape.note.describe('Why, or what happened, e.g. "blocked on the schema migration".'),
});

export function registerUpdateTask(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'update_task',
    {
      title: 'Update a task',
      description:
        'Sets the status of a task dispatched to you (or by you), with an optional note, so that the other ' +
        'side sees how it goes: accept it when you take it on, mark it in_progress, blocked (say on what), ' +
        "done or failed. Each update is kept in the task's notes.",
      inputSchema: updateTaskInput,
      outputSchema: Task,
      // Each call adds a note to the task's history.
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
          const t = await client.updateTask(
            args.task_id,
            { status: args.status, note: args.note },
            extra.signal,
          );
          return toolSuccess(t, `Task ${t.id} "${t.title}" is now ${t.status}.`);
        },
        {
          doneHint: "list_tasks shows the task's status and notes.",
          notFoundHint: 'list_tasks shows the tasks you dispatched or received, with their ids.',
          forbiddenHint:
            'Only the agent who dispatched a task and the one it was dispatched to may update it.',
        },
      ),
  );
}
