import { describe, expect, it } from 'vitest';
import type { Command } from '../../../bridge-image/src/validation/command-model.js';
import { analyzeShell } from '../../../bridge-image/src/validation/shell-analysis.js';

const opts = { cwd: '/ws', home: '/home/u' };
const run = (src: string, cwd: string | null = '/ws') => analyzeShell(src, { ...opts, cwd });
const argvs = (src: string): string[][] => run(src).commands.map((c) => c.argv);
const find = (src: string, name: string): Command | undefined =>
  run(src).commands.find((c) => c.argv[0] === name);

describe('shell analysis', () => {
  it('lists every simple command with the operator after it', () => {
    const a = run('a && b || c; d | e & f');
    expect(a.commands.map((c) => [c.argv[0], c.opAfter])).toEqual([
      ['a', '&&'],
      ['b', '||'],
      ['c', ';'],
      ['d', '|'],
      ['e', '&'],
      ['f', null],
    ]);
  });

  it('records what reaches a command through pipes', () => {
    const a = run('curl x | tee f | sh');
    const sh = a.commands[2] as Command;
    expect(sh.stdinFrom.map((c) => c.argv[0])).toEqual(['curl', 'tee']);
  });

  it('takes wrappers off and remembers them', () => {
    const c = run('sudo -u root env -u B A=1 nice -n 5 nohup timeout 10 xargs -0 rm -f')
      .commands[0] as Command;
    expect(c.argv).toEqual(['rm', '-f']);
    expect(c.wrappers).toEqual(['sudo', 'env', 'nice', 'nohup', 'timeout', 'xargs']);
    expect([...c.env]).toEqual([
      ['B', null],
      ['A', '1'],
    ]);
    expect(c.xargs).toBe(true);
    expect(c.fullText).toBe('sudo -u root env -u B A=1 nice -n 5 nohup timeout 10 xargs -0 rm -f');
  });

  it('does not unwrap `command -v`', () => {
    expect(argvs('command -v rm')).toEqual([['command', '-v', 'rm']]);
  });

  it('parses programs given to shells, eval, su, watch and find -exec', () => {
    expect(argvs(`bash -lc 'a; b'`).slice(1)).toEqual([['a'], ['b']]);
    expect(argvs(`eval "x y"`).slice(1)).toEqual([['x', 'y']]);
    expect(argvs(`su - root -c 'id'`).slice(1)).toEqual([['id']]);
    expect(argvs(`watch -n 1 ls -l`).slice(1)).toEqual([['ls', '-l']]);
    expect(argvs(`find . -exec rm {} \\; -execdir echo {} +`).slice(1)).toEqual([
      ['rm', '{}'],
      ['echo', '{}'],
    ]);
    const nested = run(`sh -c "bash -c 'rm x'"`).commands[2];
    expect(nested?.origin).toEqual(['sh -c', 'bash -c']);
  });

  it('passes positional parameters to sh -c scripts', () => {
    expect(argvs(`sh -c 'rm -rf "$1" "$0"' zero one`)[1]).toEqual(['rm', '-rf', 'one', 'zero']);
  });

  it('reads programs fed to a shell by echo, heredoc and here-string', () => {
    expect(argvs(`echo 'rm x' | sh`)[2]).toEqual(['rm', 'x']);
    expect(argvs(`bash <<EOF\nrm y\nEOF`)[1]).toEqual(['rm', 'y']);
    expect(argvs(`sh <<< 'rm z'`)[1]).toEqual(['rm', 'z']);
    expect(argvs(`cat <<EOF\nrm y\nEOF`)).toEqual([['cat']]);
  });

  it('follows variables set earlier in the line', () => {
    expect(find('D=/x; rm -r $D', 'rm')?.argv).toEqual(['rm', '-r', '/x']);
    expect(find('export D=/y && rm -r "$D"/z', 'rm')?.argv).toEqual(['rm', '-r', '/y/z']);
    expect(find('D=/x; unset D; rm $D', 'rm')?.argv).toEqual(['rm']);
    expect(find('A="-r /"; rm $A', 'rm')?.argv).toEqual(['rm', '-r', '/']);
    const unknown = find('read D; rm "$D"', 'rm');
    expect(unknown?.args[1]).toMatchObject({ text: '$D', exact: false, worst: '' });
  });

  it('does not let a prefix assignment change the expansion of its own command', () => {
    expect(find('D=/ rm -r $D', 'rm')?.args[2]?.exact).toBe(false);
  });

  it('tracks the directory through cd, pushd and subshells', () => {
    const a = run('cd src && ls; (cd /tmp; pwd); ls; cd; ls; cd "$X"; ls');
    expect(a.commands.filter((c) => c.argv[0] !== 'cd').map((c) => c.cwd)).toEqual([
      '/ws/src',
      '/tmp',
      '/ws/src',
      '/home/u',
      null,
    ]);
    expect(find('env -C /opt make', 'make')?.cwd).toBe('/opt');
  });

  it('knows the output of $(pwd) and $(echo …), and nothing else', () => {
    expect(find('rm -r "$(pwd)/a"', 'rm')?.argv).toEqual(['rm', '-r', '/ws/a']);
    expect(find('rm -r $(echo /b)', 'rm')?.argv).toEqual(['rm', '-r', '/b']);
    expect(find('rm -r $(date)', 'rm')?.args[2]?.exact).toBe(false);
  });

  it('expands tilde, $HOME and braces', () => {
    expect(find('rm ~ ~/a "$HOME" ${HOME}/b ~root x{1,2} {a..c}', 'rm')?.argv).toEqual([
      'rm',
      '/home/u',
      '/home/u/a',
      '/home/u',
      '/home/u/b',
      '/root',
      'x1',
      'x2',
      'a',
      'b',
      'c',
    ]);
    expect(find('rm \'~\' "{a,b}"', 'rm')?.argv).toEqual(['rm', '~', '{a,b}']);
  });

  it('applies the redirections of a group to every command in it', () => {
    const a = run('{ a; b; } > out');
    expect(a.commands.map((c) => c.redirects.map((r) => r.target?.text))).toEqual([['out'], ['out']]);
  });

  it('records functions and the commands of their bodies', () => {
    const a = run('f() { g | f & }; f');
    expect(a.functions.map((f) => [f.name, f.commands.map((c) => c.argv[0])])).toEqual([['f', ['g', 'f']]]);
    expect(a.commands.at(-1)?.origin).toEqual([]);
  });

  it('finds shell commands inside one-line programs of other languages', () => {
    expect(argvs(`python3 -c "import os; os.system('rm -rf /x')"`)[1]).toEqual(['rm', '-rf', '/x']);
    expect(argvs(`node -e "require('fs').rmSync('/y', {recursive: true})"`)[1]).toEqual(['rm', '-rf', '/y']);
  });

  it('stops at a bounded amount of work and says so', () => {
    const a = analyzeShell(Array.from({ length: 50 }, () => 'true').join(';'), { ...opts, maxCommands: 10 });
    expect(a.commands).toHaveLength(10);
    expect(a.problems).toEqual(['more than 10 commands']);
    expect(run('eval "'.repeat(40) + 'x' + '"'.repeat(40)).problems.length).toBeGreaterThan(0);
  });
});
