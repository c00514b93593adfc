import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { TaskList } from '../../bridge-image/protocol/index.js';
import { count, toolSuccess, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

export const listTasksInput = z.object({});

export function registerListTasks(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'list_tasks',
    {
      title: 'List tasks',
      description:
        'Lists the tasks dispatched to you and those you dispatched to others, each with its status, ' +
        'priority and the history of notes. Use it to find work handed to you (status "dispatched": ' +
        'take it on with update_task) and to follow the tasks you gave away.',
      inputSchema: listTasksInput,
      outputSchema: TaskList,
      annotations: readOnlyTool,
    },
    (_args, extra) =>
      withBridge(client, async () => {
        const res = await client.tasks(extra.signal);
        const fresh = res.tasks.filter((t) => t.to === client.agentId && t.status === 'dispatched').length;
        return toolSuccess(
          res,
          `${count(res.tasks.length, 'task')}; ${fresh} newly dispatched to you, waiting to be taken on.`,
        );
      }),
  );
}
