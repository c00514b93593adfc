import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

/**
 * Stack traces of the bridge's bundles point into minified files (whole functions on one line), so a
 * logged error is mapped back to the TypeScript sources here, when it is logged. Node's own
 * --enable-source-maps would do it for every error but parses every map at start-up (+12 MB idle);
 * this reads a bundle's map only when one of its frames is logged, and lets it go a minute later.
 */
const maps = new Map<string, SourceMap | null>();
let release: NodeJS.Timeout | undefined;

function mapFor(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as never);
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  if (!release) {
    release = setTimeout(() => {
      release = undefined;
      maps.clear();
    }, 60_000);
    release.unref();
  }
  return map;
}

/** A frame's location: an absolute path (or file: URL) to a .js file, then line and column. */
const FRAME = /((?:file:\/\/)?\/[^\s()]+\.[cm]?js):(\d+):(\d+)/g;

/** The stack with every frame of a bundle that has a source map moved to its original file and line. */
export function originalStack(stack: string): string {
  return stack.replace(FRAME, (whole: string, where: string, line: string, column: string) => {
    const file = where.startsWith('file://') ? new URL(where).pathname : where;
    const map = mapFor(file);
    if (!map) return whole;
    const e = map.findEntry(Number(line) - 1, Number(column) - 1) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    if (e.originalSource === undefined || e.originalLine === undefined) return whole;
    const source = e.originalSource.startsWith('file://')
      ? new URL(e.originalSource).pathname
      : path.resolve(path.dirname(file), e.originalSource);
    return `${source}:${e.originalLine + 1}:${(e.originalColumn ?? 0) + 1}`;
  });
}
