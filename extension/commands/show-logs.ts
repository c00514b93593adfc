import * as vscode from 'vscode';
import { command, type CommandContext } from './context.js';

/** Streams the container's logs into their own output channel until the container stops. */
export function registerShowLogs(ctx: CommandContext): vscode.Disposable[] {
  const channel = vscode.window.createOutputChannel('Lighthouse Bridge Logs');
  let following: NodeJS.ReadableStream | undefined;
  return [
    channel,
    new vscode.Disposable(() => (following as { destroy?: () => void } | undefined)?.destroy?.()),
    command(ctx, 'lighthouse.showLogs', async () => {
      const found = await ctx.bridge.container();
      if (!found)
        throw new Error('this workspace has no bridge container yet: run "Lighthouse: Start Bridge"');
      channel.show(true);
      if (following) return;
      channel.clear();
      const stream = (await found.docker
        .getContainer(found.id)
        .logs({ follow: true, stdout: true, stderr: true, tail: 500 })) as NodeJS.ReadableStream;
      following = stream;
      const sink = { write: (chunk: Buffer) => channel.append(chunk.toString('utf8')) };
      found.docker.modem.demuxStream(stream, sink as NodeJS.WritableStream, sink as NodeJS.WritableStream);
      stream.on('end', () => {
        channel.appendLine('--- the container stopped ---');
        following = undefined;
      });
    }),
  ];
}
