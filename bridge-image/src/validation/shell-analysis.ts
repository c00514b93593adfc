/**
 * Walks a parsed command line into the flat list of simple commands that could run,
 * following variables and `cd` through the line, taking wrappers off, and parsing
 * nested programs (`bash -c`, `eval`, substitutions, heredocs fed to a shell,
 * `echo … | sh`) recursively.
 */
import path from 'node:path';
import {
  commandName,
  litArg,
  type Analysis,
  type Arg,
  type Command,
  type Redirection,
} from './command-model.js';
import { programOf } from './interpreters.js';
import { copyScope, expandWord, lookupVar, type Scope, type SubstitutionResult } from './shell-expand.js';
import { lex, MAX_NESTING, type Operator, type Token, type Word } from './shell-lexer.js';
import { parse, type CommandNode, type List, type Redirect } from './shell-parser.js';
import { nestedOf, unwrap, type Nested } from './wrappers.js';

export interface AnalyzeOptions {
  /** Where the line runs; null when unknown. */
  cwd: string | null;
  home: string;
  /** Caps the work a hostile line can cause; going over is reported as a problem. */
  maxCommands?: number;
}

const DEFAULT_MAX_COMMANDS = 500;
const DECLARERS = new Set(['export', 'declare', 'typeset', 'local', 'readonly']);

export function analyzeShell(src: string, opts: AnalyzeOptions): Analysis {
  const walker = new Walker(opts.maxCommands ?? DEFAULT_MAX_COMMANDS);
  const scope: Scope = { vars: new Map(), cwd: opts.cwd, home: opts.home };
  walker.script(src, scope, [], [], 0);
  return { commands: walker.commands, functions: walker.functions, problems: walker.problems };
}

interface Context {
  origin: string[];
  stdinFrom: Command[];
  /** Redirections of an enclosing group or subshell, which apply to every command inside. */
  redirects: Redirection[];
  depth: number;
}

class Walker {
  readonly commands: Command[] = [];
  readonly functions: Analysis['functions'] = [];
  readonly problems: string[] = [];
  private full = false;

  constructor(private readonly maxCommands: number) {}

  script(src: string, scope: Scope, origin: string[], stdinFrom: Command[], depth: number): void {
    if (depth > MAX_NESTING) {
      this.problem(`programs nested more than ${MAX_NESTING} levels deep`);
      return;
    }
    const { tokens, problems } = lex(src);
    for (const p of problems) this.problem(p);
    this.tokens(tokens, scope, { origin, stdinFrom, redirects: [], depth });
  }

  private tokens(tokens: Token[], scope: Scope, ctx: Context): void {
    this.list(parse(tokens), scope, ctx);
  }

  private problem(p: string): void {
    if (!this.problems.includes(p)) this.problems.push(p);
  }

  private list(list: List, scope: Scope, ctx: Context): void {
    for (const item of list.items) {
      const pipeline = item.pipeline;
      const single = pipeline.commands.length === 1;
      const upstream: Command[] = [...ctx.stdinFrom];
      pipeline.commands.forEach((node, i) => {
        // Each element of a real pipeline runs in its own subshell.
        const elementScope = single ? scope : copyScope(scope);
        const before = this.commands.length;
        this.node(node, elementScope, { ...ctx, stdinFrom: [...upstream] });
        const produced = this.commands.slice(before);
        const last = produced[produced.length - 1];
        const op: Operator | null = i < pipeline.pipes.length ? (pipeline.pipes[i] ?? null) : item.op;
        if (last) last.opAfter = op;
        if (i > 0) this.feedToShell(pipeline.commands[i - 1], produced, scope, ctx);
        upstream.push(...produced);
      });
    }
  }

  private node(node: CommandNode, scope: Scope, ctx: Context): void {
    if (this.full) return;
    switch (node.type) {
      case 'simple':
        this.simple(node, scope, ctx);
        return;
      case 'subshell':
        this.list(node.body, copyScope(scope), {
          ...ctx,
          redirects: [...ctx.redirects, ...this.redirects(node.redirects, scope, ctx)],
        });
        return;
      case 'group':
        this.list(node.body, scope, {
          ...ctx,
          redirects: [...ctx.redirects, ...this.redirects(node.redirects, scope, ctx)],
        });
        return;
      case 'function': {
        const before = this.commands.length;
        this.node(node.body, copyScope(scope), { ...ctx, origin: [...ctx.origin, `function ${node.name}`] });
        this.functions.push({ name: node.name, commands: this.commands.slice(before) });
        return;
      }
      case 'keyword':
        for (const w of node.words) expandWord(w, scope, this.substitution(scope, ctx));
        for (const name of node.binds) scope.vars.set(name, null);
        return;
    }
  }

  private substitution(scope: Scope, ctx: Context) {
    return (body: Token[], label: string): SubstitutionResult => {
      const before = this.commands.length;
      this.tokens(body, copyScope(scope), {
        origin: [...ctx.origin, label],
        stdinFrom: [],
        redirects: [],
        depth: ctx.depth + 1,
      });
      const commands = this.commands.slice(before);
      return { commands, value: knownOutput(commands, scope) };
    };
  }

  private redirects(redirects: Redirect[], scope: Scope, ctx: Context): Redirection[] {
    const run = this.substitution(scope, ctx);
    const expand = (w: Word): Arg => expandWord(w, scope, run, false)[0] ?? litArg('');
    return redirects.map((r): Redirection => {
      if (r.heredoc) return { op: r.op, fd: r.fd, target: null, body: expand(r.heredoc.body) };
      const target = r.target ? expand(r.target) : null;
      return r.op === '<<<'
        ? { op: r.op, fd: r.fd, target: null, body: target }
        : { op: r.op, fd: r.fd, target, body: null };
    });
  }

  private simple(node: Extract<CommandNode, { type: 'simple' }>, scope: Scope, ctx: Context): void {
    const run = this.substitution(scope, ctx);
    const assigned = node.assigns.map((a): [string, string | null] => {
      if (!a.value) {
        for (const w of a.array) expandWord(w, scope, run);
        return [a.name, null];
      }
      const v = expandWord(a.value, scope, run, false)[0];
      const value = v && v.exact ? v.text : v ? null : '';
      return [a.name, a.append && value !== null ? (lookupVar(scope, a.name) ?? '') + value : value];
    });
    const args = node.words.flatMap((w) => expandWord(w, scope, run));
    const redirects = [...ctx.redirects, ...this.redirects(node.redirects, scope, ctx)];
    if (!args.length) {
      // A bare `X=1` sets shell variables for the rest of the line.
      for (const [k, v] of assigned) scope.vars.set(k, v);
    }
    const cmd = this.emit(args, new Map(assigned), redirects, scope, ctx);
    if (cmd) this.effects(cmd, scope);
  }

  /** Records a command (after taking wrappers off) and walks the programs nested in it. */
  private emit(
    outer: Arg[],
    env: Map<string, string | null>,
    redirects: Redirection[],
    scope: Scope,
    ctx: Context,
  ): Command | null {
    if (this.commands.length >= this.maxCommands) {
      this.full = true;
      this.problem(`more than ${this.maxCommands} commands`);
      return null;
    }
    const u = unwrap(outer);
    for (const [k, v] of u.env) env.set(k, v);
    if (u.xargs) u.args = [...u.args, ...echoedWords(ctx.stdinFrom)];
    let cwd = scope.cwd;
    if (u.chdir) cwd = u.chdir.exact && cwd !== null ? path.posix.resolve(cwd, u.chdir.text) : null;
    const argv = u.args.map((a) => a.text);
    const cmd: Command = {
      index: this.commands.length,
      args: u.args,
      argv,
      text: argv.join(' '),
      fullText: outer.map((a) => a.text).join(' '),
      wrappers: u.wrappers,
      env,
      redirects,
      cwd,
      stdinFrom: ctx.stdinFrom,
      origin: ctx.origin,
      opAfter: null,
      xargs: u.xargs,
      wrapperReads: u.reads,
    };
    this.commands.push(cmd);
    const inner: Scope = { ...copyScope(scope), cwd };
    for (const n of nestedOf(u.args)) this.nested(n, inner, ctx, cmd);
    this.stdinProgram(cmd, inner, ctx);
    return cmd;
  }

  private nested(n: Nested, scope: Scope, ctx: Context, parent: Command): void {
    const origin = [...ctx.origin, n.label];
    if (n.kind === 'argv') {
      this.emit(n.args, new Map(), [], scope, { ...ctx, origin, stdinFrom: [], redirects: [] });
      return;
    }
    const inner = copyScope(scope);
    n.positional?.forEach((a, i) => inner.vars.set(String(i), a.exact ? a.text : null));
    this.script(n.arg.text, inner, origin, parent.stdinFrom, ctx.depth + 1);
  }

  /** A heredoc or here-string fed to a shell reading its program from stdin is a program. */
  private stdinProgram(cmd: Command, scope: Scope, ctx: Context): void {
    const program = programOf(cmd.args);
    if (program?.language !== 'shell' || program.kind !== 'stdin') return;
    for (const r of cmd.redirects) {
      if (r.body && (r.fd === null || r.fd === 0)) {
        this.script(
          r.body.text,
          copyScope(scope),
          [...ctx.origin, `${commandName(cmd.args)} <<`],
          [],
          ctx.depth + 1,
        );
      }
    }
  }

  /** `echo 'rm -rf /' | sh`: what a shell reads from a plain echo is a program we can see. */
  private feedToShell(prev: CommandNode | undefined, produced: Command[], scope: Scope, ctx: Context): void {
    const shell = produced[0];
    if (!prev || prev.type !== 'simple' || !shell) return;
    const program = programOf(shell.args);
    if (program?.language !== 'shell' || program.kind !== 'stdin') return;
    const source = [...shell.stdinFrom].reverse().find((c) => c.opAfter === '|' || c.opAfter === '|&');
    if (!source) return;
    const name = commandName(source.args);
    if (name !== 'echo' && name !== 'printf') return;
    const words = source.args.slice(1).filter((a, i) => !(i === 0 && /^-[neE]+$/.test(a.text)));
    this.script(
      words.map((a) => a.text).join(name === 'echo' ? ' ' : '\n'),
      copyScope(scope),
      [...ctx.origin, `${name} | ${commandName(shell.args)}`],
      [],
      ctx.depth + 1,
    );
  }

  /** What a command changes for the commands after it: directory and variables. */
  private effects(cmd: Command, scope: Scope): void {
    const name = commandName(cmd.args);
    const operands = cmd.args.slice(1);
    if ((name === 'cd' || name === 'pushd') && cmd.wrappers.length === 0) {
      const target = operands.find((a) => !/^-[LPe@]+$/.test(a.text));
      if (!target) scope.cwd = name === 'cd' ? lookupVar(scope, 'HOME') : scope.cwd;
      else if (target.exact && target.text !== '-' && scope.cwd !== null) {
        scope.cwd = path.posix.resolve(scope.cwd, target.text);
      } else if (target.exact && target.text !== '-' && target.text.startsWith('/')) {
        scope.cwd = path.posix.resolve(target.text);
      } else scope.cwd = null;
    } else if (name === 'popd') {
      scope.cwd = null;
    } else if (DECLARERS.has(name)) {
      for (const a of operands) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/s.exec(a.text);
        if (m && m[2] !== undefined) scope.vars.set(m[1] as string, a.exact ? m[2] : null);
      }
    } else if (name === 'unset') {
      for (const a of operands) if (!a.text.startsWith('-')) scope.vars.set(a.text, '');
    } else if (name === 'read' || name === 'mapfile' || name === 'readarray') {
      const last = operands[operands.length - 1];
      if (last && !last.text.startsWith('-')) scope.vars.set(last.text, null);
    }
  }
}

/** `echo / | xargs rm -rf`: the words a plain echo or printf feeds through the pipe. */
function echoedWords(stdinFrom: Command[]): Arg[] {
  const source = [...stdinFrom].reverse().find((c) => c.opAfter === '|' || c.opAfter === '|&');
  const name = source ? commandName(source.args) : '';
  if (!source || (name !== 'echo' && name !== 'printf')) return [];
  return source.args
    .slice(1)
    .filter((a, i) => !(i === 0 && /^-[neE]+$/.test(a.text)))
    .flatMap((a) =>
      a.exact
        ? a.text
            .split(/\s+/)
            .filter(Boolean)
            .map((t) => litArg(t))
        : [a],
    );
}

/** The output of a substitution when it is plain: `$(pwd)`, `$(echo /)`. */
function knownOutput(commands: Command[], scope: Scope): string | null {
  if (commands.length !== 1) return null;
  const only = commands[0] as Command;
  if (only.redirects.length || only.wrappers.length) return null;
  const name = commandName(only.args);
  if (name === 'pwd' && only.args.length === 1) return scope.cwd;
  if (name === 'echo' && only.args.every((a) => a.exact)) {
    return only.args
      .slice(1)
      .filter((a) => !/^-[neE]+$/.test(a.text))
      .map((a) => a.text)
      .join(' ');
  }
  return null;
}
