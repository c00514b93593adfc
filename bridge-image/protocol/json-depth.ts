/**
 * How deep JSON may nest, for every parser of the bridge: request bodies, WebSocket messages,
 * import lines, policy files. JSON.parse is iterative and takes any depth, but what comes after it
 * is recursive (JSON.stringify, zod, ajv, the bridge's own walks) and overflows the stack at a few
 * thousand levels; a value that parses but cannot be written back would then be stored and break
 * every reader. So depth is checked on the text, before it is parsed.
 *
 * 64 is far beyond real data (API payloads, tool inputs, JSON Schemas nest well under 20) and far
 * below any stack limit; it is also the default of .NET's System.Text.Json (serde_json's is 128).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * How deep a stored event's data may nest and still be served as it is. Twice the input limit:
 * the bridge wraps values it was given in a few levels of its own before storing them. An export
 * line holds the data inside one object more, so an import line may nest one level deeper.
 * Deeper stored data (written before the input limit existed) is served clipped, see UNREADABLE.
 */
export const MAX_STORED_DEPTH = 2 * MAX_JSON_DEPTH;
export const MAX_IMPORT_LINE_DEPTH = MAX_STORED_DEPTH + 1;

/**
 * The key of the marker that stands in for a stored value the bridge cannot serve as it is:
 * `{"$unreadable": "<why>", "json": "<the value's text as stored>"}`. The text keeps it recoverable.
 */
export const UNREADABLE = '$unreadable';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * Whether JSON text nests arrays and objects deeper than `limit` (`[]` is depth 1). A linear scan
 * that skips strings; it does not validate (JSON.parse does, after). Works on UTF-8 bytes as well as
 * on a string: the bytes it looks at are ASCII, which never occur inside a multi-byte sequence.
 */
export function nestsDeeperThan(text: string | Uint8Array, limit = MAX_JSON_DEPTH): boolean {
  // A depth of d takes at least 2d characters ("[[]]"): short text needs no scan.
  if (text.length <= 2 * limit) return false;
  return typeof text === 'string' ? scanString(text, limit) : scanBytes(text, limit);
}

function scanBytes(b: Uint8Array, limit: number): boolean {
  let depth = 0;
  for (let i = 0, n = b.length; i < n; i++) {
    const c = b[i]!;
    if (c === QUOTE) {
      // Jump to the closing quote (indexOf runs natively, much faster than a loop over long text).
      for (;;) {
        const j = b.indexOf(QUOTE, i + 1);
        if (j < 0) return false;
        i = j;
        if (!escaped(b, j)) break;
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return false;
}

function scanString(t: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0, n = t.length; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c === QUOTE) {
      for (;;) {
        const j = t.indexOf('"', i + 1);
        if (j < 0) return false;
        i = j;
        if (!escapedChar(t, j)) break;
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return false;
}

/** Whether the quote at `at` is escaped: preceded by an odd number of backslashes. */
function escaped(b: Uint8Array, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && b[k] === BACKSLASH) k--;
  return (at - 1 - k) % 2 === 1;
}

function escapedChar(t: string, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && t.charCodeAt(k) === BACKSLASH) k--;
  return (at - 1 - k) % 2 === 1;
}

/** The refusal's wording, the same from every parser: `request body nests deeper than 64 levels (limit 64)`. */
export function tooDeepMessage(what: string, limit = MAX_JSON_DEPTH): string {
  return `${what} nests arrays and objects deeper than ${limit} levels (limit ${limit})`;
}

/**
 * Stored JSON text with every array or object that reaches deeper than `limit` replaced by an
 * UNREADABLE marker holding its text, so the result nests at most `limit` levels and everything
 * around the deep part stays as it was. Undefined when the text is not well-formed JSON nesting.
 * Linear and iterative: it never recurses into what it clips.
 */
export function clipDeepJson(text: string, limit = MAX_STORED_DEPTH): string | undefined {
  const starts: number[] = [];
  let out = '';
  let from = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
      if (i >= n) return undefined;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      starts.push(i);
      if (starts.length <= limit) continue;
      // The container at level `limit` holds something deeper: find its end, and put the marker
      // (one level, at that same level) in its place.
      const start = starts[limit - 1]!;
      const end = closingOf(text, i, starts.length - limit + 1);
      if (end < 0) return undefined;
      const clipped = text.slice(start, end + 1);
      out +=
        text.slice(from, start) +
        JSON.stringify({ [UNREADABLE]: `nests deeper than ${limit} levels`, json: clipped });
      from = end + 1;
      i = end;
      starts.length = limit - 1;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      if (starts.pop() === undefined) return undefined;
    }
  }
  if (starts.length !== 0) return undefined;
  return out + text.slice(from);
}

/** The index of the bracket that closes `open` containers, the innermost of which opened at `at`. */
function closingOf(text: string, at: number, open: number): number {
  let depth = open;
  for (let i = at + 1, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) depth++;
    else if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && --depth === 0) return i;
  }
  return -1;
}
