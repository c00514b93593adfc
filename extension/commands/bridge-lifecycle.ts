import * as vscode from 'vscode';
import { toAbortSignal } from '../util/abort.js';
import { command, type CommandContext } from './context.js';

/** Start, stop, restart and remove the bridge container, with progress and cancellation. */
export function registerBridgeLifecycle(ctx: CommandContext): vscode.Disposable[] {
  const start = () =>
    vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Lighthouse: starting the bridge',
        cancellable: true,
      },
      async (progress, token) => {
        const info = await ctx.bridge.start((message) => progress.report({ message }), toAbortSignal(token));
        void vscode.window.setStatusBarMessage(`Lighthouse bridge ready at ${info.url}`, 5000);
        return info;
      },
    );
  const stop = () =>
    vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Lighthouse: stopping the bridge' },
      () => ctx.bridge.stop(),
    );
  return [
    command(ctx, 'lighthouse.start', start),
    command(ctx, 'lighthouse.stop', stop),
    command(ctx, 'lighthouse.restart', async () => {
      await stop();
      return start();
    }),
    command(ctx, 'lighthouse.remove', async (withData?: boolean) => {
      let removeData = withData;
      if (removeData === undefined) {
        const pick = await vscode.window.showWarningMessage(
          'Remove the Lighthouse bridge container of this workspace?',
          { modal: true, detail: 'The event store is kept in its volume unless you remove it too.' },
          'Remove Container',
          'Remove Container and Data',
        );
        if (!pick) return;
        removeData = pick === 'Remove Container and Data';
      }
      await ctx.bridge.remove(removeData);
    }),
  ];
}
