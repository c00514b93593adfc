import * as vscode from 'vscode';
import type { BridgeClient, ShadowChange, ShadowStat } from '../../bridge-image/protocol/index.js';
import { conflictNotice } from '../model/apply-conflicts.js';
import { finishOnDisk, unlinkReplacedLinks } from '../model/apply-disk.js';
import { planApply, type ApplyStep } from '../model/apply-plan.js';
import type { ShadowNode } from '../tree/shadow-tree.js';
import { workspaceFolder } from '../workspace-id.js';
import { command, requireClient, type CommandContext } from './context.js';

/**
 * From a tree row, or as arguments. `overwrite` decides for conflicting changes without asking:
 * true applies them, false refuses (for scripted callers); left out, the developer is asked.
 */
type Target = ShadowNode | { agentId: string; paths?: string[]; overwrite?: boolean } | undefined;

/**
 * Which agent and which of its paths a command was invoked on (a tree row, or arguments); no paths:
 * all of them. Not taken from the tree, which only knows the lists of agents that were expanded.
 */
function selection(target: Target, all: boolean): { agentId: string; paths?: string[] } {
  if (!target) throw new Error('pick a changed file or an agent in the Shadow Files view');
  const agentId = target.agentId;
  if ('kind' in target && target.kind === 'file' && !all) return { agentId, paths: [target.change.path] };
  if ('paths' in target && target.paths) return { agentId, paths: target.paths };
  return { agentId };
}

/** The agent's changes as the bridge has them now, limited to the chosen paths. */
async function freshChanges(
  client: BridgeClient,
  chosen: { agentId: string; paths?: string[] },
): Promise<ShadowChange[]> {
  // Every page of them: the bridge answers a page at a time, and Apply All means all.
  const changes = await client.allChanges({ agent: chosen.agentId });
  if (!chosen.paths) return changes;
  const wanted = new Set(chosen.paths);
  return changes.filter((c) => wanted.has(c.path));
}

/**
 * Writes an agent's changes into the workspace with one WorkspaceEdit (so Undo takes them back),
 * saves the files, makes the symlinks and sets the modes with node's fs (WorkspaceEdit cannot;
 * Undo does not take those back), then tells the bridge they are applied.
 */
async function apply(ctx: CommandContext, target: Target, all: boolean): Promise<string[]> {
  const client = requireClient(ctx);
  const folder = workspaceFolder();
  if (!folder) throw new Error('open the project folder first');
  const chosen = selection(target, all);
  // Fetch fresh changes: the tree may be older than the shadow. Apply All takes every one of them.
  const changes = await freshChanges(client, all ? { agentId: chosen.agentId } : chosen);
  if (!changes.length) throw new Error(`${chosen.agentId} has no changes to apply`);
  const overwrite = target && 'overwrite' in target ? target.overwrite : undefined;
  if (!(await overwriteConfirmed(chosen.agentId, changes, overwrite))) return [];
  const contents = new Map<string, Buffer>();
  const stats = new Map<string, ShadowStat>();
  const agent = { agent: chosen.agentId };
  await Promise.all(
    changes
      .filter((c) => c.status !== 'deleted')
      .map(async (c) => {
        const st = await client.stat(c.path, agent);
        stats.set(c.path, st);
        // A symlink's text is in its stat; reading it would follow it.
        if (st.type !== 'symlink') contents.set(c.path, await client.readFile(c.path, agent));
      }),
  );
  const steps = planApply(
    changes,
    (p) => contents.get(p),
    (p) => stats.get(p),
  );
  const onDisk = steps.some((s) => s.kind === 'link' || ('mode' in s && s.mode !== undefined));
  if (onDisk && folder.uri.scheme !== 'file')
    throw new Error('symlinks and file modes can only be applied to a folder on this machine');
  const root = folder.uri.fsPath;
  if (onDisk) unlinkReplacedLinks(root, steps);
  const edit = new vscode.WorkspaceEdit();
  const toSave: vscode.Uri[] = [];
  for (const step of steps) await addStep(edit, folder.uri, step, toSave);
  const ok = await vscode.workspace.applyEdit(edit, { isRefactoring: false });
  if (!ok) throw new Error('VS Code refused the edit (is a file read-only or open with unsaved changes?)');
  for (const uri of toSave) {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc?.isDirty) await doc.save();
  }
  // Symlinks and modes: WorkspaceEdit has no way to make them (not undoable with the edit).
  if (onDisk) finishOnDisk(root, steps);
  const paths = changes.map((c) => c.path);
  await client.applyShadow({ agentId: chosen.agentId, paths });
  ctx.trees.shadow.refresh();
  void vscode.window.setStatusBarMessage(
    `Lighthouse: applied ${paths.length} file(s) from ${chosen.agentId}`,
    5000,
  );
  return paths;
}

/**
 * Conflicting changes are never applied silently (apply-conflicts.ts). Resolves true when there is
 * none or the developer says so; `overwrite` false refuses, naming them.
 */
async function overwriteConfirmed(
  agentId: string,
  changes: ShadowChange[],
  overwrite: boolean | undefined,
): Promise<boolean> {
  const notice = conflictNotice(agentId, changes);
  if (!notice || overwrite === true) return true;
  if (overwrite === false) throw new Error(`${notice.what}; nothing was applied:\n${notice.detail}`);
  const pick = await vscode.window.showWarningMessage(
    `${notice.what}.`,
    { modal: true, detail: notice.detail },
    'Overwrite',
  );
  return pick === 'Overwrite';
}

async function addStep(edit: vscode.WorkspaceEdit, root: vscode.Uri, step: ApplyStep, toSave: vscode.Uri[]) {
  if (step.kind === 'link') return; // made on disk after the edit (finishOnDisk)
  if (step.kind === 'delete') {
    edit.deleteFile(vscode.Uri.joinPath(root, step.path), { ignoreIfNotExists: true, recursive: false });
    return;
  }
  const target = vscode.Uri.joinPath(root, step.kind === 'move' ? step.to : step.path);
  if (step.kind === 'move') {
    edit.deleteFile(vscode.Uri.joinPath(root, step.from), { ignoreIfNotExists: true });
  }
  const exists = await vscode.workspace.fs.stat(target).then(
    () => true,
    () => false,
  );
  if (exists && step.text && step.kind === 'write') {
    // A text edit on the document: undoable like any edit, in the editor's own history.
    const doc = await vscode.workspace.openTextDocument(target);
    const whole = new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
    edit.replace(target, whole, step.content.toString('utf8'));
    toSave.push(target);
    return;
  }
  edit.createFile(target, { overwrite: true, contents: step.content });
}

async function discard(ctx: CommandContext, target: Target, all: boolean): Promise<string[]> {
  const client = requireClient(ctx);
  const chosen = selection(target, all);
  // Named paths go as they are (the bridge refuses one that is not changed); all: as the bridge has them now.
  const paths = chosen.paths ?? (await freshChanges(client, chosen)).map((c) => c.path);
  if (!paths.length) throw new Error(`${chosen.agentId} has no changes to discard`);
  if (!(target && 'paths' in target)) {
    const pick = await vscode.window.showWarningMessage(
      `Discard ${paths.length === 1 ? paths[0] : `${paths.length} changed files`} from ${chosen.agentId}'s shadow?`,
      { modal: true },
      'Discard',
    );
    if (pick !== 'Discard') return [];
  }
  await client.discardShadow({ agentId: chosen.agentId, paths });
  ctx.trees.shadow.refresh();
  return paths;
}

export function registerApplyChanges(ctx: CommandContext): vscode.Disposable[] {
  return [
    command(ctx, 'lighthouse.applyFile', (t: Target) => apply(ctx, t, false)),
    command(ctx, 'lighthouse.applyAll', (t: Target) => apply(ctx, t, true)),
    command(ctx, 'lighthouse.discardFile', (t: Target) => discard(ctx, t, false)),
    command(ctx, 'lighthouse.discardAll', (t: Target) => discard(ctx, t, true)),
  ];
}
