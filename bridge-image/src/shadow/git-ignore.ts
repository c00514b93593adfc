/**
 * Which paths of a shadow git ignores: `.git/` itself, and whatever the .gitignore files (the root's
 * and nested ones) and `.git/info/exclude` say, as gitignore(5) reads them. Those paths are the
 * agent's private layer (fuse/private-layer.ts): never events, never reviewed or applied.
 *
 * The rule files are read through a `RuleSource` (the daemon reads the SHADOW's .gitignore, which
 * the agent may have edited, not the workspace's); compiled rules are cached per directory until
 * `invalidate()` (a .gitignore written, an event or a workspace change that touches one).
 */

/** One compiled line of a rule file. */
interface Rule {
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/** The rules of one file, matched against paths relative to the directory it applies to. */
interface RuleFile {
  /** The directory the patterns are relative to ('' for the root and for info/exclude). */
  dir: string;
  rules: Rule[];
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A glob of gitignore(5) as a regular expression source (`*`, `?`, `[...]`, `**`, `\x`). */
function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) {
      out += escapeRe(glob[++i]!);
    } else if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
        if (atStart && atEnd) {
          // "**/" matches no or any directories; a final "**" everything below.
          if (i + 2 === glob.length) out += '.*';
          else {
            out += '(?:.*/)?';
            i++; // the slash
          }
          i++;
          continue;
        }
      }
      out += '[^/]*';
      while (glob[i + 1] === '*') i++;
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const neg = body.startsWith('!') || body.startsWith('^');
      if (neg) body = body.slice(1);
      out += `[${neg ? '^' : ''}${body.replace(/\\/g, '\\\\').replace(/]/g, '\\]')}]`;
      i = close;
    } else {
      out += escapeRe(c);
    }
  }
  return out;
}

/** Parses a rule file's text (gitignore(5)): comments, `!`, trailing `/`, anchoring, escapes. */
export function parseRules(text: string): Rule[] {
  const rules: Rule[] = [];
  for (let line of text.split(/\r?\n/)) {
    // Trailing spaces are dropped unless escaped with a backslash.
    line = line.replace(/(?<!\\)\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith('/') && !line.endsWith('\\/')) {
      dirOnly = true;
      line = line.replace(/\/+$/, '');
    }
    if (line === '') continue;
    // A slash at the start or in the middle anchors the pattern to the file's directory.
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const src = (anchored ? '' : '(?:.*/)?') + globSource(line);
    try {
      rules.push({ re: new RegExp(`^${src}$`), negate, dirOnly });
    } catch {
      // A pattern that makes no expression matches nothing, as git's own matcher would.
    }
  }
  return rules;
}

/** Reads a rule file of a shadow: undefined when there is none. */
export interface RuleSource {
  read(rel: string): Buffer | undefined;
}

const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/** The ignore rules of one shadow, compiled once per directory and asked for many times. */
export class GitIgnore {
  private readonly files = new Map<string, RuleFile | null>();
  private exclude: RuleFile | null | undefined;
  private readonly answers = new Map<string, boolean>();

  constructor(private readonly source: RuleSource) {}

  /** Forgets every compiled rule and answer: a rule file may have changed. */
  invalidate(): void {
    this.files.clear();
    this.exclude = undefined;
    this.answers.clear();
  }

  private fileOf(dir: string): RuleFile | null {
    let f = this.files.get(dir);
    if (f === undefined) {
      const text = this.source.read(dir === '' ? '.gitignore' : `${dir}/.gitignore`);
      f = text ? { dir, rules: parseRules(text.toString('utf8')) } : null;
      this.files.set(dir, f);
    }
    return f;
  }

  private excludeFile(): RuleFile | null {
    if (this.exclude === undefined) {
      const text = this.source.read('.git/info/exclude');
      this.exclude = text ? { dir: '', rules: parseRules(text.toString('utf8')) } : null;
    }
    return this.exclude;
  }

  /**
   * Whether `rel` itself matches (a parent's exclusion is not looked at): the last matching rule
   * decides, .git/info/exclude first, then the .gitignore files from the root down to rel's directory.
   */
  private matches(rel: string, isDir: boolean): boolean {
    let ignored = false;
    const files: (RuleFile | null)[] = [this.excludeFile()];
    const dirs: string[] = [];
    for (let d = parentOf(rel); ; d = parentOf(d)) {
      dirs.push(d);
      if (d === '') break;
    }
    for (const d of dirs.reverse()) files.push(this.fileOf(d));
    for (const f of files) {
      if (!f) continue;
      const sub = f.dir === '' ? rel : rel.slice(f.dir.length + 1);
      for (const r of f.rules) if ((!r.dirOnly || isDir) && r.re.test(sub)) ignored = !r.negate;
    }
    return ignored;
  }

  /**
   * Whether git ignores `rel` (a directory when `isDir`): `.git` and everything in it, anything
   * below an ignored directory (git never looks into one, so no rule can bring it back), or a
   * matching rule.
   */
  ignored(rel: string, isDir: boolean): boolean {
    if (rel === '') return false;
    const key = isDir ? rel + '/' : rel;
    const hit = this.answers.get(key);
    if (hit !== undefined) return hit;
    const parent = parentOf(rel);
    const name = rel.slice(parent.length ? parent.length + 1 : 0);
    const v = name === '.git' || (parent !== '' && this.ignored(parent, true)) || this.matches(rel, isDir);
    if (this.answers.size >= 100_000) this.answers.clear();
    this.answers.set(key, v);
    return v;
  }
}

/** Whether a change to `rel` may change what is ignored (a rule file). */
export const isRuleFile = (rel: string): boolean =>
  rel === '.gitignore' || rel.endsWith('/.gitignore') || rel === '.git/info/exclude';
