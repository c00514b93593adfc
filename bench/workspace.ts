/**
 * Suite `workspace`: an agent's edit-build-test-git loop in its shadow, against the same loop in the
 * project itself (native) and through bindfs (Debian's C passthrough FUSE), all in one run, on a
 * generated npm project with a bin dependency (node_modules/.bin symlinks), tests and git.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, benchShadow, median, startBridgeProcess, tempDir } from './lib/processes.js';
import { info, relativeAtMost, type BenchResult } from './lib/report.js';

const FILES = 2000;
/** Rounds of the whole loop; each figure is the median of a step's rounds. */
const ROUNDS = Number(process.env.BENCH_WORKSPACE_ROUNDS ?? 3);

/** The project: a local package with a bin, a test script using it, sources, .gitignore, git. */
export function makeProject(root: string): void {
  const w = (rel: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text, { mode });
  };
  w(
    'package.json',
    JSON.stringify(
      {
        name: 'bench-project',
        version: '1.0.0',
        private: true,
        scripts: { test: 'greet-check && node test/run.js' },
        dependencies: { greet: 'file:vendor/greet' },
      },
      null,
      2,
    ) + '\n',
  );
  w(
    'vendor/greet/package.json',
    JSON.stringify({ name: 'greet', version: '1.0.0', bin: { 'greet-check': 'cli.js' } }) + '\n',
  );
  w('vendor/greet/cli.js', '#!/usr/bin/env node\nconsole.log("greet ok");\n', 0o755);
  w('.gitignore', 'node_modules/\ndist/\nout/\n');
  for (let i = 0; i < 50; i++) w(`src/m${i}.js`, `exports.v${i} = () => ${i};\n`);
  w(
    'test/run.js',
    "const assert = require('assert');\n" +
      Array.from({ length: 50 }, (_, i) => `assert.equal(require('../src/m${i}.js').v${i}(), ${i});`).join(
        '\n',
      ) +
      "\nconsole.log('50 tests passed');\n",
  );
  const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: root, stdio: 'ignore' });
  sh('npm install --offline --no-audit --no-fund --ignore-scripts');
  sh('git init -q && git add -A && git -c user.email=b@b -c user.name=b commit -qm init');
}

const timed = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

/** One timing of a step, in ms; NaN (and the reason, once) when it fails where it is run. */
function once(name: string, where: string, fn: () => void, failed: Set<string>): number {
  try {
    return timed(fn);
  } catch (e) {
    const key = `${name} in ${where}`;
    if (!failed.has(key)) console.error(`workspace: ${key} failed: ${(e as Error).message.split('\n')[0]}`);
    failed.add(key);
    return NaN;
  }
}

/** The loop's steps, each a command in the location's directory (or files written into it). */
function steps(dir: string): Record<string, () => void> {
  const run = (cmd: string) => () => execFileSync('sh', ['-c', cmd], { cwd: dir, stdio: 'ignore' });
  const write = (sub: string) => () => {
    const d = path.join(dir, sub, `r-${Math.random().toString(36).slice(2, 10)}`);
    fs.mkdirSync(d, { recursive: true });
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(d, `f${i}.txt`), `file ${i}\n`);
  };
  return {
    npmTest: run('npm test --silent'),
    gitStatus: run('git status --porcelain'),
    npmInstall: run('npm install --offline --no-audit --no-fund --ignore-scripts'),
    ignoredFiles: write('out'),
    trackedFiles: write('src/gen'),
  };
}

/**
 * Each step's median over ROUNDS in every location, the locations taking turns within a round, so
 * that a burst of load on this shared machine falls on all of them alike rather than on one.
 */
function measure(locations: readonly (readonly [string, string])[]): Record<string, number>[] {
  const plans = locations.map(([dir]) => steps(dir));
  const samples = locations.map(() => new Map<string, number[]>());
  const failed = new Set<string>();
  for (let r = 0; r < ROUNDS; r++) {
    console.error(`workspace: round ${r + 1} of ${ROUNDS}`);
    for (const name of Object.keys(plans[0]!)) {
      locations.forEach(([, where], i) => {
        const t = once(name, where, plans[i]![name]!, failed);
        samples[i]!.set(name, [...(samples[i]!.get(name) ?? []), t]);
      });
    }
  }
  return samples.map((m) => Object.fromEntries([...m].map(([k, v]) => [k, v.some(isNaN) ? NaN : median(v)])));
}

/** The floor of a Node FUSE server (lib/passthrough-fuse.ts) over `source`, mounted at `mnt`. */
async function startPassthrough(source: string, mnt: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/bench/passthrough-fuse.js'), source, mnt], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('mounted') && resolve());
    proc.once('exit', (c) => reject(new Error(`the passthrough exited ${c}`)));
  });
  return proc;
}

export async function workspaceSuite(): Promise<BenchResult[]> {
  try {
    execFileSync('bindfs', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('the workspace suite compares with bindfs: apt-get install bindfs');
  }
  const top = tempDir();
  const ws = path.join(top, 'project');
  console.error('workspace: making an npm project with a bin dependency, tests and git');
  makeProject(ws);
  // Native and bindfs runs change their own copies; the shadow sees the pristine project.
  const native = path.join(top, 'native');
  execFileSync('cp', ['-a', ws, native]);
  const bindSrc = path.join(top, 'bind-src');
  execFileSync('cp', ['-a', ws, bindSrc]);
  const bind = path.join(top, 'bind');
  fs.mkdirSync(bind);
  execFileSync('bindfs', ['--no-allow-other', bindSrc, bind]);
  const floorSrc = path.join(top, 'floor-src');
  execFileSync('cp', ['-a', ws, floorSrc]);
  const floor = path.join(top, 'floor');
  const passthrough = await startPassthrough(floorSrc, floor);
  const mnt = path.join(top, 'mnt');
  const bridge = await startBridgeProcess({ workspace: ws, fuseMount: mnt });
  try {
    const { agent, shadow } = await benchShadow(bridge, mnt, 'package.json');
    const results = measure([
      [native, 'native'],
      [bind, 'bindfs'],
      [shadow, 'shadow'],
      [floor, 'a bare Node FUSE passthrough'],
    ]);
    const changes = (await agent.changes()).total;
    console.error(`workspace: the shadow lists ${changes} changes after the loop`);
    await agent.close();
    type Steps = Record<string, number>;
    const [n, b, s, f] = results as [Steps, Steps, Steps, Steps];
    const rows: [string, keyof typeof n][] = [
      ['npm test', 'npmTest'],
      ['git status', 'gitStatus'],
      ['npm install (offline, a file: dependency)', 'npmInstall'],
      [`writing ${FILES} git-ignored files`, 'ignoredFiles'],
      [`writing ${FILES} tracked files`, 'trackedFiles'],
    ];
    const out: BenchResult[] = [];
    for (const [label, k] of rows) {
      // "near bindfs speed" for what the agent keeps to itself; the rest is reported.
      const ratioToBind = relativeAtMost(`${label} in a shadow, vs bindfs`, s[k]!, 'ms', b[k]!, 2, 'bindfs');
      out.push(k === 'ignoredFiles' ? ratioToBind : { ...ratioToBind, informational: true, pass: true });
      out.push(info(`${label} in a shadow, vs native`, s[k]!, 'ms', n[k]!));
      // What any FUSE server in Node (fuse-native, one thread) costs for the same step.
      out.push(info(`${label} through a bare Node FUSE passthrough, vs bindfs`, f[k]!, 'ms', b[k]!));
    }
    out.push(info('changes the shadow lists after the loop', changes, 'changes'));
    return out;
  } finally {
    await bridge.stop();
    await new Promise<void>((resolve) => {
      passthrough.once('exit', () => resolve());
      passthrough.kill('SIGTERM');
    });
    try {
      execFileSync('fusermount', ['-u', bind]);
    } catch {
      execFileSync('umount', ['-l', bind]);
    }
  }
}
