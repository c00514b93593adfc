/**
 * How VS Code passes a tree's onDidChangeTreeData on (ExtHostTreeView): at once when the previous
 * change is more than 200 ms old, otherwise held until 200 ms pass without another. A steady stream
 * of changes would so never be drawn, and any change close behind another waits a full 200 ms.
 */
export const VSCODE_TREE_DEBOUNCE_MS = 200;

/**
 * Calls `fire` at once when the last call is more than `windowMs` old, and otherwise once at the end
 * of that window (however many calls came meanwhile). With the default window, every refresh reaches
 * VS Code when its hold has lapsed, so it is drawn at once, and a change is never more than the window
 * away from the screen, even in a steady stream.
 */
export function treeRefresher(
  fire: () => void,
  windowMs = VSCODE_TREE_DEBOUNCE_MS + 10,
): { (): void; cancel(): void } {
  let last = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    timer = undefined;
    last = performance.now();
    fire();
  };
  const refresh = () => {
    if (timer) return;
    const wait = last + windowMs - performance.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
  refresh.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  return refresh;
}
