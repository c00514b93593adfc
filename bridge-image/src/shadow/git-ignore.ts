/**
 * Which paths of a shadow git ignores: `.git/` itself, and whatever the .gitignore files (the root's
 * and nested ones) and `.git/info/exclude` say, as gitignore(5) reads them. Those paths are the
 * agent's private layer (fuse/private-layer.ts): never events, never reviewed or applied.
 *
 * The rule files are read through a `RuleSource` (the daemon reads the SHADOW's .gitignore, which
 * the agent may have edited, not the workspace's); compiled rules are cached per directory until
 * `invalidate()` (a .gitignore written, an event or a workspace change that touches one).
 */

/**
 * One token of a compiled pattern. Patterns are matched by simulating them as a small automaton
 * (`matchTokens`), never as regular expressions: a pattern of the agent's .gitignore must not be able
 * to make the daemon compile a huge expression or backtrack for minutes (`a*a*a*a*a*b`), and the
 * cost of a match stays (path length) x (pattern length).
 */
type Token =
  | { t: 'lit'; c: string }
  /** `?`: one character but a slash. */
  | { t: 'one' }
  /** `[...]`: one character (never a slash) in (or, `neg`, not in) the set. */
  | { t: 'set'; neg: boolean; test: (c: string) => boolean }
  /** `*`: any run of characters without a slash. */
  | { t: 'star' }
  /** `**` /: no directories, or any number of them (the slash included). */
  | { t: 'dirs' }
  /** A final `**`: anything at all. */
  | { t: 'all' };

/** One compiled line of a rule file. */
interface Rule {
  tokens: Token[];
  /** The pattern without a wildcard: compared as a string. */
  literal: string | undefined;
  /** Matched against the last component only (a pattern without a slash). */
  basename: boolean;
  negate: boolean;
  dirOnly: boolean;
}

/** The rules of one file, matched against paths relative to the directory it applies to. */
interface RuleFile {
  /** The directory the patterns are relative to ('' for the root and for info/exclude). */
  dir: string;
  rules: Rule[];
}

/**
 * Bounds on what one rule file may cost (a .gitignore is the agent's to write, megabytes of it if
 * it likes): past them the rest is left out, and said (`RuleSource.report`). Real files are a few
 * hundred lines of short patterns.
 */
export const RULE_LIMITS = { bytes: 1024 * 1024, rules: 10_000, patternLength: 4096 } as const;

const CLASSES: Record<string, (c: string) => boolean> = {
  alnum: (c) => /^[A-Za-z0-9]$/.test(c),
  alpha: (c) => /^[A-Za-z]$/.test(c),
  blank: (c) => c === ' ' || c === '\t',
  cntrl: (c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127,
  digit: (c) => c >= '0' && c <= '9',
  graph: (c) => c.charCodeAt(0) > 32 && c.charCodeAt(0) < 127,
  lower: (c) => c >= 'a' && c <= 'z',
  print: (c) => c.charCodeAt(0) >= 32 && c.charCodeAt(0) < 127,
  punct: (c) => /^[!-/:-@[-`{-~]$/.test(c),
  space: (c) => /^[ \t\n\r\f\v]$/.test(c),
  upper: (c) => c >= 'A' && c <= 'Z',
  xdigit: (c) => /^[0-9A-Fa-f]$/.test(c),
};

/**
 * A bracket expression starting at glob[i] ('['), as git's wildmatch reads it: `!` or `^` negates,
 * a `]` first is a member, ranges, `[:class:]`, backslash escapes. Null: not closed (the whole
 * pattern then matches nothing, as in git).
 */
function parseSet(glob: string, i: number): { token: Token; end: number } | null {
  let j = i + 1;
  let neg = false;
  if (glob[j] === '!' || glob[j] === '^') {
    neg = true;
    j++;
  }
  const parts: ((c: string) => boolean)[] = [];
  let first = true;
  for (; j < glob.length; j++) {
    let c = glob[j]!;
    if (c === ']' && !first) {
      const test = (x: string) => parts.some((p) => p(x));
      return { token: { t: 'set', neg, test }, end: j };
    }
    first = false;
    if (c === '[' && glob[j + 1] === ':') {
      const close = glob.indexOf(':]', j + 2);
      const cls = close < 0 ? undefined : CLASSES[glob.slice(j + 2, close)];
      if (close < 0) return null;
      // An unknown class makes the pattern match nothing (git: malformed).
      if (!cls) return null;
      parts.push(cls);
      j = close + 1;
      continue;
    }
    if (c === '\\') {
      j++;
      if (j >= glob.length) return null;
      c = glob[j]!;
    }
    if (glob[j + 1] === '-' && glob[j + 2] !== undefined && glob[j + 2] !== ']') {
      let hi = glob[j + 2]!;
      let k = j + 2;
      if (hi === '\\') {
        k++;
        if (k >= glob.length) return null;
        hi = glob[k]!;
      }
      const lo = c;
      parts.push((x) => x >= lo && x <= hi);
      j = k;
      continue;
    }
    const lit = c;
    parts.push((x) => x === lit);
  }
  return null;
}

/** A glob of gitignore(5) as tokens (`*`, `?`, `[...]`, `**`, `\x`); null: it matches nothing. */
function tokenize(glob: string): Token[] | null {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\') {
      // A trailing backslash is malformed: the pattern matches nothing (git).
      if (i + 1 >= glob.length) return null;
      out.push({ t: 'lit', c: glob[++i]! });
    } else if (c === '*') {
      let j = i;
      while (glob[j + 1] === '*') j++;
      const atStart = i === 0 || glob[i - 1] === '/';
      const atEnd = j + 1 === glob.length || glob[j + 1] === '/';
      if (j > i && atStart && atEnd) {
        // "**/" matches no or any directories; a final "**" everything below.
        if (j + 1 === glob.length) out.push({ t: 'all' });
        else {
          // "**/**/" is one "**/".
          if (out[out.length - 1]?.t !== 'dirs') out.push({ t: 'dirs' });
          j++; // the slash
        }
      } else if (out[out.length - 1]?.t !== 'star') out.push({ t: 'star' });
      i = j;
    } else if (c === '?') {
      out.push({ t: 'one' });
    } else if (c === '[') {
      const s = parseSet(glob, i);
      if (!s) return null;
      out.push(s.token);
      i = s.end;
    } else {
      out.push({ t: 'lit', c });
    }
  }
  return out;
}

/**
 * Whether `tokens` match all of `s`: the set of pattern positions reachable after each character,
 * one pass over the path (no backtracking). A position is reached at its start (AT) or, for `**`/,
 * inside the directories it consumes (IN): only at its start may it match no directory at all.
 */
const AT = 1;
const IN = 2;
function matchTokens(tokens: Token[], s: string): boolean {
  const n = tokens.length;
  let cur = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  // A wildcard may match nothing: its position reaches the next one too.
  const close = (set: Uint8Array) => {
    for (let p = 0; p < n; p++) {
      const t = tokens[p]!.t;
      if (set[p]! & AT && (t === 'star' || t === 'dirs' || t === 'all')) set[p + 1]! |= AT;
    }
  };
  cur[0] = AT;
  close(cur);
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    next.fill(0);
    let any = false;
    for (let p = 0; p < n; p++) {
      if (!cur[p]) continue;
      const tk = tokens[p]!;
      let stay = 0;
      let advance = false;
      switch (tk.t) {
        case 'lit':
          advance = tk.c === c;
          break;
        case 'one':
          advance = c !== '/';
          break;
        case 'set':
          advance = c !== '/' && tk.test(c) !== tk.neg;
          break;
        case 'star':
          if (c !== '/') stay = AT;
          break;
        case 'dirs':
          // Any characters, then a slash ends a directory and the rest of the pattern follows.
          stay = IN;
          advance = c === '/';
          break;
        case 'all':
          stay = AT;
          break;
      }
      if (stay) next[p]! |= stay;
      if (advance) next[p + 1]! |= AT;
      any ||= stay !== 0 || advance;
    }
    if (!any) return false;
    close(next);
    [cur, next] = [next, cur];
  }
  return (cur[n]! & AT) !== 0;
}

function ruleMatches(r: Rule, sub: string): boolean {
  const s = r.basename ? sub.slice(sub.lastIndexOf('/') + 1) : sub;
  return r.literal !== undefined ? r.literal === s : matchTokens(r.tokens, s);
}

/** What `parseRules` left out (RULE_LIMITS), to say so. */
export interface RulesCut {
  lines: number;
  longPatterns: number;
}

/**
 * Parses a rule file's text (gitignore(5)): comments, `!`, trailing `/`, anchoring, escapes. At
 * most RULE_LIMITS.rules rules, of patterns at most RULE_LIMITS.patternLength long.
 */
export function parseRules(text: string, cut?: RulesCut): Rule[] {
  const rules: Rule[] = [];
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    let line = lines[k]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > RULE_LIMITS.patternLength) {
      if (cut) cut.longPatterns++;
      continue;
    }
    // Trailing spaces are dropped unless escaped with a backslash.
    let end = line.length;
    while (end > 0 && line[end - 1] === ' ' && line[end - 2] !== '\\') end--;
    line = line.slice(0, end);
    if (line === '' || line.startsWith('#')) continue;
    if (rules.length >= RULE_LIMITS.rules) {
      if (cut) cut.lines = lines.length - k;
      break;
    }
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith('/') && !line.endsWith('\\/')) {
      dirOnly = true;
      while (line.endsWith('/')) line = line.slice(0, -1);
    }
    if (line === '') continue;
    // A slash at the start or in the middle anchors the pattern to the file's directory.
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const tokens = tokenize(line);
    if (!tokens) continue; // malformed: matches nothing, as in git
    const literal = tokens.every((t) => t.t === 'lit')
      ? tokens.map((t) => (t as { c: string }).c).join('')
      : undefined;
    rules.push({ tokens, literal, basename: !anchored, negate, dirOnly });
  }
  return rules;
}

/** Reads a rule file of a shadow: undefined when there is none. */
export interface RuleSource {
  read(rel: string): Buffer | undefined;
  /** Told when a rule file was cut to RULE_LIMITS (once each time it is read). */
  report?(rel: string, what: string): void;
}

const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/** The ignore rules of one shadow, compiled once per directory and asked for many times. */
export class GitIgnore {
  /** Per directory: its .gitignore compiled, or null when it has none (a miss is cached too). */
  private readonly files = new Map<string, RuleFile | null>();
  private exclude: RuleFile | null | undefined;
  private readonly answers = new Map<string, boolean>();

  constructor(private readonly source: RuleSource) {}

  /**
   * Forgets compiled rules and every answer: a rule file may have changed. With `dir`, only the
   * rule files at or below that directory are read again (a .gitignore there was written, or the
   * directory moved); answers elsewhere are recomputed from the rules still compiled.
   */
  invalidate(dir?: string): void {
    this.answers.clear();
    if (dir === undefined || dir === '') {
      this.files.clear();
      this.exclude = undefined;
      return;
    }
    if (dir === '.git' || dir.startsWith('.git/')) this.exclude = undefined;
    for (const d of this.files.keys()) if (d === dir || d.startsWith(dir + '/')) this.files.delete(d);
  }

  private load(rel: string, dir: string): RuleFile | null {
    let buf = this.source.read(rel);
    if (!buf || buf.length === 0) return null;
    const report = (what: string) => this.source.report?.(rel, what);
    if (buf.length > RULE_LIMITS.bytes) {
      report(`${buf.length} bytes: only the first ${RULE_LIMITS.bytes} are read`);
      buf = buf.subarray(0, RULE_LIMITS.bytes);
    }
    const cut: RulesCut = { lines: 0, longPatterns: 0 };
    const rules = parseRules(buf.toString('utf8'), cut);
    if (cut.lines > 0)
      report(`more than ${RULE_LIMITS.rules} rules: the last ${cut.lines} lines are left out`);
    if (cut.longPatterns > 0)
      report(`${cut.longPatterns} patterns longer than ${RULE_LIMITS.patternLength} characters left out`);
    return { dir, rules };
  }

  private fileOf(dir: string): RuleFile | null {
    let f = this.files.get(dir);
    if (f === undefined) {
      // Noted as missing while it is read: a source that asks for this directory's rules again
      // (to decide where the rule file itself lives) sees none rather than recursing.
      this.files.set(dir, null);
      f = this.load(dir === '' ? '.gitignore' : `${dir}/.gitignore`, dir);
      this.files.set(dir, f);
    }
    return f;
  }

  private excludeFile(): RuleFile | null {
    if (this.exclude === undefined) {
      this.exclude = null;
      this.exclude = this.load('.git/info/exclude', '');
    }
    return this.exclude;
  }

  /**
   * Whether `rel` itself matches (a parent's exclusion is not looked at): the last matching rule
   * decides, .git/info/exclude first, then the .gitignore files from the root down to rel's directory.
   */
  private matches(rel: string, isDir: boolean): boolean {
    // The deepest file that has a matching rule decides, with its last matching rule; below all
    // the .gitignore files comes .git/info/exclude.
    for (let d = parentOf(rel); ; d = parentOf(d)) {
      const v = this.verdict(this.fileOf(d), rel, isDir);
      if (v !== undefined) return v;
      if (d === '') break;
    }
    return this.verdict(this.excludeFile(), rel, isDir) ?? false;
  }

  private verdict(f: RuleFile | null, rel: string, isDir: boolean): boolean | undefined {
    if (!f) return undefined;
    const sub = f.dir === '' ? rel : rel.slice(f.dir.length + 1);
    for (let k = f.rules.length - 1; k >= 0; k--) {
      const r = f.rules[k]!;
      if ((!r.dirOnly || isDir) && ruleMatches(r, sub)) return !r.negate;
    }
    return undefined;
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
