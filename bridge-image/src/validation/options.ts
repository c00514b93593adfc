/** Getopt-style walking of a command's arguments, shared by wrappers, file operations and rules. */
import type { Arg } from './command-model.js';

export interface OptionSpec {
  /** Options that take a value: short as `-u`, long as `--user`. */
  withValue: readonly string[];
  /** Stop at the first operand (POSIX order, and every wrapper: what follows is the command). */
  stopAtOperand?: boolean;
}

export interface ParsedOptions {
  /** Every option seen, short ones one letter at a time (`-rf` → `-r`, `-f`). */
  flags: Set<string>;
  values: Map<string, Arg[]>;
  operands: Arg[];
  /** Index of the first operand when `stopAtOperand`. */
  rest: number;
}

export function parseOptions(args: Arg[], from: number, spec: OptionSpec): ParsedOptions {
  const withValue = new Set(spec.withValue);
  const flags = new Set<string>();
  const values = new Map<string, Arg[]>();
  const operands: Arg[] = [];
  const setValue = (name: string, value: Arg | undefined) => {
    flags.add(name);
    if (value) values.set(name, [...(values.get(name) ?? []), value]);
  };
  let i = from;
  while (i < args.length) {
    const arg = args[i] as Arg;
    const t = arg.text;
    if (t === '--') {
      operands.push(...args.slice(i + 1));
      return { flags, values, operands, rest: i + 1 };
    }
    if (t.startsWith('--') && t.length > 2) {
      const eq = t.indexOf('=');
      if (eq !== -1) setValue(t.slice(0, eq), sliceArg(arg, eq + 1));
      else if (withValue.has(t)) {
        setValue(t, args[i + 1]);
        i++;
      } else flags.add(t);
      i++;
      continue;
    }
    if (t.startsWith('-') && t.length > 1 && !arg.procSub) {
      for (let j = 1; j < t.length; j++) {
        const name = '-' + t[j];
        if (withValue.has(name)) {
          if (j + 1 < t.length) setValue(name, sliceArg(arg, j + 1));
          else {
            setValue(name, args[i + 1]);
            i++;
          }
          break;
        }
        flags.add(name);
      }
      i++;
      continue;
    }
    if (spec.stopAtOperand) {
      operands.push(...args.slice(i));
      return { flags, values, operands, rest: i };
    }
    operands.push(arg);
    i++;
  }
  return { flags, values, operands, rest: args.length };
}

export const hasAny = (p: ParsedOptions, ...names: string[]): boolean => names.some((n) => p.flags.has(n));

export const valueOf = (p: ParsedOptions, ...names: string[]): Arg[] =>
  names.flatMap((n) => p.values.get(n) ?? []);

/** The tail of an argument from `n`, for values glued to their option (`-uroot`, `--user=root`). */
export function sliceArg(arg: Arg, n: number): Arg {
  const head = arg.text.slice(0, n);
  const worst = arg.worst.startsWith(head) ? arg.worst.slice(n) : '';
  return { ...arg, text: arg.text.slice(n), worst };
}
