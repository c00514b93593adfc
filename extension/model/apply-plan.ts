import type { ShadowChange } from '../../bridge-image/protocol/index.js';

/** One step of applying a shadow change to the workspace. */
export type ApplyStep =
  | { kind: 'write'; path: string; content: Buffer; text: boolean }
  | { kind: 'delete'; path: string }
  | { kind: 'move'; from: string; to: string; content: Buffer; text: boolean };

/** Text when it has no NUL byte and is valid UTF-8: the same test the bridge's diff uses for "binary". */
export function isText(content: Buffer): boolean {
  if (content.subarray(0, 8192).includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content);
    return true;
  } catch {
    return false;
  }
}

/**
 * The steps that make the workspace match the changes, given each changed file's shadow content.
 * Deletions come last so that a move's source is still there when it is read.
 */
export function planApply(
  changes: readonly ShadowChange[],
  content: (path: string) => Buffer | undefined,
): ApplyStep[] {
  const steps: ApplyStep[] = [];
  const deletes: ApplyStep[] = [];
  const written = new Set(changes.filter((c) => c.status !== 'deleted').map((c) => c.path));
  for (const c of changes) {
    if (c.status === 'deleted') {
      deletes.push({ kind: 'delete', path: c.path });
      continue;
    }
    const data = content(c.path);
    if (!data) throw new Error(`no content for ${c.path} in the shadow`);
    // A move whose source another change writes (renames v2 -> v3, then v1 -> v2) only writes its
    // target: deleting its source would delete that other change's file.
    if (c.status === 'moved' && c.movedFrom && !written.has(c.movedFrom)) {
      steps.push({ kind: 'move', from: c.movedFrom, to: c.path, content: data, text: isText(data) });
    } else {
      steps.push({ kind: 'write', path: c.path, content: data, text: isText(data) });
    }
  }
  return [...steps, ...deletes];
}
