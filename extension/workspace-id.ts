import { createHash } from 'node:crypto';
import * as vscode from 'vscode';

/** The project folder the bridge serves: the first workspace folder on disk. */
export function workspaceFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
}

/** A stable id for a project path: names its container, volume, secret and keys. */
export function workspaceIdOf(fsPath: string): string {
  return createHash('sha256').update(fsPath).digest('hex').slice(0, 32);
}
