/** Fork bombs: `:(){ :|:& };:` and its renamings, and the classic one-liners in perl and python. */
import { commandName, type Command } from '../command-model.js';
import { programOf } from '../interpreters.js';
import { defineRule } from './rule.js';

const INLINE_BOMB =
  /\bfork\s+while\s+fork\b|while\s*\(?\s*(?:1|true|True)\s*\)?\s*[:{;]?\s*(?:os\.)?fork\s*\(/;

export const forkBomb = defineRule('fork-bomb', 0.99, (s, env) => {
  if (s.kind !== 'command') return null;
  const cmd = s.command;
  const program = programOf(cmd.args);
  if (program?.kind === 'inline' && program.arg && INLINE_BOMB.test(program.arg.text)) {
    return 'starts processes that multiply until the machine stops responding (fork bomb)';
  }
  const name = commandName(cmd.args);
  const fn = env.analysis?.functions.find((f) => f.name === name && f.commands.includes(cmd));
  if (!fn) return null;
  const selfCalls = fn.commands.filter((c) => commandName(c.args) === fn.name);
  const multiplies = (c: Command) =>
    c.opAfter === '&' ||
    c.opAfter === '|' ||
    c.opAfter === '|&' ||
    c.stdinFrom.some((u) => selfCalls.includes(u));
  if (selfCalls[0] !== cmd || !selfCalls.some(multiplies)) return null;
  return `function ${fn.name} calls itself through a pipe or in the background: a fork bomb that exhausts the machine's processes`;
});
