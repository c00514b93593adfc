import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ValidateRequest, ValidateResponse } from '../../bridge-image/protocol/index.js';
import { toolSuccess, withBridge } from '../tool-results.js';

export const validateInput = z.object({
  tool: ValidateRequest.shape.tool.describe(
    'The tool you are about to use, as your client names it: "Bash", "Edit", "Write"…',
  ),
  input: z
    .record(z.string(), z.unknown())
    .describe(
      'Its input, e.g. {"command": "rm -rf build"} for Bash or {"file_path": "src/a.ts", …} for Edit.',
    ),
  cwd: ValidateRequest.shape.cwd.describe(
    'The directory the command runs in; relative paths resolve against it.',
  ),
});

export function registerValidate(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'validate',
    {
      title: 'Validate a command before running it',
      description:
        'Asks Lighthouse whether a command or file edit is safe before you run it: "approved", "blocked" ' +
        '(do not run it; the reason says why and which rule decided) or "escalate" (a human or an expert must ' +
        'decide; ask before running it). Use it before destructive or unusual shell commands, writes outside ' +
        'the project, or anything touching secrets. Every request and decision is recorded.',
      inputSchema: validateInput,
      outputSchema: ValidateResponse,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args, extra) =>
      withBridge(
        client,
        async () =>
          toolSuccess(
            await client.validate(
              { tool: args.tool, input: args.input, ...(args.cwd ? { cwd: args.cwd } : {}) },
              extra.signal,
            ),
          ),
        {
          doneHint:
            'list_reviews shows whether it opened a review (for "escalate"); if not, validate again: ' +
            'validating changes nothing.',
        },
      ),
  );
}
