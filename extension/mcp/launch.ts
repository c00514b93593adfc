import fs from 'node:fs';
import path from 'node:path';
import type * as vscode from 'vscode';

/**
 * lighthouse-mcp's bundle copied to a path that does not change when the extension updates, so the
 * `.mcp.json` entries written for Claude Code keep working.
 */
export function stableMcpScript(extension: vscode.ExtensionContext): string {
  const source = path.join(extension.extensionPath, 'dist', 'mcp-server.js');
  const dir = extension.globalStorageUri.fsPath;
  const target = path.join(dir, 'lighthouse-mcp.js');
  fs.mkdirSync(dir, { recursive: true });
  const fresh = fs.readFileSync(source);
  let same = false;
  try {
    same = fs.readFileSync(target).equals(fresh);
  } catch {
    // not copied yet
  }
  if (!same) {
    fs.writeFileSync(`${target}.tmp`, fresh, { mode: 0o755 });
    fs.renameSync(`${target}.tmp`, target);
  }
  return target;
}
