import * as vscode from 'vscode';
import type { BridgeController, BridgeState } from '../bridge/controller.js';

const LOOK: Record<BridgeState, { icon: string; text: string; color?: string }> = {
  stopped: { icon: '$(circle-slash)', text: 'stopped' },
  starting: { icon: '$(loading~spin)', text: 'starting' },
  ready: { icon: '$(radio-tower)', text: 'ready' },
  unhealthy: { icon: '$(warning)', text: 'unhealthy', color: 'statusBarItem.warningBackground' },
  stopping: { icon: '$(loading~spin)', text: 'stopping' },
};

/** The bridge's state in the status bar; a click offers the actions that fit it. */
export function createStatusBar(bridge: BridgeController): vscode.Disposable[] {
  const item = vscode.window.createStatusBarItem('lighthouse.status', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Lighthouse Bridge';
  item.command = 'lighthouse.statusMenu';
  const draw = () => {
    const look = LOOK[bridge.state];
    item.text = `${look.icon} Lighthouse: ${look.text}`;
    item.tooltip = bridge.info
      ? `Lighthouse bridge ${look.text} at ${bridge.info.url} (${bridge.info.containerName})`
      : `Lighthouse bridge ${look.text}${bridge.lastError ? `: ${bridge.lastError}` : ''}`;
    item.backgroundColor = look.color ? new vscode.ThemeColor(look.color) : undefined;
    void vscode.commands.executeCommand('setContext', 'lighthouse.state', bridge.state);
  };
  draw();
  item.show();
  const menu = vscode.commands.registerCommand('lighthouse.statusMenu', async () => {
    const running = bridge.state === 'ready' || bridge.state === 'unhealthy';
    const actions = running
      ? ['Stop Bridge', 'Restart Bridge', 'Show Logs', 'Connect Claude Code', 'Remove Bridge Container']
      : ['Start Bridge', 'Show Logs', 'Remove Bridge Container'];
    const pick = await vscode.window.showQuickPick(actions, { title: `Lighthouse bridge: ${bridge.state}` });
    const ids: Record<string, string> = {
      'Start Bridge': 'lighthouse.start',
      'Stop Bridge': 'lighthouse.stop',
      'Restart Bridge': 'lighthouse.restart',
      'Show Logs': 'lighthouse.showLogs',
      'Connect Claude Code': 'lighthouse.connectClaudeCode',
      'Remove Bridge Container': 'lighthouse.remove',
    };
    if (pick) await vscode.commands.executeCommand(ids[pick]!);
  });
  return [item, menu, bridge.onDidChangeState(draw)];
}
