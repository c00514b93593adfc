/**
 * Builds lists, pipelines, simple commands, subshells, groups and function
 * definitions from lexer tokens. Compound keywords (`if`, `while`, `for`, `case`, …)
 * are parsed leniently: their bodies become ordinary commands, because for
 * validation it only matters what could run, not under which condition.
 */
import type { HereDoc, Operator, RedirOp, Token, Word } from './shell-lexer.js';

export interface Redirect {
  op: RedirOp;
  fd: number | null;
  target: Word | null;
  heredoc: HereDoc | null;
}

export interface Assignment {
  name: string;
  append: boolean;
  /** null for an array assignment `a=(…)`, whose elements are in `array`. */
  value: Word | null;
  array: Word[];
}

export type CommandNode =
  | { type: 'simple'; assigns: Assignment[]; words: Word[]; redirects: Redirect[] }
  | { type: 'subshell'; body: List; redirects: Redirect[] }
  | { type: 'group'; body: List; redirects: Redirect[] }
  | { type: 'function'; name: string; body: CommandNode }
  /** `for`/`select`/`case` subjects and `[[ … ]]`: words that are expanded but not run. */
  | { type: 'keyword'; keyword: string; words: Word[]; binds: string[] };

export interface Pipeline {
  commands: CommandNode[];
  /** The operator after each command but the last: `|` or `|&`. */
  pipes: Operator[];
}

export interface ListItem {
  pipeline: Pipeline;
  /** The operator that follows the pipeline, if any. */
  op: Operator | null;
}

export interface List {
  items: ListItem[];
}

const LIST_OPS = new Set<Operator>(['&&', '||', ';', '&', '\n', ';;', ';&', ';;&']);
const CASE_END = new Set<Operator>([';;', ';&', ';;&']);
/** Keywords that only separate or close bodies; skipping them leaves the commands in between. */
const TRANSPARENT = new Set([
  'if',
  'then',
  'elif',
  'else',
  'fi',
  'while',
  'until',
  'do',
  'done',
  'esac',
  '!',
  '}',
]);

type Stop = (t: Token) => boolean;

export function parse(tokens: Token[]): List {
  return new Parser(tokens).list(() => false);
}

/** The text of a word made of unquoted literal characters only (how keywords are recognised). */
export function bareText(word: Word): string | null {
  if (word.parts.length !== 1) return null;
  const p = word.parts[0];
  return p && p.type === 'lit' && !p.quoted ? p.text : null;
}

const isWord = (t: Token | undefined, text: string): boolean =>
  t?.kind === 'word' && bareText(t.word) === text;

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  list(stop: Stop): List {
    const items: ListItem[] = [];
    while (this.i < this.tokens.length) {
      const t = this.peek() as Token;
      if (stop(t)) break;
      if (t.kind === 'op' && LIST_OPS.has(t.op)) {
        this.i++;
        const last = items[items.length - 1];
        if (last && last.op === null) last.op = t.op;
        continue;
      }
      if (t.kind === 'word') {
        const kw = bareText(t.word);
        if (kw !== null && TRANSPARENT.has(kw)) {
          this.i++;
          continue;
        }
        if (kw === 'case') {
          items.push(...this.caseItems());
          continue;
        }
      }
      if (t.kind === 'close') {
        // A stray `)` (or `case` pattern end we did not anticipate) carries no command.
        this.i++;
        continue;
      }
      if (t.kind === 'op') {
        // A pipe with nothing before it: bash rejects it; skip so the rest is still seen.
        this.i++;
        continue;
      }
      const pipeline = this.pipeline(stop);
      items.push({ pipeline, op: null });
    }
    return { items };
  }

  private pipeline(stop: Stop): Pipeline {
    const commands: CommandNode[] = [this.command(stop)];
    const pipes: Operator[] = [];
    for (;;) {
      const t = this.peek();
      if (t?.kind !== 'op' || (t.op !== '|' && t.op !== '|&')) break;
      this.i++;
      while (this.peek()?.kind === 'op' && (this.peek() as { op: Operator }).op === '\n') this.i++;
      const next = this.peek();
      if (!next || (next.kind !== 'word' && next.kind !== 'open' && next.kind !== 'redir')) break;
      pipes.push(t.op);
      commands.push(this.command(stop));
    }
    return { commands, pipes };
  }

  private command(stop: Stop): CommandNode {
    const t = this.peek() as Token;
    if (t.kind === 'open') {
      this.i++;
      const body = this.list((x) => x.kind === 'close');
      if (this.peek()?.kind === 'close') this.i++;
      return { type: 'subshell', body, redirects: this.redirects() };
    }
    if (t.kind === 'word') {
      const kw = bareText(t.word);
      if (kw === '{') {
        this.i++;
        const body = this.list((x) => isWord(x, '}') || x.kind === 'close' || stop(x));
        if (isWord(this.peek(), '}')) this.i++;
        return { type: 'group', body, redirects: this.redirects() };
      }
      if (kw === 'for' || kw === 'select') return this.forHead(kw);
      if (kw === '[[') return this.conditional();
      if (kw === 'function') {
        const name = this.peek(1);
        if (name?.kind === 'word') {
          this.i += 2;
          if (this.peek()?.kind === 'open' && this.peek(1)?.kind === 'close') this.i += 2;
          return this.functionBody(name.word.raw, stop);
        }
      }
      if (kw !== null && this.peek(1)?.kind === 'open' && this.peek(2)?.kind === 'close') {
        this.i += 3;
        return this.functionBody(kw, stop);
      }
    }
    return this.simple();
  }

  private functionBody(name: string, stop: Stop): CommandNode {
    while (this.peek()?.kind === 'op' && (this.peek() as { op: Operator }).op === '\n') this.i++;
    if (!this.peek()) return { type: 'function', name, body: emptyGroup() };
    return { type: 'function', name, body: this.command(stop) };
  }

  private simple(): CommandNode {
    const assigns: Assignment[] = [];
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      const t = this.peek();
      if (!t) break;
      if (t.kind === 'redir') {
        redirects.push({ op: t.op, fd: t.fd, target: t.target, heredoc: t.heredoc });
        this.i++;
        continue;
      }
      if (t.kind !== 'word') break;
      this.i++;
      const assign = words.length === 0 ? splitAssignment(t.word) : null;
      if (!assign) {
        words.push(t.word);
        continue;
      }
      if (assign.value === null && this.peek()?.kind === 'open') {
        this.i++;
        while (this.peek() && this.peek()?.kind !== 'close') {
          const el = this.peek() as Token;
          if (el.kind === 'word') assign.array.push(el.word);
          this.i++;
        }
        if (this.peek()?.kind === 'close') this.i++;
      } else if (assign.value === null) {
        assign.value = { parts: [], raw: '' };
      }
      assigns.push(assign);
    }
    return { type: 'simple', assigns, words, redirects };
  }

  private redirects(): Redirect[] {
    const out: Redirect[] = [];
    for (let t = this.peek(); t?.kind === 'redir'; t = this.peek()) {
      out.push({ op: t.op, fd: t.fd, target: t.target, heredoc: t.heredoc });
      this.i++;
    }
    return out;
  }

  /** `for NAME [in WORDS]`; also `for ((…))`, whose contents are arithmetic. */
  private forHead(keyword: string): CommandNode {
    this.i++;
    if (this.peek()?.kind === 'open' && this.peek(1)?.kind === 'open') {
      let closes = 0;
      while (this.peek() && closes < 2) {
        closes = this.peek()?.kind === 'close' ? closes + 1 : 0;
        this.i++;
      }
      return { type: 'keyword', keyword, words: [], binds: [] };
    }
    const binds: string[] = [];
    const words: Word[] = [];
    const name = this.peek();
    if (name?.kind === 'word') {
      binds.push(name.word.raw);
      this.i++;
    }
    if (isWord(this.peek(), 'in')) {
      this.i++;
      for (let t = this.peek(); t?.kind === 'word'; t = this.peek()) {
        words.push(t.word);
        this.i++;
      }
    }
    return { type: 'keyword', keyword, words, binds };
  }

  private conditional(): CommandNode {
    this.i++;
    const words: Word[] = [];
    while (this.peek() && !isWord(this.peek(), ']]')) {
      const t = this.peek() as Token;
      if (t.kind === 'word') words.push(t.word);
      else if (t.kind === 'redir' && t.target) words.push(t.target);
      this.i++;
    }
    if (this.peek()) this.i++;
    return { type: 'keyword', keyword: '[[', words, binds: [] };
  }

  /** `case WORD in (PATTERN) LIST ;; … esac`: each branch body becomes a group. */
  private caseItems(): ListItem[] {
    this.i++;
    const subject = this.peek();
    const words: Word[] = [];
    if (subject?.kind === 'word') {
      words.push(subject.word);
      this.i++;
    }
    const items: ListItem[] = [
      {
        pipeline: { commands: [{ type: 'keyword', keyword: 'case', words, binds: [] }], pipes: [] },
        op: ';',
      },
    ];
    while (this.peek() && !isWord(this.peek(), 'in')) this.i++;
    this.i++;
    for (;;) {
      while (this.peek()?.kind === 'op') this.i++;
      const t = this.peek();
      if (!t || isWord(t, 'esac')) break;
      if (t.kind === 'open') this.i++;
      while (this.peek() && this.peek()?.kind !== 'close') this.i++;
      this.i++;
      const body = this.list(
        (x) => (x.kind === 'op' && CASE_END.has(x.op)) || isWord(x, 'esac') || x.kind === 'close',
      );
      items.push({ pipeline: { commands: [{ type: 'group', body, redirects: [] }], pipes: [] }, op: ';' });
      if (this.peek()?.kind === 'close') this.i++;
    }
    if (this.peek()) this.i++;
    return items;
  }
}

function emptyGroup(): CommandNode {
  return { type: 'group', body: { items: [] }, redirects: [] };
}

/** `NAME=value`, `NAME+=value` or `NAME=` (array follows) when the word starts like one. */
function splitAssignment(word: Word): Assignment | null {
  const first = word.parts[0];
  if (!first || first.type !== 'lit' || first.quoted) return null;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/.exec(first.text);
  if (!m) return null;
  const rest = first.text.slice(m[0].length);
  const parts = [...(rest ? [{ ...first, text: rest }] : []), ...word.parts.slice(1)];
  const raw = word.raw.slice(m[0].length);
  return {
    name: m[1] as string,
    append: m[2] === '+',
    value: parts.length ? { parts, raw } : null,
    array: [],
  };
}
