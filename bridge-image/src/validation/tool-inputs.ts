/**
 * Reading tool calls in the shapes agents send them: Claude Code's Bash `{ command }`,
 * Edit `{ file_path, old_string, new_string }`, Write `{ file_path, content }`, MultiEdit
 * `{ file_path, edits }`, NotebookEdit `{ notebook_path, new_source }`, Read `{ file_path }`,
 * Grep `{ pattern, path?, glob? }`, Glob `{ pattern, path? }`; and shell tools that pass
 * an argv array (`{ command: ["bash", "-lc", "…"] }`).
 */
import path from 'node:path';
import type { FileOp } from './file-ops.js';
import type { ToolSubject } from './rules/rule.js';

export type ToolFamily = 'shell' | 'write' | 'read' | 'grep' | 'glob' | 'other';

const FAMILIES: Record<string, ToolFamily> = {
  bash: 'shell',
  shell: 'shell',
  edit: 'write',
  write: 'write',
  multiedit: 'write',
  notebookedit: 'write',
  read: 'read',
  notebookread: 'read',
  grep: 'grep',
  glob: 'glob',
};

export const toolFamily = (tool: string): ToolFamily => FAMILIES[tool.toLowerCase()] ?? 'other';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The command line of a shell tool call, or null when the input has no command. */
export function shellCommand(input: unknown): string | null {
  if (typeof input === 'string') return input;
  if (!isRecord(input)) return null;
  const c = input.command ?? input.cmd;
  if (typeof c === 'string') return c;
  if (Array.isArray(c) && c.length && c.every((x) => typeof x === 'string'))
    return c.map(shellQuote).join(' ');
  return null;
}

const shellQuote = (s: string): string =>
  /^[A-Za-z0-9_./=:@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;

export function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? home + p.slice(1) : p;
}

/** The files a file tool touches; null when the input is not in a shape we know. */
export function fileToolSubject(tool: string, input: unknown, cwd: string, home: string): ToolSubject | null {
  if (!isRecord(input)) return null;
  const family = toolFamily(tool);
  const resolve = (p: string) => path.posix.resolve(cwd, expandHome(p, home));
  const op = (access: FileOp['access'], raw: string, recursive = false): FileOp => ({
    access,
    path: resolve(raw),
    raw,
    via: tool,
    recursive,
  });
  switch (family) {
    case 'write': {
      const file = str(input.file_path) ?? str(input.notebook_path);
      if (!file) return null;
      const texts: string[] = [];
      for (const k of ['old_string', 'new_string', 'content', 'new_source']) {
        const t = str(input[k]);
        if (t !== null) texts.push(t);
      }
      if (Array.isArray(input.edits)) {
        for (const e of input.edits) {
          if (!isRecord(e)) return null;
          for (const k of ['old_string', 'new_string']) {
            const t = str(e[k]);
            if (t !== null) texts.push(t);
          }
        }
      }
      return { kind: 'tool', tool, ops: [op('write', file)], texts };
    }
    case 'read': {
      const file = str(input.file_path) ?? str(input.notebook_path);
      return file ? { kind: 'tool', tool, ops: [op('read', file)], texts: [] } : null;
    }
    case 'grep': {
      if (str(input.pattern) === null) return null;
      const where = resolve(str(input.path) ?? cwd);
      const ops = [op('read', where, true)];
      const glob = str(input.glob);
      if (glob) ops.push(op('read', path.posix.resolve(where, glob.includes('/') ? glob : `**/${glob}`)));
      return { kind: 'tool', tool, ops, texts: [] };
    }
    case 'glob': {
      const pattern = str(input.pattern);
      if (pattern === null) return null;
      const where = resolve(str(input.path) ?? cwd);
      return {
        kind: 'tool',
        tool,
        ops: [op('read', path.posix.resolve(where, expandHome(pattern, home)))],
        texts: [],
      };
    }
    default:
      return null;
  }
}
