import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { ReadQuery } from '../../bridge-image/protocol/index.js';
import { isBinary, isBinaryRange, lineWindow, sha256 } from '../file-content.js';
import { pathInput } from '../tool-inputs.js';
import { toolError, toolText, withBridge } from '../tool-results.js';
import { readOnlyTool } from './annotations.js';

/** At most this much text per call (about 64k tokens); longer files are read in parts. */
export const MAX_TEXT_BYTES = 256 * 1024;

const field = ReadQuery.shape;
const lineNumber = z.number().int().min(1, 'lines count from 1');

export const readFileInput = z
  .object({
    path: pathInput('The file to read'),
    start_line: lineNumber
      .optional()
      .describe('First line to return, counting from 1. Leave out both line fields for the whole file.'),
    end_line: lineNumber
      .optional()
      .describe('Last line to return (inclusive); leave out to read to the end.'),
    offset: field.offset.describe(
      'Byte range instead of lines: the first byte to return, counting from 0. For large or binary files.',
    ),
    length: field.length.describe('Byte range: how many bytes to return from offset (default: to the end).'),
  })
  .refine(
    (a) =>
      (a.start_line === undefined && a.end_line === undefined) ||
      (a.offset === undefined && a.length === undefined),
    { message: 'give either a line range (start_line/end_line) or a byte range (offset/length), not both' },
  )
  .refine((a) => a.start_line === undefined || a.end_line === undefined || a.end_line >= a.start_line, {
    message: 'end_line must not be before start_line',
    path: ['end_line'],
  });

export const readFileOutput = z.object({
  path: z.string(),
  /** The whole file's size and SHA-256, whatever range was read; pass hash to write_file's if_match. */
  size: z.number().int(),
  hash: z.string(),
  binary: z.boolean(),
  /** The text read; null for binary content. */
  text: z.string().nullable(),
  /** For text read by lines (or whole): the lines returned and how many the file has. */
  lines: z.object({ start: z.number().int(), end: z.number().int(), total: z.number().int() }).nullable(),
  /** For a byte range: the bytes returned. */
  bytes: z.object({ offset: z.number().int(), length: z.number().int() }).nullable(),
  /** More was asked for than one call returns (MAX_TEXT_BYTES); read on from where it stopped. */
  truncated: z.boolean(),
});
type ReadFileOutput = z.infer<typeof readFileOutput>;

function binaryResult(out: ReadFileOutput) {
  return toolText(
    out,
    `${out.path} is binary (${out.size} bytes, sha256 ${out.hash}); its content is not shown as text.`,
  );
}

export function registerReadFile(server: McpServer, client: BridgeClient): void {
  server.registerTool(
    'read_file',
    {
      title: 'Read a file',
      description:
        'Reads a file as your shadow of the workspace shows it: your own changes where you made them, ' +
        'the workspace elsewhere. Use it instead of reading the disk, which does not show your changes. ' +
        'Returns the text (whole, or lines start_line..end_line, or bytes offset..offset+length), with the ' +
        "file's size, line count and SHA-256 hash (pass it as if_match to write_file to detect concurrent " +
        'changes). Binary files are reported as binary with their size and hash. Files longer than ' +
        `${MAX_TEXT_BYTES / 1024} KB are returned in parts: read on from the line where the result stops.`,
      inputSchema: readFileInput,
      outputSchema: readFileOutput,
      annotations: readOnlyTool,
    },
    (args, extra) =>
      withBridge(client, async () => {
        const signal = extra.signal;
        if (args.offset !== undefined || args.length !== undefined) {
          const offset = args.offset ?? 0;
          const length = Math.min(args.length ?? MAX_TEXT_BYTES, MAX_TEXT_BYTES);
          const [part, stat] = await Promise.all([
            client.readFile(args.path, { offset, length, signal }),
            client.stat(args.path, { signal }),
          ]);
          const binary = isBinaryRange(part);
          const out: ReadFileOutput = {
            path: stat.path,
            size: stat.size,
            hash: stat.hash ?? '',
            binary,
            text: binary ? null : part.toString('utf8'),
            lines: null,
            bytes: { offset, length: part.length },
            truncated: part.length === MAX_TEXT_BYTES && offset + part.length < stat.size,
          };
          if (binary) return binaryResult(out);
          const more = out.truncated ? ` Read on with offset ${offset + part.length}.` : '';
          return toolText(
            out,
            `${out.path}: bytes ${offset}-${offset + part.length} of ${stat.size}, sha256 ${out.hash}.${more}`,
            out.text!,
          );
        }

        const data = await client.readFile(args.path, { signal });
        const base: ReadFileOutput = {
          path: args.path,
          size: data.length,
          hash: sha256(data),
          binary: false,
          text: null,
          lines: null,
          bytes: null,
          truncated: false,
        };
        if (isBinary(data)) return binaryResult({ ...base, binary: true });
        const start = args.start_line ?? 1;
        const { text, total, last } = lineWindow(data, start, args.end_line, MAX_TEXT_BYTES);
        if (start > Math.max(total, 1)) {
          return toolError(
            `start_line ${start} is past the end of ${args.path}, which has ${total} lines. Read from a line between 1 and ${total}.`,
          );
        }
        const end = Math.min(args.end_line ?? total, total);
        const truncated = last < end;
        const out: ReadFileOutput = {
          ...base,
          text,
          lines: { start: total === 0 ? 0 : start, end: last, total },
          truncated,
        };
        const range =
          total === 0
            ? 'empty'
            : start === 1 && last === total
              ? `${total} lines`
              : `lines ${start}-${last} of ${total}`;
        const more = truncated
          ? ` Stopped after ${MAX_TEXT_BYTES / 1024} KB: read on with start_line ${last + 1}.`
          : '';
        return toolText(
          out,
          `${args.path}: ${range}, ${data.length} bytes, sha256 ${out.hash}.${more}`,
          text,
        );
      }),
  );
}
