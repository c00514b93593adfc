/**
 * Glob patterns as the policy file writes them, compiled to regular expressions once.
 * `*` and `?` stay within one path segment, `**` crosses segments, `{a,b}` and `[…]`
 * work as in a shell. Where a pattern applies depends on its form:
 *   `/abs/**` or `~/x`  → absolute paths;
 *   `dir/file`, `.github/workflows/**` → paths relative to the workspace root;
 *   `*.pem`, `secrets` (no slash) → any path segment, at any depth, as in .gitignore.
 * A pattern also covers everything below what it matches: `/tmp` allows `/tmp/x`.
 */
import path from 'node:path';

export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${globSource(glob)}$`);
}

function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '/' && glob.slice(i + 1) === '**') {
      // `dir/**` also names `dir` itself.
      out += '(?:/.*)?';
      break;
    }
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        const atSegmentStart = i === 0 || glob[i - 1] === '/';
        if (atSegmentStart && slashAfter) {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i++;
        }
      } else out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = matchingBrace(glob, i);
      if (end === -1) out += '\\{';
      else {
        out += `(?:${splitTopLevel(glob.slice(i + 1, end))
          .map(globSource)
          .join('|')})`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRe(glob[i + 1] as string);
      i++;
    } else out += escapeRe(c);
  }
  return out;
}

function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(s.slice(from));
  return parts;
}

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export interface PathPattern {
  source: string;
  test(absPath: string, workspace: string, home: string): boolean;
}

export function compilePathPattern(source: string): PathPattern {
  let pattern = source.endsWith('/') && source.length > 1 ? source.slice(0, -1) : source;
  if (pattern.startsWith('./')) pattern = pattern.slice(2);
  const kind =
    pattern === '~' || pattern.startsWith('~/')
      ? 'home'
      : pattern.startsWith('/')
        ? 'absolute'
        : pattern.includes('/')
          ? 'workspace'
          : 'segment';
  const re = globToRegExp(kind === 'home' ? pattern.slice(Math.min(2, pattern.length)) : pattern);
  const test = (abs: string, workspace: string, home: string): boolean => {
    switch (kind) {
      case 'absolute':
        return selfOrAncestor(abs, re);
      case 'home': {
        const rel = relativeInside(home, abs);
        return rel !== null && (pattern === '~' || selfOrAncestor(rel, re));
      }
      case 'workspace': {
        const rel = relativeInside(workspace, abs);
        return rel !== null && rel !== '' && selfOrAncestor(rel, re);
      }
      case 'segment': {
        const rel = relativeInside(workspace, abs) ?? abs;
        return rel.split('/').some((seg) => seg !== '' && re.test(seg));
      }
    }
  };
  return { source, test };
}

/** Whether the pattern matches the path or one of the directories above it. */
function selfOrAncestor(p: string, re: RegExp): boolean {
  for (let cur = p; ;) {
    if (re.test(cur)) return true;
    const i = cur.lastIndexOf('/');
    if (i <= 0) return i === 0 && cur !== '/' ? re.test('/') : false;
    cur = cur.slice(0, i);
  }
}

/** The path of `abs` inside `root` ('' for the root itself), or null when it is outside. */
export function relativeInside(root: string, abs: string): string | null {
  if (abs === root) return '';
  const prefix = root.endsWith('/') ? root : root + '/';
  return abs.startsWith(prefix) ? abs.slice(prefix.length) : null;
}

export const isInside = (root: string, abs: string): boolean => relativeInside(root, abs) !== null;

/** An absolute, normalised path, or null when it depends on an unknown directory. */
export function resolvePath(p: string, cwd: string | null): string | null {
  if (p.startsWith('/')) return path.posix.resolve(p);
  if (cwd === null) return null;
  return path.posix.resolve(cwd, p);
}
