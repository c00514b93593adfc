import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

/**
 * Every tool talks only to the project's own bridge, never to the outside world, so
 * openWorldHint is false throughout; the other hints differ per tool and are spelled out.
 */
export const readOnlyTool: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};
