import { isInside } from '../glob.js';
import type { FileOp } from '../file-ops.js';
import { defineRule, firstOf, type Subject } from './rule.js';

/** The MCP tool (as Claude Code names it) that makes this change in the agent's shadow instead. */
function lighthouseTool(op: FileOp, s: Subject): string {
  const tool = (name: string) => `mcp__lighthouse__${name}`;
  if (op.access === 'delete') return op.via === 'mv' ? tool('move_file') : tool('delete_file');
  if (s.kind === 'tool' && /edit/i.test(s.tool)) return tool('edit_file');
  return op.via === 'mv' ? tool('move_file') : tool('write_file');
}

/**
 * An agent whose tools run natively must not change the project behind its shadow's back: the
 * workspace itself is the developer's, and a change there is neither recorded nor reviewed.
 */
export const nativeWriteOutsideShadow = defineRule('native-write-outside-shadow', 0.95, (s, env) => {
  const iso = env.isolation;
  if (!iso) return null;
  return firstOf(s.ops, (op) => {
    if (op.access === 'read' || op.path === null) return null;
    const p = op.path;
    if (iso.shadow && isInside(iso.shadow, p)) return null;
    const root = iso.protect.find((r) => isInside(r, p));
    if (!root) return null;
    const instead = lighthouseTool(op, s);
    const where = iso.shadow
      ? `outside your shadow ${iso.shadow}: work there (cd ${iso.shadow}) or`
      : 'and your shadow is not mounted on this machine:';
    return {
      reason: `${op.access === 'delete' ? 'deletes' : 'writes'} ${p} (via ${op.via}) in the project ${root} ${where} make the change with the Lighthouse tool ${instead} (path relative to the project), so that it lands in your shadow for review`,
      verbatim: true,
    };
  });
});
