/** What the analysis of a command line produces: simple commands, ready for the rules. */
import type { Operator, RedirOp } from './shell-lexer.js';

/** One argument after expansion. */
export interface Arg {
  /** The value, with parts that cannot be known rendered as written (`$X`, `$(…)`). */
  text: string;
  /** False when a variable, substitution or arithmetic of unknown value is part of it. */
  exact: boolean;
  /** The value if every unknown part were empty: what an unset variable would leave. */
  worst: string;
  quoted: boolean;
  /** Has an unquoted `*`, `?` or `[`, so the shell would expand it to file names. */
  glob: boolean;
  /** Commands run by command and process substitutions inside this word. */
  subs: Command[];
  /** The word is `<(…)` or `>(…)`: a /dev/fd path fed by the commands in `subs`. */
  procSub: boolean;
}

export interface Redirection {
  op: RedirOp;
  fd: number | null;
  target: Arg | null;
  /** The text fed to stdin by a heredoc or a here-string. */
  body: Arg | null;
}

export interface Command {
  /** Position in `Analysis.commands`. */
  index: number;
  /** The effective command, after wrappers such as `sudo`, `env` or `xargs` are taken off. */
  args: Arg[];
  argv: string[];
  /** `argv` joined: what policy `command` regexes see. */
  text: string;
  /** The command as written, wrappers included. */
  fullText: string;
  /** Wrappers taken off, outermost first (`sudo`, `env`, `nice`, …). */
  wrappers: string[];
  /** Variables set for the command (prefix assignments, `env X=…`) or, for a bare assignment, for
   * the shell; null means unset (`env -u X`). */
  env: Map<string, string | null>;
  redirects: Redirection[];
  /** The directory the command runs in, when known. */
  cwd: string | null;
  /** Commands whose output reaches this command's stdin through pipes. */
  stdinFrom: Command[];
  /** How the command is nested: `$(…)`, `bash -c`, `eval`, `function f`, `find -exec`, … */
  origin: string[];
  /** The operator that connects it to the next command at the same level. */
  opAfter: Operator | null;
  /** Run by `xargs`: more arguments come from stdin. */
  xargs: boolean;
  /** Files a wrapper reads on the command's behalf (`xargs -a FILE`). */
  wrapperReads: Arg[];
}

export interface FunctionDef {
  name: string;
  commands: Command[];
}

export interface Analysis {
  commands: Command[];
  functions: FunctionDef[];
  /** Reasons the line could not be followed completely. */
  problems: string[];
}

export const litArg = (text: string): Arg => ({
  text,
  exact: true,
  worst: text,
  quoted: false,
  glob: false,
  subs: [],
  procSub: false,
});

export const basename = (p: string): string => {
  const i = p.lastIndexOf('/');
  return i === -1 ? p : p.slice(i + 1);
};

/** The program name of a command, as rules compare it (`/usr/bin/rm` → `rm`). */
export const commandName = (args: Arg[]): string => {
  const first = args[0];
  return first && first.exact ? basename(first.text) : '';
};
