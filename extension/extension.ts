import * as vscode from 'vscode';

/** Wiring only: each command and view lives in its own file as the extension grows. */
export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('lighthouse.showStatus', () => {
      const url = vscode.workspace.getConfiguration('lighthouse').get<string>('bridgeUrl');
      void vscode.window.showInformationMessage(`Lighthouse bridge: ${url}`);
    }),
  );
}

export function deactivate(): void {}
