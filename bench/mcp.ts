/**
 * Suite `mcp`: lighthouse-mcp as a client sees it. The real SDK client talks over stdio to the
 * built dist/mcp-server.js, which calls a real bridge: the round trip of a tool call, and reading a
 * 100 KB file against @modelcontextprotocol/server-filesystem's read_text_file on the same file in
 * the same run (the reference MCP server reading the disk directly, without Lighthouse's extra hop).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BridgeClient, deriveAgentKey } from '../bridge-image/protocol/index.js';
import { ROOT, startBridgeProcess, tempDir } from './lib/processes.js';
import { atMost, info, relativeAtMost, type BenchResult } from './lib/report.js';

const ROUND_TRIPS = Number(process.env.BENCH_MCP_CALLS ?? 3000);
const READS = Number(process.env.BENCH_MCP_READS ?? 600);
const WARMUP = 200;
const FILE_BYTES = 100 * 1024;
const AGENT = 'bench-mcp';

const MCP_JS = path.join(ROOT, 'dist/mcp-server.js');
const FILESYSTEM_JS = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

interface Connected {
  client: Client;
  pid: number;
  close(): Promise<void>;
}

/** CPU milliseconds (user + system) a process has used so far, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux that Node runs on. */
const CLOCK_TICKS = 100;

/** Runs `fn` and returns what it gives and the CPU milliseconds `pid` used meanwhile, per call of `calls`. */
async function withCpu<T>(pids: number[], calls: number, fn: () => Promise<T>): Promise<[T, number[]]> {
  const before = pids.map(cpuMs);
  const out = await fn();
  return [out, pids.map((p, i) => (cpuMs(p) - before[i]!) / calls)];
}

async function connect(args: string[]): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: { PATH: process.env.PATH ?? '' },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'lighthouse-bench', version: '0.0.0' });
  await client.connect(transport);
  return { client, pid: transport.pid!, close: () => client.close() };
}

/** Milliseconds of each call, after a warm-up; throws on a failed call so that a broken path never looks fast. */
async function timeCalls(n: number, call: () => Promise<unknown>, warmup = WARMUP): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await call();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms;
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function toolCall(client: Client, name: string, args: Record<string, unknown>) {
  return async () => {
    const res = await client.callTool({ name, arguments: args });
    if (res.isError) throw new Error(`${name} failed: ${JSON.stringify(res.content)}`);
    return res;
  };
}

/** A text file of about `bytes` bytes: source-like lines, so that line splitting does real work. */
function sourceText(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `export const value${i} = computeSomething(${i}, 'a string literal ${i % 97}');\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('').slice(0, bytes);
}

export async function mcpSuite(): Promise<BenchResult[]> {
  const top = tempDir();
  const ws = path.join(top, 'ws');
  const plain = path.join(top, 'plain');
  fs.mkdirSync(ws);
  fs.mkdirSync(plain);
  const text = sourceText(FILE_BYTES);
  fs.writeFileSync(path.join(ws, 'big.ts'), text);
  fs.writeFileSync(path.join(plain, 'big.ts'), text);

  const bridge = await startBridgeProcess({ workspace: ws });
  const keyFile = path.join(top, `${AGENT}.key`);
  fs.writeFileSync(keyFile, deriveAgentKey(bridge.secret, AGENT).toString('hex'), { mode: 0o600 });
  const bridgeUrl = `http://127.0.0.1:${bridge.port}`;
  const lighthouse = await connect([MCP_JS, '--bridge', bridgeUrl, '--agent', AGENT, '--key-file', keyFile]);
  const filesystem = await connect([FILESYSTEM_JS, plain]);
  const direct = new BridgeClient({
    baseUrl: bridgeUrl,
    agentId: `${AGENT}-direct`,
    key: deriveAgentKey(bridge.secret, `${AGENT}-direct`),
  });
  const servers = [lighthouse.pid, bridge.proc.pid!];
  try {
    console.error(`mcp: ${ROUND_TRIPS} status round trips through lighthouse-mcp`);
    const [status, statusCpu] = await withCpu(servers, ROUND_TRIPS + WARMUP, () =>
      timeCalls(ROUND_TRIPS, toolCall(lighthouse.client, 'status', {})),
    );
    // For reading the above: the bridge call alone, and an MCP round trip with no bridge behind it.
    console.error('mcp: the same bridge call without MCP, and an MCP call without a bridge');
    const bridgeOnly = await timeCalls(ROUND_TRIPS, () => direct.status());
    const mcpOnly = await timeCalls(ROUND_TRIPS, toolCall(filesystem.client, 'list_allowed_directories', {}));

    // Call by call in turn, so that load from elsewhere on the machine falls on both alike.
    console.error(`mcp: reading a ${FILE_BYTES / 1024} KB file, ${READS} times each, in turn`);
    const readLighthouse = toolCall(lighthouse.client, 'read_file', { path: 'big.ts' });
    const readFilesystem = toolCall(filesystem.client, 'read_text_file', {
      path: path.join(plain, 'big.ts'),
    });
    const check = (await readLighthouse()) as { structuredContent?: { text?: string } };
    if (check.structuredContent?.text !== text) throw new Error('read_file did not return the file');
    for (let i = 0; i < WARMUP; i++) await Promise.all([readLighthouse(), readFilesystem()]);
    const ours: number[] = [];
    const theirs: number[] = [];
    const [, [oursCpu, bridgeReadCpu, theirsCpu]] = await withCpu(
      [...servers, filesystem.pid],
      READS,
      async () => {
        for (let i = 0; i < READS; i++) {
          ours.push(...(await timeCalls(1, readLighthouse, 0)));
          theirs.push(...(await timeCalls(1, readFilesystem, 0)));
        }
      },
    );
    // The hop lighthouse-mcp adds, for reading the ratio: the bridge's answer to the same read.
    const bridgeRead = await timeCalls(READS, () => direct.readFile('big.ts'));

    const KB = FILE_BYTES / 1024;
    // Beside the targets, for reading them: each leg of the path measured apart, and the CPU each
    // process spent per call (a p99 over target with legs that are slow alone is the machine, busy
    // elsewhere, not the path).
    return [
      atMost('tool round trip (status) p50', percentile(status, 50), 'ms', 2),
      atMost('tool round trip (status) p99', percentile(status, 99), 'ms', 10),
      info('lighthouse-mcp CPU per status call', statusCpu[0]!, 'ms'),
      info('bridge CPU per status call', statusCpu[1]!, 'ms'),
      info('bridge status call alone (BridgeClient) p50', percentile(bridgeOnly, 50), 'ms'),
      info('bridge status call alone (BridgeClient) p99', percentile(bridgeOnly, 99), 'ms'),
      info(
        'MCP stdio round trip alone (server-filesystem list_allowed_directories) p50',
        percentile(mcpOnly, 50),
        'ms',
      ),
      info(
        'MCP stdio round trip alone (server-filesystem list_allowed_directories) p99',
        percentile(mcpOnly, 99),
        'ms',
      ),
      relativeAtMost(
        `read a ${KB} KB file (read_file) p50, vs server-filesystem read_text_file`,
        percentile(ours, 50),
        'ms',
        percentile(theirs, 50),
        1.5,
        'server-filesystem read_text_file',
      ),
      info(
        `read a ${KB} KB file p99 (baseline: server-filesystem)`,
        percentile(ours, 99),
        'ms',
        percentile(theirs, 99),
      ),
      info(`server CPU per ${KB} KB read (baseline: server-filesystem)`, oursCpu!, 'ms', theirsCpu!),
      info(`bridge CPU per ${KB} KB read`, bridgeReadCpu!, 'ms'),
      info(`the same read from the bridge alone (BridgeClient) p50`, percentile(bridgeRead, 50), 'ms'),
    ];
  } finally {
    await Promise.allSettled([lighthouse.close(), filesystem.close(), direct.close()]);
    await bridge.stop();
  }
}
