import * as vscode from 'vscode';
import type { LighthouseTrees } from '../api.js';
import type { BridgeController } from '../bridge/controller.js';
import { EngineNotFoundError, ENGINE_HELP } from '../engine/discover.js';
import type { Secrets } from '../secrets.js';

/** What every command may use. */
export interface CommandContext {
  extension: vscode.ExtensionContext;
  bridge: BridgeController;
  secrets: Secrets;
  output: vscode.OutputChannel;
  trees: LighthouseTrees;
}

/**
 * Registers a command whose failures become a readable message (never a stack trace in a
 * notification); the details go to the Lighthouse output channel. The failure is not thrown on:
 * VS Code would report it a second time, in a modal dialog, for a command run from the palette.
 * Callers learn the outcome from the command's result or the bridge's state.
 */
export function command(
  ctx: CommandContext,
  id: string,
  run: (...args: never[]) => unknown,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await (run as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      reportError(ctx, e);
      return undefined;
    }
  });
}

export function reportError(ctx: CommandContext, e: unknown): void {
  const err = e as Error;
  if (err?.name === 'Canceled' || err?.name === 'AbortError' || /cancelled/.test(err?.message ?? '')) return;
  ctx.output.appendLine(`error: ${err?.message ?? String(e)}`);
  if (e instanceof EngineNotFoundError) {
    void vscode.window
      .showErrorMessage(
        `Lighthouse: no container engine answered. ${ENGINE_HELP}`,
        'Show What Was Tried',
        'Open Settings',
      )
      .then((pick) => {
        if (pick === 'Show What Was Tried') ctx.output.show(true);
        if (pick === 'Open Settings')
          void vscode.commands.executeCommand('workbench.action.openSettings', 'lighthouse.dockerHost');
      });
    return;
  }
  void vscode.window.showErrorMessage(`Lighthouse: ${err?.message ?? String(e)}`);
}

/** The admin client, or a clear error when the bridge is not running. */
export function requireClient(ctx: CommandContext) {
  const c = ctx.bridge.client;
  if (!c) throw new Error('the bridge is not running: run "Lighthouse: Start Bridge" first');
  return c;
}
