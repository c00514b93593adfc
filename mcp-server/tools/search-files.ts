import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import picomatch from 'picomatch';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { BridgeError, ListQuery } from '../../bridge-image/protocol/index.js';
import { isBinary, splitLines } from '../file-content.js';
import { comparePaths, UNENTERED_DIRS, walkShadow } from '../shadow-walk.js';
import { count, toolError, toolText, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

/** Files larger than this are not searched (generated or data files, mostly). */
export const MAX_SEARCH_FILE_BYTES = 1024 * 1024;
/** A matching line is shown up to this many characters. */
const MAX_LINE_CHARS = 300;
/** Files read at once. */
const CONCURRENCY = 8;
/** However deep the tree, a search does not go further down than this. */
const MAX_SEARCH_DEPTH = 64;
/** Files and directories looked at (glob or not) before a search gives up walking. */
export const MAX_WALK_ENTRIES = 200_000;

export const searchFilesInput = z.object({
  pattern: z
    .string()
    .min(1)
    .max(1000)
    .describe(
      'A JavaScript regular expression, matched against each line of each file, e.g. "function\\s+main" ' +
        'or "TODO|FIXME". Special characters such as ( [ . * need a backslash to be matched literally.',
    ),
  glob: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .describe(
      'Only files whose workspace path matches this glob, e.g. "**/*.ts", "src/**/*.{ts,tsx}". A glob ' +
        'without "/" matches file names anywhere ("*.md").',
    ),
  path: ListQuery.shape.path.describe(
    'Search only under this directory (relative to the workspace root, e.g. "src"); leave it out for ' +
      'the whole workspace.',
  ),
  case_insensitive: z.boolean().default(false).describe('Ignore letter case.'),
  max_matches: z
    .number()
    .int()
    .min(1)
    .max(2000)
    .default(200)
    .describe('Stop after this many matching lines.'),
  max_files: z
    .number()
    .int()
    .min(1)
    .max(20_000)
    .default(5000)
    .describe('Search at most this many files (those matching glob).'),
});

export const searchFilesOutput = z.object({
  matches: z.array(z.object({ path: z.string(), line: z.number().int(), text: z.string() })),
  filesSearched: z.number().int(),
  filesMatched: z.number().int(),
  /** Not searched: binary content, or larger than MAX_SEARCH_FILE_BYTES. */
  skippedBinary: z.array(z.string()),
  skippedLarge: z.array(z.string()),
  /**
   * Why the search stopped early, if it did: "max_matches", "max_files", or "max_entries" (the walk
   * looked at MAX_WALK_ENTRIES files and directories).
   */
  stoppedAt: z.enum(['max_matches', 'max_files', 'max_entries']).nullable(),
});
type SearchOutput = z.infer<typeof searchFilesOutput>;

function compile(pattern: string, ignoreCase: boolean): RegExp | string {
  try {
    return new RegExp(pattern, ignoreCase ? 'iu' : 'u');
  } catch {
    // Unicode mode is stricter about escapes ("\-" outside a class); fall back to the classic syntax.
    try {
      return new RegExp(pattern, ignoreCase ? 'i' : '');
    } catch (e) {
      return (e as Error).message;
    }
  }
}

/** A file's content, or undefined if it vanished (or became a directory) since the walk saw it. */
async function readOrSkip(
  client: BridgeClient,
  path: string,
  signal: AbortSignal,
): Promise<Buffer | undefined> {
  try {
    return await client.readFile(path, { signal });
  } catch (e) {
    if (e instanceof BridgeError && (e.code === 'ENOENT' || e.code === 'EISDIR')) return undefined;
    throw e;
  }
}

function render(out: SearchOutput, pattern: string): string {
  const lines = out.matches.map((m) => `${m.path}:${m.line}: ${m.text}`);
  let summary =
    out.matches.length === 0
      ? `No line matches /${pattern}/ in ${count(out.filesSearched, 'file')} searched.`
      : `${count(out.matches.length, 'matching line')} in ${count(out.filesMatched, 'file')} (${count(out.filesSearched, 'file')} searched).`;
  if (out.stoppedAt === 'max_matches')
    summary += ' Stopped at max_matches: narrow the pattern or glob, or raise max_matches.';
  if (out.stoppedAt === 'max_files')
    summary +=
      ' Stopped at max_files: more files were not searched; narrow glob or path, or raise max_files.';
  if (out.stoppedAt === 'max_entries')
    summary += ` Stopped after looking at ${MAX_WALK_ENTRIES} files and directories: search under a narrower path.`;
  if (out.skippedBinary.length) summary += ` Skipped ${count(out.skippedBinary.length, 'binary file')}.`;
  if (out.skippedLarge.length)
    summary += ` Skipped ${count(out.skippedLarge.length, 'file')} over ${MAX_SEARCH_FILE_BYTES / 1024} KB: ${out.skippedLarge.slice(0, 5).join(', ')}${out.skippedLarge.length > 5 ? ', …' : ''}.`;
  return lines.length ? `${lines.join('\n')}\n\n${summary}` : summary;
}

export function registerSearchFiles(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'search_files',
    {
      title: 'Search file contents',
      description:
        'Searches the text files of your shadow of the workspace (your changes included) for lines ' +
        'matching a regular expression, optionally only in files whose path matches a glob, like grep -rn. ' +
        'Use it to find where something is defined or used before reading or editing. Returns ' +
        '"path:line: text" for each matching line. Lines are matched one at a time (no multi-line ' +
        'patterns); binary files, files over 1 MB, .git and node_modules are skipped; max_matches and ' +
        'max_files bound the work, and the result says when a limit was reached.',
      inputSchema: searchFilesInput,
      outputSchema: searchFilesOutput,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const regex = compile(args.pattern, args.case_insensitive);
        if (typeof regex === 'string') {
          return toolError(`pattern is not a valid regular expression: ${regex}. Fix it and retry.`);
        }
        const wanted = args.glob ? picomatch(args.glob, { dot: true, basename: true }) : () => true;

        // First the candidate files, then their contents in path order.
        const candidates: { path: string; size: number }[] = [];
        let walked = 0;
        const complete = await walkShadow(client, args.path, {
          maxDepth: MAX_SEARCH_DEPTH,
          signal: extra.signal,
          skipDir: (e) => UNENTERED_DIRS.has(e.name),
          visit: (e) => {
            if (++walked > MAX_WALK_ENTRIES) return false;
            if (e.type !== 'file' || !wanted(e.path)) return true;
            if (candidates.length >= args.max_files) return false;
            candidates.push({ path: e.path, size: e.size });
            return true;
          },
        });
        candidates.sort((a, b) => comparePaths(a.path, b.path));

        const out: SearchOutput = {
          matches: [],
          filesSearched: 0,
          filesMatched: 0,
          skippedBinary: [],
          skippedLarge: [],
          stoppedAt: complete ? null : walked > MAX_WALK_ENTRIES ? 'max_entries' : 'max_files',
        };
        const small = candidates.filter((c) => {
          if (c.size <= MAX_SEARCH_FILE_BYTES) return true;
          out.skippedLarge.push(c.path);
          return false;
        });
        search: for (let i = 0; i < small.length; i += CONCURRENCY) {
          const batch = small.slice(i, i + CONCURRENCY);
          const contents = await Promise.all(batch.map((c) => readOrSkip(client, c.path, extra.signal)));
          for (let j = 0; j < batch.length; j++) {
            const path = batch[j]!.path;
            const data = contents[j];
            if (data === undefined) continue;
            if (isBinary(data)) {
              out.skippedBinary.push(path);
              continue;
            }
            out.filesSearched++;
            let matched = false;
            const { lines } = splitLines(data.toString('utf8'));
            for (let n = 0; n < lines.length; n++) {
              const line = lines[n]!.endsWith('\r') ? lines[n]!.slice(0, -1) : lines[n]!;
              if (!regex.test(line)) continue;
              if (out.matches.length >= args.max_matches) {
                out.stoppedAt = 'max_matches';
                break search;
              }
              if (!matched) out.filesMatched++;
              matched = true;
              out.matches.push({
                path,
                line: n + 1,
                text: line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line,
              });
            }
          }
        }
        return toolText(out, render(out, args.pattern));
      }),
  );
}
