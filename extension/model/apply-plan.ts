import type { ShadowChange, ShadowStat } from '../../bridge-image/protocol/index.js';

/**
 * One step of applying a shadow change to the workspace. `mode`: the permission bits the file has
 * in the shadow, set after it is written (chmod +x). A symlink is a step of its own: VS Code's
 * WorkspaceEdit cannot make one (see apply-disk.ts); `from` is the link's old place when it moved.
 */
export type ApplyStep =
  | { kind: 'write'; path: string; content: Buffer; text: boolean; mode?: number }
  | { kind: 'delete'; path: string }
  | { kind: 'move'; from: string; to: string; content: Buffer; text: boolean; mode?: number }
  | { kind: 'link'; path: string; target: string; from?: string };

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
 * The steps that make the workspace match the changes, given each changed file's shadow content
 * and (`stat`) what the shadow says of it: a symlink's text, a file's mode. Deletions come last so
 * that a move's source is still there when it is read.
 */
export function planApply(
  changes: readonly ShadowChange[],
  content: (path: string) => Buffer | undefined,
  stat: (path: string) => Pick<ShadowStat, 'type' | 'mode' | 'target'> | undefined = () => undefined,
): ApplyStep[] {
  const steps: ApplyStep[] = [];
  const deletes: ApplyStep[] = [];
  const written = new Set(changes.filter((c) => c.status !== 'deleted').map((c) => c.path));
  for (const c of changes) {
    if (c.status === 'deleted') {
      deletes.push({ kind: 'delete', path: c.path });
      continue;
    }
    const st = stat(c.path);
    // A move whose source another change writes (renames v2 -> v3, then v1 -> v2) only writes its
    // target: deleting its source would delete that other change's file.
    const from = c.status === 'moved' && c.movedFrom && !written.has(c.movedFrom) ? c.movedFrom : null;
    if (st?.type === 'symlink' && st.target !== undefined) {
      steps.push({ kind: 'link', path: c.path, target: st.target, ...(from ? { from } : {}) });
      continue;
    }
    const data = content(c.path);
    if (!data) throw new Error(`no content for ${c.path} in the shadow`);
    const mode = st?.type === 'file' ? { mode: st.mode & 0o777 } : {};
    if (from) {
      steps.push({ kind: 'move', from, to: c.path, content: data, text: isText(data), ...mode });
    } else {
      steps.push({ kind: 'write', path: c.path, content: data, text: isText(data), ...mode });
    }
  }
  return [...steps, ...deletes];
}
