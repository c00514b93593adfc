import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { LighthouseApi } from '../../../extension/api.js';
import type { ReviewNode } from '../../../extension/tree/reviews-tree.js';
import type { ShadowNode } from '../../../extension/tree/shadow-tree.js';
import { startAgent, textOf, type McpAgent } from './mcp-agent.js';

/** The command the validation fast path escalates instead of deciding (see the MCP tests). */
const ESCALATED = 'rm -rf "$BUILD_DIR/"*';

async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function registerExtensionSuite(): void {
  describe('Lighthouse in a real VS Code with a real bridge container', () => {
    let api: LighthouseApi;
    let agent: McpAgent | undefined;
    const root = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;

    before(async () => {
      const ext = vscode.extensions.getExtension<LighthouseApi>('lighthouse-dev.lighthouse');
      assert.ok(ext, 'the extension is installed');
      api = await ext.activate();
      console.log(`activation took ${api.activationMs.toFixed(1)} ms`);
    });

    after(async () => {
      await agent?.close();
    });

    it('starts the bridge container from the command and waits until it is ready', async () => {
      const info = (await vscode.commands.executeCommand('lighthouse.start')) as {
        url: string;
        containerName: string;
      };
      assert.equal(api.bridge.state, 'ready');
      assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const status = await api.bridge.client!.status();
      assert.equal(status.workspace, '/workspace');
      const rows = await api.trees.bridge.getChildren();
      assert.ok(rows.some((r) => r.label === 'State' && r.value === 'ready'));
      assert.ok(rows.some((r) => r.label === 'Container' && r.value.includes(info.containerName)));
    });

    it('connects Claude Code: .mcp.json names a 0600 key file and holds no secret', async () => {
      const r = (await vscode.commands.executeCommand('lighthouse.connectClaudeCode', {
        agentId: 'claude-e2e',
        hooks: true,
        quiet: true,
      })) as { keyFile: string; mcpJson: string; command: string };
      const mcp = JSON.parse(fs.readFileSync(path.join(root(), '.mcp.json'), 'utf8')) as {
        mcpServers: Record<string, { command: string; args: string[] }>;
      };
      const entry = mcp.mcpServers.lighthouse!;
      assert.ok(entry.args.includes('--key-file'));
      assert.equal(entry.args[entry.args.indexOf('--key-file') + 1], r.keyFile);
      assert.equal(fs.statSync(r.keyFile).mode & 0o777, 0o600);
      const key = fs.readFileSync(r.keyFile, 'utf8').trim();
      assert.ok(!JSON.stringify(mcp).includes(key), '.mcp.json must not contain the key');
      // The other server the user had is still there.
      assert.ok(mcp.mcpServers.other, 'an existing entry is kept');
      const hooks = JSON.parse(fs.readFileSync(path.join(root(), '.claude', 'settings.json'), 'utf8')) as {
        hooks: Record<string, { hooks: { command: string }[] }[]>;
      };
      assert.ok(
        hooks.hooks.PreToolUse!.some((g) => g.hooks.some((h) => h.command.includes('hook pre-tool-use'))),
      );
      assert.match(r.command, /^claude mcp add lighthouse -- node /);
      // Known to the bridge from its key on (its shadow exists), before it ever connects.
      const known = (await api.bridge.client!.listAgents()).agents.find((a) => a.agentId === 'claude-e2e');
      assert.equal(known?.sessions, 0);
      agent = await startAgent(entry, process.execPath);
    });

    it('opens an agent terminal running lighthouse agent; without a view on this machine, in the workspace', async () => {
      const markerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-e2e-term-'));
      const marker = path.join(markerDir, 'ran.txt');
      const r = (await vscode.commands.executeCommand('lighthouse.openAgentTerminal', {
        agentId: 'term-e2e',
        inWorkspace: true,
        command: `sh -c 'echo "$LIGHTHOUSE_AGENT_ID $PWD $LIGHTHOUSE_SHADOW_DIR." > ${marker}; exit 5'`,
      })) as { shadow: string | null; cwd: string; args: string[]; keyFile: string } | undefined;
      assert.ok(r, 'the command opened a terminal');
      // The e2e bridge runs without FUSE: no shadow folder here, so the workspace with --no-shadow.
      assert.equal(r.shadow, null);
      assert.equal(r.cwd, root());
      assert.equal(r.args.at(-1), '--no-shadow');
      assert.equal(r.args[r.args.indexOf('--key-file') + 1], r.keyFile);
      const terminal = await eventually('the terminal', () =>
        vscode.window.terminals.find((t) => t.name === 'Lighthouse: term-e2e'),
      );
      // lighthouse agent found the bridge and the key and ran the command, whose exit code the terminal shows.
      await eventually('the agent command to finish', () => terminal.exitStatus?.code === 5 || undefined);
      assert.equal(fs.readFileSync(marker, 'utf8'), `term-e2e ${root()} .\n`);
      const known = (await api.bridge.client!.listAgents()).agents.some((a) => a.agentId === 'term-e2e');
      assert.ok(known, 'the bridge knows the agent');
      terminal.dispose();
      fs.rmSync(markerDir, { recursive: true, force: true });
    });

    it("shows an agent's shadow write in the Shadow Files tree, and the file through lighthouse:", async () => {
      const w = await agent!.call('write_file', {
        path: 'src/greeting.txt',
        content: 'hello from the agent\n',
      });
      assert.ok(!w.isError, textOf(w));
      const edit = await agent!.call('write_file', { path: 'README.txt', content: 'changed by the agent\n' });
      assert.ok(!edit.isError, textOf(edit));
      const agentNode = await eventually('the agent in Shadow Files', async () =>
        (await api.trees.shadow.getChildren()).find((n) => n.kind === 'agent' && n.agentId === 'claude-e2e'),
      );
      const files = await eventually('two changed files', async () => {
        const kids = (await api.trees.shadow.getChildren(agentNode)).filter((n) => n.kind === 'file');
        return kids.length === 2 ? kids : undefined;
      });
      const item = api.trees.shadow.getTreeItem(
        files.find((f) => f.kind === 'file' && f.change.path === 'src/greeting.txt')!,
      );
      assert.equal(item.label, 'greeting.txt');
      assert.match(String(item.description), /added/);
      const uri = vscode.Uri.parse('lighthouse:/shadows/claude-e2e/src/greeting.txt');
      assert.equal(
        Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'),
        'hello from the agent\n',
      );
      // The workspace itself is untouched until the developer applies.
      assert.equal(fs.existsSync(path.join(root(), 'src', 'greeting.txt')), false);
      await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, Buffer.from('x'))));
    });

    it('opens a change as a diff against the workspace', async () => {
      const agentNode: ShadowNode = { kind: 'agent', agentId: 'claude-e2e', count: 2, conflicts: 0 };
      const file = (await api.trees.shadow.getChildren(agentNode)).find(
        (n): n is Extract<ShadowNode, { kind: 'file' }> =>
          n.kind === 'file' && n.change.path === 'README.txt',
      )!;
      await vscode.commands.executeCommand('lighthouse.openChange', file);
      const tab = await eventually('a diff tab', () =>
        vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff
          ? vscode.window.tabGroups.activeTabGroup.activeTab
          : undefined,
      );
      const input = tab.input as vscode.TabInputTextDiff;
      assert.equal(input.original.toString(), 'lighthouse:/current/README.txt');
      assert.equal(input.modified.toString(), 'lighthouse:/shadows/claude-e2e/README.txt');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('never applies a conflicting change silently: the workspace changed under it, nothing is written', async () => {
      const readme = path.join(root(), 'README.txt');
      const original = fs.readFileSync(readme, 'utf8');
      fs.writeFileSync(readme, 'the developer edited this meanwhile\n');
      try {
        await eventually('README.txt in conflict', async () =>
          (await api.bridge.client!.changes({ agent: 'claude-e2e' })).changes.find(
            (c) => c.path === 'README.txt' && c.conflict,
          ),
        );
        const refused = await vscode.commands.executeCommand('lighthouse.applyAll', {
          agentId: 'claude-e2e',
          overwrite: false,
        });
        assert.equal(refused, undefined, 'refused, so nothing is reported applied');
        assert.equal(fs.readFileSync(readme, 'utf8'), 'the developer edited this meanwhile\n');
        assert.equal(fs.existsSync(path.join(root(), 'src', 'greeting.txt')), false);
        assert.equal((await api.bridge.client!.changes({ agent: 'claude-e2e' })).changes.length, 2);
      } finally {
        fs.writeFileSync(readme, original);
      }
    });

    it('applies every change with a WorkspaceEdit: the workspace files change, undo works, the shadow empties', async () => {
      const applied = (await vscode.commands.executeCommand('lighthouse.applyAll', {
        agentId: 'claude-e2e',
      })) as string[];
      assert.deepEqual([...applied].sort(), ['README.txt', 'src/greeting.txt']);
      assert.equal(
        fs.readFileSync(path.join(root(), 'src', 'greeting.txt'), 'utf8'),
        'hello from the agent\n',
      );
      assert.equal(fs.readFileSync(path.join(root(), 'README.txt'), 'utf8'), 'changed by the agent\n');
      const changes = await api.bridge.client!.changes({ agent: 'claude-e2e' });
      assert.equal(changes.changes.length, 0);
      // The edit of the existing file is in the editor's undo history.
      const doc = await vscode.workspace.openTextDocument(path.join(root(), 'README.txt'));
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('undo');
      assert.equal(doc.getText(), 'the original readme\n');
      await vscode.commands.executeCommand('redo');
      assert.equal(doc.getText(), 'changed by the agent\n');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('shows a long change list a page at a time: Show more adds the next page', async () => {
      const paths = Array.from({ length: 205 }, (_, i) => `gen/out-${String(i).padStart(3, '0')}.txt`);
      for (const p of paths) {
        const w = await agent!.call('write_file', { path: p, content: `${p}\n` });
        assert.ok(!w.isError, textOf(w));
      }
      const agentNode = await eventually('the agent with 205 changes', async () =>
        (await api.trees.shadow.getChildren()).find(
          (n) => n.kind === 'agent' && n.agentId === 'claude-e2e' && n.count === 205,
        ),
      );
      const isMore = (n: ShadowNode): n is Extract<ShadowNode, { kind: 'more' }> => n.kind === 'more';
      const fileRows = (rows: ShadowNode[]) =>
        rows.flatMap((n) => (n.kind === 'file' ? [n.change.path] : []));
      const first = await api.trees.shadow.getChildren(agentNode);
      assert.deepEqual(fileRows(first), paths.slice(0, 200));
      const more = first.find(isMore)!;
      assert.equal(more.remaining, 5);
      assert.equal(api.trees.shadow.getTreeItem(more).label, 'Show more… (5 more)');
      await vscode.commands.executeCommand('lighthouse.showMoreChanges', more);
      const all = await api.trees.shadow.getChildren(agentNode);
      assert.deepEqual(fileRows(all), paths);
      assert.equal(all.find(isMore), undefined);
      await vscode.commands.executeCommand('lighthouse.discardAll', { agentId: 'claude-e2e', paths });
      assert.equal((await api.bridge.client!.changes({ agent: 'claude-e2e' })).total, 0);
    });

    it('lists live events newest first, filters them and opens one as JSON', async () => {
      const events = api.trees.events;
      const seq = (
        await api.bridge.client!.append({
          stream: 'custom:e2e',
          events: [{ type: 'custom.e2e_marker', data: { n: 1 } }],
        })
      ).events[0]!.seq;
      await eventually('the marker in the Event Log', () =>
        events.getChildren().find((n) => n.kind === 'event' && n.event.seq === seq),
      );
      const first = events.getChildren()[0]!;
      assert.ok(first.kind === 'event' && first.event.seq >= seq, 'newest first');
      await vscode.commands.executeCommand('lighthouse.filterEvents', {
        types: ['shadow.'],
        agent: 'claude-e2e',
      });
      const filtered = events.getChildren().filter((n) => n.kind === 'event');
      assert.ok(filtered.length >= 2);
      assert.ok(
        filtered.every(
          (n) => n.kind === 'event' && n.event.type.startsWith('shadow.') && n.event.agentId === 'claude-e2e',
        ),
      );
      await vscode.commands.executeCommand('lighthouse.clearEventFilter');
      await vscode.commands.executeCommand('lighthouse.openEvent', events.getChildren()[0]);
      const text = vscode.window.activeTextEditor?.document.getText() ?? '';
      assert.equal(
        (JSON.parse(text) as { seq: number }).seq,
        (events.getChildren()[0] as { event: { seq: number } }).event.seq,
      );
      const out = vscode.Uri.file(path.join(root(), '..', 'exported-events.jsonl'));
      await vscode.commands.executeCommand('lighthouse.exportEvents', out);
      const lines = fs.readFileSync(out.fsPath, 'utf8').trim().split('\n');
      assert.ok(lines.some((l) => (JSON.parse(l) as { seq: number }).seq === seq));
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('shows the agent in Agents', async () => {
      const agents = await eventually('claude-e2e in Agents', async () => {
        const list = await api.trees.agents.getChildren();
        return list.some((a) => a.agentId === 'claude-e2e') ? list : undefined;
      });
      const item = api.trees.agents.getTreeItem(agents.find((a) => a.agentId === 'claude-e2e')!);
      assert.match(String(item.description), /^agent/);
    });

    it('shows an escalated command in Reviews and approves it: the agent learns the decision', async () => {
      const v = await agent!.call('validate', { tool: 'Bash', input: { command: ESCALATED } });
      const decision = v.structuredContent as { decision: string; reviewId?: string };
      assert.equal(decision.decision, 'escalate', textOf(v));
      const node = await eventually('the review in Reviews', async () =>
        (await api.trees.reviews.getChildren()).find(
          (n): n is Extract<ReviewNode, { kind: 'review' }> =>
            n.kind === 'review' && n.review.id === decision.reviewId,
        ),
      );
      assert.match(String(api.trees.reviews.getTreeItem(node).label), /^Bash: rm -rf/);
      await vscode.commands.executeCommand(
        'lighthouse.approveReview',
        node,
        'the build dir is always set here',
      );
      const seen = await agent!.call('wait_for_review', { review_id: decision.reviewId, wait_ms: 5000 });
      assert.match(textOf(seen), /approved by developer/);
      assert.equal((await api.trees.reviews.getChildren()).length, 0);
    });

    it("answers an agent's question addressed to the developer", async () => {
      const asked = await agent!.call('ask_agent', {
        to: 'developer',
        question: 'Which port should the dev server use?',
        schema: { type: 'object', properties: { port: { type: 'number' } }, required: ['port'] },
      });
      assert.ok(!asked.isError, textOf(asked));
      const id = (asked.structuredContent as { id: string }).id;
      await eventually('the question in Reviews', async () =>
        (await api.trees.reviews.getChildren()).find(
          (n) => n.kind === 'elicitation' && n.elicitation.id === id,
        ),
      );
      await vscode.commands.executeCommand('lighthouse.answerQuestion', {
        id,
        action: 'accept',
        content: { port: 5173 },
      });
      const checked = await agent!.call('check_elicitation', { elicitation_id: id });
      assert.match(textOf(checked), /5173/);
    });

    it('stops the bridge', async () => {
      await vscode.commands.executeCommand('lighthouse.stop');
      assert.equal(api.bridge.state, 'stopped');
      assert.equal(api.bridge.client, undefined);
    });
  });
}
