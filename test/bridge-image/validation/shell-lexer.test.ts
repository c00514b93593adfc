import { describe, expect, it } from 'vitest';
import { lex, type Token, type Word } from '../../../bridge-image/src/validation/shell-lexer.js';

const lit = (w: Word): string => w.parts.map((p) => (p.type === 'lit' ? p.text : `<${p.type}>`)).join('');
const words = (src: string): string[] =>
  lex(src).tokens.flatMap((t) => (t.kind === 'word' ? [lit(t.word)] : []));
const kinds = (src: string): string[] =>
  lex(src).tokens.map((t: Token) =>
    t.kind === 'word'
      ? lit(t.word)
      : t.kind === 'op'
        ? `op:${t.op === '\n' ? 'NL' : t.op}`
        : t.kind === 'redir'
          ? `redir:${t.fd ?? ''}${t.op}`
          : t.kind,
  );

describe('shell lexer', () => {
  it('removes quotes and keeps what they protect together', () => {
    expect(words(`echo 'a b' "c d" e\\ f`)).toEqual(['echo', 'a b', 'c d', 'e f']);
    expect(words(`r'm' -"r"f`)).toEqual(['rm', '-rf']);
    expect(words(`echo "a \\"q\\" \\$x \\\\ \\n"`)).toEqual(['echo', 'a "q" $x \\ \\n']);
  });

  it("decodes $'…' escapes", () => {
    expect(words(`echo $'a\\tb\\x41\\101\\u00e9\\'q'`)).toEqual(['echo', "a\tbAAé'q"]);
  });

  it('splits on control operators but not inside quotes', () => {
    expect(kinds('a && b || c; d | e |& f & g')).toEqual([
      'a',
      'op:&&',
      'b',
      'op:||',
      'c',
      'op:;',
      'd',
      'op:|',
      'e',
      'op:|&',
      'f',
      'op:&',
      'g',
    ]);
    expect(words('echo "a;b|c&&d"')).toEqual(['echo', 'a;b|c&&d']);
    expect(kinds('a\nb')).toEqual(['a', 'op:NL', 'b']);
  });

  it('reads redirections with file descriptors', () => {
    expect(kinds('cmd >out 2>&1 <in >>log &>all 3<>rw')).toEqual([
      'cmd',
      'redir:>',
      'redir:2>&',
      'redir:<',
      'redir:>>',
      'redir:&>',
      'redir:3<>',
    ]);
    const t = lex('echo hi > "my file"').tokens[2];
    expect(t?.kind === 'redir' && t.target && lit(t.target)).toBe('my file');
  });

  it('lexes command substitutions recursively', () => {
    const [, arg] = lex('echo "$(rm -rf /)"').tokens;
    expect(arg?.kind).toBe('word');
    const part = arg?.kind === 'word' ? arg.word.parts.find((p) => p.type === 'cmdsub') : undefined;
    expect(
      part?.type === 'cmdsub' && part.body.flatMap((t) => (t.kind === 'word' ? [lit(t.word)] : [])),
    ).toEqual(['rm', '-rf', '/']);
  });

  it('unescapes backticks before lexing their inside', () => {
    const [, arg] = lex('echo `echo \\`id\\``').tokens;
    const part = arg?.kind === 'word' ? arg.word.parts[0] : undefined;
    expect(part?.type).toBe('cmdsub');
    const inner = part?.type === 'cmdsub' ? part.body : [];
    expect(inner[1]?.kind === 'word' && inner[1].word.parts[0]?.type).toBe('cmdsub');
  });

  it('tells $(( )) arithmetic from $( ( ) ) subshells', () => {
    const arith = lex('echo $((1 + 2))').tokens[1];
    expect(arith?.kind === 'word' && arith.word.parts[0]?.type).toBe('arith');
    const sub = lex('echo $( (cd x; ls) )').tokens[1];
    expect(sub?.kind === 'word' && sub.word.parts[0]?.type).toBe('cmdsub');
  });

  it('reads heredoc bodies as data at the next newline', () => {
    const { tokens } = lex("cat <<'EOF' > f\nrm -rf /\nEOF\necho done");
    const redir = tokens.find((t) => t.kind === 'redir' && t.op === '<<');
    expect(redir?.kind === 'redir' && redir.heredoc && lit(redir.heredoc.body)).toBe('rm -rf /\n');
    expect(tokens.flatMap((t) => (t.kind === 'word' ? [lit(t.word)] : []))).toEqual(['cat', 'echo', 'done']);
  });

  it('expands substitutions in unquoted heredocs and strips tabs for <<-', () => {
    const { tokens } = lex('cat <<-END\n\t$(id)\n\tEND\n');
    const redir = tokens.find((t) => t.kind === 'redir');
    const body = redir?.kind === 'redir' ? redir.heredoc?.body : undefined;
    expect(body?.parts.some((p) => p.type === 'cmdsub')).toBe(true);
  });

  it('keeps a heredoc inside $( ) from ending the substitution early', () => {
    const src = `git commit -m "$(cat <<'EOF'\nfix: a ) in the text\nEOF\n)"`;
    const r = lex(src);
    expect(r.problems).toEqual([]);
    expect(r.tokens).toHaveLength(4);
  });

  it('marks variables, tilde and ${…} forms', () => {
    const w = lex('x ~/a $HOME ${USER} ${X:-/tmp} $1 ${#X} ~bob').tokens.slice(1);
    const part = (i: number) => (w[i]?.kind === 'word' ? w[i].word.parts[0] : undefined);
    expect(part(0)).toEqual({ type: 'tilde' });
    expect(part(1)).toMatchObject({ type: 'var', name: 'HOME', plain: true });
    expect(part(2)).toMatchObject({ type: 'var', name: 'USER', plain: true });
    expect(part(3)).toMatchObject({ type: 'var', name: 'X', op: ':-', operand: '/tmp' });
    expect(part(4)).toMatchObject({ type: 'var', name: '1', plain: true });
    expect(part(5)).toMatchObject({ type: 'var', plain: false });
    expect(part(6)).toEqual({ type: 'tilde', user: 'bob' });
  });

  it('skips comments and joins continued lines', () => {
    expect(words('echo a # rm -rf /')).toEqual(['echo', 'a']);
    expect(words('echo a\\\nb')).toEqual(['echo', 'ab']);
    expect(words('echo a#b')).toEqual(['echo', 'a#b']);
  });

  it('reports what it cannot follow', () => {
    expect(lex('echo "open').problems).toEqual(['unterminated double quote']);
    expect(lex("echo 'open").problems).toEqual(['unterminated single quote']);
    expect(lex('echo $(ls').problems).toEqual(['unterminated `$(`']);
    expect(lex('echo `ls').problems).toEqual(['unterminated backtick']);
    expect(lex('echo ' + '$('.repeat(40) + ')'.repeat(40)).problems[0]).toMatch(/nested/);
  });

  it('ends a $( ) at the paren that closes it, even after a case pattern', () => {
    const r = lex('echo $(case x in a) echo a;; esac) done');
    expect(r.problems).toEqual([]);
    expect(r.tokens.flatMap((t) => (t.kind === 'word' ? [lit(t.word)] : []))).toEqual([
      'echo',
      '<cmdsub>',
      'done',
    ]);
  });
});
