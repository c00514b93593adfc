import * as vscode from 'vscode';
import type { BridgeInfo } from '../bridge/controller.js';
import { loadProtocol } from '../util/protocol.js';
import { requireClient, type CommandContext } from './context.js';

export interface AgentIdentity {
  info: BridgeInfo;
  agentId: string;
  keyFile: string;
}

/**
 * What a command that sets up an agent needs first: a running bridge (offered to start), the agent's
 * id (`given`, else asked for, default claude), its key as a 0600 file, and the bridge knowing the
 * agent, so its shadow exists before it first connects. Undefined when the developer cancels.
 */
export async function agentIdentity(
  ctx: CommandContext,
  given: string | undefined,
  title: string,
): Promise<AgentIdentity | undefined> {
  if (ctx.bridge.state !== 'ready' || !ctx.bridge.info) {
    const pick = await vscode.window.showInformationMessage(
      'The Lighthouse bridge is not running. Start it now?',
      'Start Bridge',
    );
    if (pick !== 'Start Bridge') return undefined;
    await vscode.commands.executeCommand('lighthouse.start');
  }
  const info = ctx.bridge.info;
  if (!info) throw new Error('the bridge did not start');
  const { AgentId } = await loadProtocol();
  const agentId =
    given ??
    (await vscode.window.showInputBox({
      title,
      value: 'claude',
      validateInput: (v) => {
        const r = AgentId.safeParse(v);
        return r.success ? undefined : r.error.issues[0]?.message;
      },
    }));
  if (!agentId) return undefined;
  const keyFile = await ctx.secrets.agentKeyFile(ctx.bridge.workspace().id, agentId);
  await requireClient(ctx).addAgent(agentId);
  return { info, agentId, keyFile };
}
