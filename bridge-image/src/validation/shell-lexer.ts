/**
 * A bash-compatible lexer: turns a command line into words (with their quoting and
 * expansions kept apart), control operators, parentheses and redirections. Command
 * substitutions, backticks and process substitutions are lexed recursively so the
 * commands hidden inside them are seen by the rules, and heredoc bodies are read at
 * the right newline so they are never mistaken for commands.
 */

export type Operator = '&&' | '||' | ';' | '&' | '|' | '|&' | '\n' | ';;' | ';&' | ';;&';
export type RedirOp = '>' | '>>' | '>|' | '<' | '<>' | '<<' | '<<-' | '<<<' | '>&' | '<&' | '&>' | '&>>';

export type WordPart =
  | { type: 'lit'; text: string; quoted: boolean }
  /**
   * `plain` is false for `${#X}`, `${X%y}`, `$@` and the like, whose value is never known.
   * `op`/`operand` hold `${X:-y}`-style defaults (`:-`, `-`, `:=`, `=`, `:?`, `?`, `:+`, `+`).
   */
  | { type: 'var'; name: string; quoted: boolean; plain: boolean; raw: string; op?: string; operand?: string }
  /** `~` (the user's home) or `~name` (another user's). */
  | { type: 'tilde'; user?: string }
  | { type: 'cmdsub'; body: Token[]; quoted: boolean; raw: string }
  | { type: 'procsub'; dir: '<' | '>'; body: Token[]; raw: string }
  | { type: 'arith'; raw: string };

export interface Word {
  parts: WordPart[];
  raw: string;
}

export interface HereDoc {
  delimiter: string;
  /** A quoted delimiter turns expansions in the body off. */
  quoted: boolean;
  stripTabs: boolean;
  body: Word;
}

export type Token =
  | { kind: 'word'; word: Word }
  | { kind: 'op'; op: Operator }
  | { kind: 'open' }
  | { kind: 'close' }
  | { kind: 'redir'; op: RedirOp; fd: number | null; target: Word | null; heredoc: HereDoc | null };

export interface LexResult {
  tokens: Token[];
  /** Anything bash would reject or that we could not follow; the engine escalates on these. */
  problems: string[];
}

const BLANK = new Set([' ', '\t', '\r']);
const META = new Set([' ', '\t', '\r', '\n', ';', '&', '|', '<', '>', '(', ')']);
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const SPECIAL_VAR = /[0-9@*#?$!-]/;
const REDIR_OPS: RedirOp[] = ['&>>', '&>', '<<<', '<<-', '<<', '<&', '<>', '<', '>>', '>&', '>|', '>'];
const CONTROL_OPS: Operator[] = ['&&', '||', ';;&', ';;', ';&', '|&', '|', '&', ';'];

export const MAX_NESTING = 24;

export function lex(src: string): LexResult {
  const lexer = new Lexer(src);
  const tokens = lexer.list(0, false);
  return { tokens, problems: lexer.problems };
}

/** Lexes a string as the body of an unquoted heredoc: expansions are live, quotes are not. */
export function lexHeredocBody(text: string, depth: number, problems: string[]): Word {
  const lexer = new Lexer(text);
  const parts: WordPart[] = [];
  lexer.quotedRun(parts, depth, null);
  problems.push(...lexer.problems);
  return { parts, raw: text };
}

class Lexer {
  pos = 0;
  readonly problems: string[] = [];

  constructor(readonly src: string) {}

  private at(i: number): string {
    return this.src[i] ?? '';
  }

  /** Lexes until the end of input, or, when `closeParen`, until the `)` that ends a `$(`. */
  list(depth: number, closeParen: boolean): Token[] {
    const tokens: Token[] = [];
    if (depth > MAX_NESTING) {
      this.problems.push(`nested more than ${MAX_NESTING} levels deep`);
      this.pos = this.src.length;
      return tokens;
    }
    const pending: HereDoc[] = [];
    let parens = 0;
    // `case x in a) …` has unbalanced `)` that must not end an enclosing `$(`.
    let cases = 0;
    const src = this.src;
    while (this.pos < src.length) {
      const c = this.at(this.pos);
      if (BLANK.has(c)) {
        this.pos++;
        continue;
      }
      if (c === '\\' && this.at(this.pos + 1) === '\n') {
        this.pos += 2;
        continue;
      }
      if (c === '\n') {
        tokens.push({ kind: 'op', op: '\n' });
        this.pos++;
        this.readHeredocs(pending, depth);
        continue;
      }
      if (c === '#') {
        const nl = src.indexOf('\n', this.pos);
        this.pos = nl === -1 ? src.length : nl;
        continue;
      }
      if (c === '(') {
        parens++;
        tokens.push({ kind: 'open' });
        this.pos++;
        continue;
      }
      if (c === ')') {
        this.pos++;
        if (closeParen && parens === 0 && cases === 0) {
          if (pending.length) this.problems.push('heredoc not terminated before `)`');
          return tokens;
        }
        if (parens > 0) parens--;
        tokens.push({ kind: 'close' });
        continue;
      }
      if ((c === '<' || c === '>') && this.at(this.pos + 1) === '(') {
        tokens.push({ kind: 'word', word: this.procsubWord(depth) });
        continue;
      }
      const redir = this.redirection(null, pending, depth);
      if (redir) {
        tokens.push(redir);
        continue;
      }
      const op = CONTROL_OPS.find((o) => src.startsWith(o, this.pos));
      if (op) {
        tokens.push({ kind: 'op', op });
        this.pos += op.length;
        continue;
      }
      const word = this.word(depth);
      if (word.raw === '') {
        this.pos++;
        continue;
      }
      const next = this.at(this.pos);
      if (/^\d{1,4}$/.test(word.raw) && (next === '<' || next === '>')) {
        const fdRedir = this.redirection(Number(word.raw), pending, depth);
        if (fdRedir) {
          tokens.push(fdRedir);
          continue;
        }
      }
      if (word.raw === 'case' && atCommandStart(tokens)) cases++;
      if (word.raw === 'esac' && cases > 0 && atCommandStart(tokens)) cases--;
      tokens.push({ kind: 'word', word });
    }
    if (closeParen) this.problems.push('unterminated `$(`');
    if (pending.length) this.readHeredocs(pending, depth);
    return tokens;
  }

  private redirection(fd: number | null, pending: HereDoc[], depth: number): Token | null {
    const op = REDIR_OPS.find((o) => this.src.startsWith(o, this.pos));
    if (!op) return null;
    if (fd !== null && op.startsWith('&')) return null;
    this.pos += op.length;
    while (BLANK.has(this.at(this.pos))) this.pos++;
    const c = this.at(this.pos);
    let target: Word | null = null;
    if ((c === '<' || c === '>') && this.at(this.pos + 1) === '(') target = this.procsubWord(depth);
    else if (c !== '' && !META.has(c)) target = this.word(depth);
    else this.problems.push(`redirection \`${op}\` without a target`);
    let heredoc: HereDoc | null = null;
    if ((op === '<<' || op === '<<-') && target) {
      const delimiter = target.parts
        .map((p) => (p.type === 'lit' ? p.text : p.type === 'tilde' ? '~' : ''))
        .join('');
      heredoc = {
        delimiter,
        quoted: /['"\\]/.test(target.raw),
        stripTabs: op === '<<-',
        body: { parts: [], raw: '' },
      };
      pending.push(heredoc);
    }
    return { kind: 'redir', op, fd, target, heredoc };
  }

  private readHeredocs(pending: HereDoc[], depth: number): void {
    for (const doc of pending) {
      const lines: string[] = [];
      // bash runs a heredoc cut short by the end of input (with a warning), so no problem is recorded.
      while (this.pos < this.src.length) {
        const nl = this.src.indexOf('\n', this.pos);
        let line = this.src.slice(this.pos, nl === -1 ? this.src.length : nl);
        this.pos = nl === -1 ? this.src.length : nl + 1;
        if (doc.stripTabs) line = line.replace(/^\t+/, '');
        if (line === doc.delimiter) break;
        lines.push(line);
      }
      const text = lines.length ? lines.join('\n') + '\n' : '';
      doc.body = doc.quoted
        ? { parts: [{ type: 'lit', text, quoted: true }], raw: text }
        : lexHeredocBody(text, depth + 1, this.problems);
    }
    pending.length = 0;
  }

  private procsubWord(depth: number): Word {
    const start = this.pos;
    const dir = this.at(this.pos) as '<' | '>';
    this.pos += 2;
    const body = this.list(depth + 1, true);
    const raw = this.src.slice(start, this.pos);
    return { parts: [{ type: 'procsub', dir, body, raw }], raw };
  }

  word(depth: number): Word {
    const start = this.pos;
    const parts: WordPart[] = [];
    while (this.pos < this.src.length) {
      const c = this.at(this.pos);
      if (META.has(c)) break;
      if (c === '\\') {
        const next = this.at(this.pos + 1);
        if (next === '\n') this.pos += 2;
        else if (next === '') {
          pushLit(parts, '\\', false);
          this.pos++;
        } else {
          pushLit(parts, next, true);
          this.pos += 2;
        }
      } else if (c === "'") {
        const end = this.src.indexOf("'", this.pos + 1);
        if (end === -1) {
          this.problems.push('unterminated single quote');
          pushLit(parts, this.src.slice(this.pos + 1), true);
          this.pos = this.src.length;
        } else {
          pushLit(parts, this.src.slice(this.pos + 1, end), true);
          this.pos = end + 1;
        }
      } else if (c === '"') {
        this.pos++;
        this.quotedRun(parts, depth, '"');
      } else if (c === '$') {
        this.dollar(parts, depth, false);
      } else if (c === '`') {
        this.backtick(parts, depth, false);
      } else if (c === '~' && this.tildeAllowed(start)) {
        const user = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(this.src.slice(this.pos + 1))?.[0];
        const after = user ? this.at(this.pos + 1 + user.length) : '';
        if (user && after !== '' && after !== '/' && !META.has(after)) {
          pushLit(parts, c, false);
          this.pos++;
        } else {
          parts.push(user ? { type: 'tilde', user } : { type: 'tilde' });
          this.pos += 1 + (user?.length ?? 0);
        }
      } else {
        pushLit(parts, c, false);
        this.pos++;
      }
    }
    return { parts, raw: this.src.slice(start, this.pos) };
  }

  /** `~` expands at the start of a word and after the `=` or `:` of an assignment. */
  private tildeAllowed(start: number): boolean {
    const next = this.at(this.pos + 1);
    if (next !== '/' && next !== ':' && next !== '' && !META.has(next) && !/[A-Za-z_]/.test(next))
      return false;
    if (this.pos === start) return true;
    const before = this.src.slice(start, this.pos);
    return /^[A-Za-z_][A-Za-z0-9_]*\+?=(?:[^:]*:)*$/.test(before);
  }

  /** Double-quoted text (`end` = '"') or a heredoc body (`end` = null). */
  quotedRun(parts: WordPart[], depth: number, end: '"' | null): void {
    pushLit(parts, '', true);
    while (this.pos < this.src.length) {
      const c = this.at(this.pos);
      if (c === end) {
        this.pos++;
        return;
      }
      if (c === '\\') {
        const next = this.at(this.pos + 1);
        const escapable = end === '"' ? '$`"\\\n' : '$`\\\n';
        if (next !== '' && escapable.includes(next)) {
          if (next !== '\n') pushLit(parts, next, true);
          this.pos += 2;
        } else {
          pushLit(parts, '\\', true);
          this.pos++;
        }
      } else if (c === '$') {
        this.dollar(parts, depth, true);
      } else if (c === '`') {
        this.backtick(parts, depth, true);
      } else {
        pushLit(parts, c, true);
        this.pos++;
      }
    }
    if (end) this.problems.push('unterminated double quote');
  }

  private dollar(parts: WordPart[], depth: number, inDouble: boolean): void {
    const start = this.pos;
    const next = this.at(this.pos + 1);
    if (next === "'" && !inDouble) {
      this.pos += 2;
      pushLit(parts, this.ansiC(), true);
      return;
    }
    if (next === '"' && !inDouble) {
      this.pos += 2;
      this.quotedRun(parts, depth, '"');
      return;
    }
    if (next === '(') {
      if (this.at(this.pos + 2) === '(') {
        const end = arithmeticEnd(this.src, this.pos + 3);
        if (end !== -1) {
          this.pos = end;
          parts.push({ type: 'arith', raw: this.src.slice(start, end) });
          return;
        }
      }
      this.pos += 2;
      const body = this.list(depth + 1, true);
      parts.push({ type: 'cmdsub', body, quoted: inDouble, raw: this.src.slice(start, this.pos) });
      return;
    }
    if (next === '{') {
      this.braceParameter(parts, depth, inDouble);
      return;
    }
    if (NAME_START.test(next)) {
      let i = this.pos + 1;
      while (NAME_CHAR.test(this.at(i))) i++;
      const name = this.src.slice(this.pos + 1, i);
      this.pos = i;
      parts.push({ type: 'var', name, quoted: inDouble, plain: true, raw: '$' + name });
      return;
    }
    if (next !== '' && SPECIAL_VAR.test(next)) {
      this.pos += 2;
      // Positional parameters are known inside `sh -c 'script' name args…`.
      parts.push({ type: 'var', name: next, quoted: inDouble, plain: /[0-9]/.test(next), raw: '$' + next });
      return;
    }
    pushLit(parts, '$', inDouble);
    this.pos++;
  }

  private braceParameter(parts: WordPart[], depth: number, inDouble: boolean): void {
    const start = this.pos;
    let i = this.pos + 2;
    let nest = 1;
    while (i < this.src.length && nest > 0) {
      const c = this.at(i);
      if (c === '\\') i++;
      else if (c === "'" && !inDouble) {
        const q = this.src.indexOf("'", i + 1);
        i = q === -1 ? this.src.length : q;
      } else if (c === '{') nest++;
      else if (c === '}') nest--;
      i++;
    }
    if (nest > 0) {
      this.problems.push('unterminated `${`');
      i = this.src.length;
    }
    const inner = this.src.slice(start + 2, nest > 0 ? i : i - 1);
    this.pos = i;
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])/.exec(inner);
    const name = m?.[1] ?? '';
    const named = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+)$/.test(name);
    const rest = inner.slice(name.length);
    const opMatch = named ? /^:?[-=?+]/.exec(rest) : null;
    const raw = this.src.slice(start, i);
    if (opMatch) {
      const op = opMatch[0];
      parts.push({
        type: 'var',
        name,
        quoted: inDouble,
        plain: true,
        raw,
        op,
        operand: rest.slice(op.length),
      });
    } else {
      parts.push({ type: 'var', name, quoted: inDouble, plain: named && rest === '', raw });
    }
    // `${X:-$(cmd)}` runs cmd: lex the operand so its substitutions are seen.
    const operand = rest;
    if (/[$`]/.test(operand)) {
      const sub = new Lexer(operand);
      const subParts: WordPart[] = [];
      sub.quotedRun(subParts, depth + 1, null);
      this.problems.push(...sub.problems);
      for (const p of subParts) if (p.type === 'cmdsub' || p.type === 'procsub') parts.push(p);
    }
  }

  private backtick(parts: WordPart[], depth: number, inDouble: boolean): void {
    const start = this.pos;
    let i = this.pos + 1;
    let inner = '';
    let closed = false;
    while (i < this.src.length) {
      const c = this.at(i);
      if (c === '\\') {
        const next = this.at(i + 1);
        if (next === '$' || next === '`' || next === '\\' || (inDouble && next === '"')) inner += next;
        else inner += c + next;
        i += 2;
      } else if (c === '`') {
        closed = true;
        i++;
        break;
      } else {
        inner += c;
        i++;
      }
    }
    if (!closed) this.problems.push('unterminated backtick');
    this.pos = i;
    const sub = new Lexer(inner);
    const body = sub.list(depth + 1, false);
    this.problems.push(...sub.problems);
    parts.push({ type: 'cmdsub', body, quoted: inDouble, raw: this.src.slice(start, i) });
  }

  /** The body of `$'…'`, with its C escapes decoded. `pos` is just past the opening quote. */
  private ansiC(): string {
    let out = '';
    while (this.pos < this.src.length) {
      const c = this.at(this.pos);
      if (c === "'") {
        this.pos++;
        return out;
      }
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = this.at(this.pos + 1);
      this.pos += 2;
      const simple: Record<string, string> = {
        a: '\x07',
        b: '\b',
        e: '\x1b',
        E: '\x1b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
        v: '\v',
        '\\': '\\',
        "'": "'",
        '"': '"',
        '?': '?',
      };
      const mapped = simple[e];
      if (mapped !== undefined) {
        out += mapped;
      } else if (/[0-7]/.test(e)) {
        const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos)) as RegExpExecArray;
        out += String.fromCharCode(parseInt(e + m[0], 8) & 0xff);
        this.pos += m[0].length;
      } else if (e === 'x' || e === 'u' || e === 'U') {
        const max = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const m = new RegExp(`^[0-9A-Fa-f]{1,${max}}`).exec(this.src.slice(this.pos));
        if (m) {
          const code = parseInt(m[0], 16);
          out += code <= 0x10ffff ? String.fromCodePoint(code) : '';
          this.pos += m[0].length;
        } else out += '\\' + e;
      } else if (e === 'c') {
        const ctl = this.at(this.pos);
        out += String.fromCharCode(ctl.toUpperCase().charCodeAt(0) ^ 0x40);
        this.pos++;
      } else {
        out += '\\' + e;
      }
    }
    this.problems.push("unterminated $'");
    return out;
  }
}

function pushLit(parts: WordPart[], text: string, quoted: boolean): void {
  const last = parts[parts.length - 1];
  if (last && last.type === 'lit' && last.quoted === quoted) last.text += text;
  else parts.push({ type: 'lit', text, quoted });
}

function atCommandStart(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return !last || last.kind === 'op' || last.kind === 'open' || last.kind === 'close';
}

/** Where `$(( … ))` ends, or -1 when the text is really `$( ( … ) … )`. `from` is past `$((`. */
function arithmeticEnd(src: string, from: number): number {
  let depth = 0;
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return src[i + 1] === ')' ? i + 2 : -1;
      depth--;
    } else if (c === '\n' || c === ';') return -1;
  }
  return -1;
}
