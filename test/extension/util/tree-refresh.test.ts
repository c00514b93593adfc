import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { treeRefresher, VSCODE_TREE_DEBOUNCE_MS } from '../../../extension/util/tree-refresh.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

it('passes an isolated change on at once', () => {
  const fired: number[] = [];
  const refresh = treeRefresher(() => fired.push(performance.now()));
  refresh();
  expect(fired).toHaveLength(1);
  vi.advanceTimersByTime(1000);
  refresh();
  expect(fired).toHaveLength(2);
});

it('in a steady stream fires once per window, each past VS Code’s hold, and always after the last change', () => {
  const fired: number[] = [];
  const refresh = treeRefresher(() => fired.push(performance.now()));
  for (let t = 0; t < 2000; t += 20) {
    refresh();
    vi.advanceTimersByTime(20);
  }
  const lastCall = 1980;
  vi.advanceTimersByTime(1000);
  // Not starved by the stream (a trailing debounce would fire once, at the end)...
  expect(fired.length).toBeGreaterThanOrEqual(8);
  // ...never closer together than VS Code's hold, so each refresh is drawn at once...
  for (let i = 1; i < fired.length; i++)
    expect(fired[i]! - fired[i - 1]!).toBeGreaterThan(VSCODE_TREE_DEBOUNCE_MS);
  // ...and the last change is not lost.
  expect(fired.at(-1)!).toBeGreaterThanOrEqual(lastCall);
});

it('a change close behind another waits only for the rest of the window', () => {
  const fired: number[] = [];
  const refresh = treeRefresher(() => fired.push(performance.now()));
  refresh();
  vi.advanceTimersByTime(150);
  refresh();
  vi.advanceTimersByTime(59);
  expect(fired).toHaveLength(1);
  vi.advanceTimersByTime(1);
  expect(fired).toHaveLength(2);
  expect(fired[1]! - fired[0]!).toBe(VSCODE_TREE_DEBOUNCE_MS + 10);
});

it('cancel drops a pending refresh', () => {
  const fired: number[] = [];
  const refresh = treeRefresher(() => fired.push(performance.now()));
  refresh();
  refresh();
  refresh.cancel();
  vi.advanceTimersByTime(1000);
  expect(fired).toHaveLength(1);
});
