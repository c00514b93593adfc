import * as vscode from 'vscode';
import { loadProtocol } from '../util/protocol.js';
import { command, requireClient, type CommandContext } from './context.js';

/**
 * "Lighthouse: Name Expert Agent…": the developer names an agent expert, with the capabilities it
 * may judge. Only a named agent may open an expert session (an agent cannot name itself), and
 * naming it again replaces its capabilities.
 */
export function registerNameExpert(ctx: CommandContext): vscode.Disposable[] {
  return [
    command(ctx, 'lighthouse.nameExpert', async (presetId?: string) => {
      const client = requireClient(ctx);
      const { AgentId, Capability, NameExpertRequest } = await loadProtocol();
      const agentId =
        typeof presetId === 'string'
          ? presetId
          : await vscode.window.showInputBox({
              title: 'Lighthouse: Name Expert Agent (1/2)',
              prompt: 'The id of the agent to name expert (as its MCP server runs with --agent)',
              placeHolder: 'e.g. reviewer',
              ignoreFocusOut: true,
              validateInput: (v) =>
                AgentId.safeParse(v.trim()).success
                  ? null
                  : 'agent id: 1-64 letters, digits, "_", "." or "-"',
            });
      if (agentId === undefined) return undefined;
      const known = (await client.listExperts()).experts.find((e) => e.agentId === agentId.trim());
      const caps = await vscode.window.showInputBox({
        title: `Lighthouse: Name Expert Agent (2/2): ${agentId.trim()}`,
        prompt:
          'What it may judge, comma-separated (reviews of shell commands need "shell", of file edits "files")',
        value: known?.capabilities.join(', ') ?? 'shell, files',
        ignoreFocusOut: true,
        validateInput: (v) => {
          const list = splitList(v);
          if (list.length === 0) return 'name at least one capability';
          const bad = list.find((c) => !Capability.safeParse(c).success);
          return bad === undefined ? null : `"${bad}": a capability is a lowercase word (a-z, 0-9, _ . : -)`;
        },
      });
      if (caps === undefined) return undefined;
      const req = NameExpertRequest.parse({ agentId: agentId.trim(), capabilities: splitList(caps) });
      const named = await client.nameExpert(req);
      ctx.output.appendLine(`named ${named.agentId} expert: ${named.capabilities.join(', ')}`);
      void vscode.window.showInformationMessage(
        `Lighthouse: ${named.agentId} is an expert for ${named.capabilities.join(', ')}. Its MCP server must run with --role expert.`,
      );
      return named;
    }),
  ];
}

const splitList = (v: string): string[] =>
  v
    .split(/[\s,]+/)
    .map((c) => c.trim())
    .filter(Boolean);
