/**
 * `npm run bench [-- <suite>]`: runs the suites, prints a table each, writes
 * bench/results/<suite>.json and ends each suite with `bench <suite>: N/M targets met`.
 */
import { containerSuite } from './container.js';
import { coreSuite } from './core.js';
import { extensionSuite } from './extension.js';
import { mcpSuite } from './mcp.js';
import { shadowSuite } from './shadow.js';
import { workspaceSuite } from './workspace.js';
import { removeTempDirs } from '../test/helpers/temp-dirs.js';
import { printTable, writeResults, type BenchResult } from './lib/report.js';

const SUITES: Record<string, () => Promise<BenchResult[]>> = {
  core: coreSuite,
  container: containerSuite,
  mcp: mcpSuite,
  shadow: shadowSuite,
  extension: extensionSuite,
  workspace: workspaceSuite,
};

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = asked.length ? asked : Object.keys(SUITES);
  for (const n of names) {
    if (!SUITES[n]) {
      console.error(`bench: no suite "${n}"; suites: ${Object.keys(SUITES).join(', ')}`);
      process.exit(2);
    }
  }
  for (const name of names) {
    let results: BenchResult[];
    try {
      results = await SUITES[name]!();
    } finally {
      // A suite's workspaces and stores (the shadow suite's alone is ~260 MB), once its servers stopped.
      removeTempDirs();
    }
    printTable(name, results);
    const file = writeResults(name, results);
    console.log(`(written to ${file})`);
    const scored = results.filter((r) => !r.informational);
    console.log(`bench ${name}: ${scored.filter((r) => r.pass).length}/${scored.length} targets met`);
  }
}

main().then(
  // Done once every suite is written: after the extension suite something it leaves behind (pipes
  // to the browser that is gone, not among Node's active handles) kept the process alive for good.
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  },
);
