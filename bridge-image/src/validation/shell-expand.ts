/**
 * Expands words the way bash would as far as it can be known without running anything:
 * tilde, variables whose value was set earlier in the same line, brace expansion, and
 * the word splitting of an unquoted variable. Anything else stays marked as unknown.
 */
import type { Arg, Command } from './command-model.js';
import path from 'node:path';
import type { Token, Word, WordPart } from './shell-lexer.js';

export interface Scope {
  /** Variables known in this shell: a string is a known value, null a value we cannot know. */
  vars: Map<string, string | null>;
  cwd: string | null;
  home: string;
}

export interface SubstitutionResult {
  commands: Command[];
  /** The output when it can be known (`$(pwd)`, `$(echo /)`), else null. */
  value: string | null;
}

export type RunSubstitution = (body: Token[], label: string) => SubstitutionResult;

const MAX_BRACE_WORDS = 64;

export const copyScope = (s: Scope): Scope => ({ vars: new Map(s.vars), cwd: s.cwd, home: s.home });

export function lookupVar(scope: Scope, name: string): string | null {
  if (name === 'PWD') return scope.cwd;
  if (name === 'HOME' && !scope.vars.has('HOME')) return scope.home;
  return scope.vars.get(name) ?? null;
}

/** `split` is off for assignment values and redirection targets, which bash does not split. */
export function expandWord(word: Word, scope: Scope, run: RunSubstitution, split = true): Arg[] {
  const only = word.parts.length === 1 ? word.parts[0] : undefined;
  if (split && only?.type === 'var' && !only.quoted && only.plain && only.op === undefined) {
    const value = lookupVar(scope, only.name);
    // An unquoted variable is split into fields; an empty one disappears altogether.
    if (value !== null)
      return value
        .split(/[ \t\n]+/)
        .filter(Boolean)
        .map((f) => plainArg(f));
  }
  let text = '';
  let worst = '';
  let exact = true;
  let quoted = false;
  let glob = false;
  let procSub = false;
  let bare = true;
  const subs: Command[] = [];
  const unknown = (raw: string) => {
    exact = false;
    text += raw;
  };
  for (const p of word.parts) {
    switch (p.type) {
      case 'lit':
        text += p.text;
        worst += p.text;
        if (p.quoted) {
          quoted = true;
          bare = false;
        } else if (/[*?[]/.test(p.text)) glob = true;
        break;
      case 'tilde': {
        const home =
          p.user === undefined
            ? scope.home
            : p.user === 'root'
              ? '/root'
              : path.posix.join(path.posix.dirname(scope.home), p.user);
        text += home;
        worst += home;
        bare = false;
        break;
      }
      case 'var': {
        bare = false;
        quoted ||= p.quoted;
        const v = varValue(p, scope);
        if (v.value === null) {
          unknown(p.raw);
          worst += v.worst;
        } else {
          text += v.value;
          worst += v.value;
        }
        break;
      }
      case 'cmdsub': {
        bare = false;
        quoted ||= p.quoted;
        const r = run(p.body, '$(…)');
        subs.push(...r.commands);
        if (r.value === null) unknown(p.raw);
        else {
          text += r.value;
          worst += r.value;
        }
        break;
      }
      case 'procsub': {
        bare = false;
        const r = run(p.body, p.dir === '<' ? '<(…)' : '>(…)');
        subs.push(...r.commands);
        procSub = true;
        unknown(p.raw);
        break;
      }
      case 'arith':
        bare = false;
        unknown(p.raw);
        break;
    }
  }
  const arg: Arg = { text, exact, worst, quoted, glob, subs, procSub };
  if (bare && text.includes('{')) {
    const expanded = braceExpand(text);
    if (expanded.length > 1) return expanded.map((t) => ({ ...arg, text: t, worst: t }));
  }
  return [arg];
}

/**
 * Stands for a value that is unknown but certainly not empty (`${X:?}` aborts when X is
 * empty), so "what if it were empty" never turns `${X:?}/` into `/`.
 */
export const NON_EMPTY = '\u0001';

type VarPart = Extract<WordPart, { type: 'var' }>;

/** A variable's value, or null with the worst-case text it could leave behind. */
function varValue(p: VarPart, scope: Scope): { value: string | null; worst: string } {
  if (!p.plain) return { value: null, worst: '' };
  const value = lookupVar(scope, p.name);
  const literal = p.operand !== undefined && !/[$`\\'"]/.test(p.operand) ? p.operand : null;
  switch (p.op) {
    case undefined:
      return { value, worst: '' };
    case ':-':
    case ':=':
      if (value !== null) return { value: value === '' ? literal : value, worst: '' };
      return { value: null, worst: literal ?? '' };
    case '-':
    case '=':
      return value !== null ? { value, worst: '' } : { value: null, worst: literal ?? '' };
    case ':?':
    case '?':
      return value !== null && value !== '' ? { value, worst: '' } : { value: null, worst: NON_EMPTY };
    case ':+':
    case '+':
      // Unknown: the alternative is what could come out, and it is the part worth judging.
      if (value === null) return { value: null, worst: literal ?? '' };
      return { value: value !== '' || p.op === '+' ? literal : '', worst: '' };
    default:
      return { value: null, worst: '' };
  }
}

const plainArg = (text: string): Arg => ({
  text,
  exact: true,
  worst: text,
  quoted: false,
  glob: /[*?[]/.test(text),
  subs: [],
  procSub: false,
});

/** Bash brace expansion (`a{b,c}d`, `{1..3}`), capped so a hostile word cannot explode. */
export function braceExpand(word: string): string[] {
  const out: string[] = [];
  const expand = (s: string): void => {
    if (out.length >= MAX_BRACE_WORDS) return;
    const found = firstBrace(s);
    if (!found) {
      out.push(s);
      return;
    }
    const [open, close, alternatives] = found;
    for (const alt of alternatives) expand(s.slice(0, open) + alt + s.slice(close + 1));
  };
  expand(word);
  return out;
}

function firstBrace(s: string): [number, number, string[]] | null {
  for (let open = s.indexOf('{'); open !== -1; open = s.indexOf('{', open + 1)) {
    let depth = 0;
    const commas: number[] = [];
    for (let i = open; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') i++;
      else if (c === '{') depth++;
      else if (c === ',' && depth === 1) commas.push(i);
      else if (c === '}' && --depth === 0) {
        const inner = s.slice(open + 1, i);
        if (commas.length) {
          const alts: string[] = [];
          let from = open + 1;
          for (const c2 of [...commas, i]) {
            alts.push(s.slice(from, c2));
            from = c2 + 1;
          }
          return [open, i, alts];
        }
        const seq = sequence(inner);
        if (seq) return [open, i, seq];
        break;
      }
    }
  }
  return null;
}

function sequence(inner: string): string[] | null {
  const m = /^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])$/.exec(inner);
  if (!m) return null;
  const [a, b] = [m[1] as string, m[2] as string];
  const numeric = /\d/.test(a) && /\d/.test(b);
  const from = numeric ? Number(a) : a.charCodeAt(0);
  const to = numeric ? Number(b) : b.charCodeAt(0);
  if (!numeric && (/\d/.test(a) || /\d/.test(b))) return null;
  const step = from <= to ? 1 : -1;
  const out: string[] = [];
  for (let v = from; out.length < MAX_BRACE_WORDS; v += step) {
    out.push(numeric ? String(v) : String.fromCharCode(v));
    if (v === to) break;
  }
  return out;
}
