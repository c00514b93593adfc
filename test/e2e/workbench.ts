import type { Locator, Page } from 'playwright-core';

/** Driving the VS Code workbench in the page the way a person does: palette, views, tree rows. */
export class Workbench {
  constructor(readonly page: Page) {}

  async ready(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The extension's status bar item: it is active and its commands are registered.
    await this.page.locator('.statusbar-item', { hasText: 'Lighthouse:' }).waitFor({ timeout: 60_000 });
  }

  /** F1, the command's title, Enter; tried again while the palette does not list it yet (start-up). */
  async command(title: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    for (let attempt = 0; ; attempt++) {
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ timeout: 5000 });
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
      }
    }
    await this.page.keyboard.press('Enter');
  }

  /** Accepts an input box with what it proposes (or `text`). */
  async answerInput(text?: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    if (text !== undefined) await input.fill(text);
    await this.page.keyboard.press('Enter');
  }

  /** A notification with this text, as a toast or, once that has gone, in the notification centre. */
  async notification(text: string, timeout = 60_000): Promise<Locator> {
    const item = this.page.locator('.notification-list-item', { hasText: text }).first();
    const deadline = Date.now() + timeout;
    for (;;) {
      if (await item.isVisible()) return item;
      if (Date.now() > deadline) throw new Error(`no notification saying "${text}" within ${timeout} ms`);
      // A toast that is not on screen (the window had no focus, or it timed out) is still in the centre.
      await this.command('Notifications: Show Notifications');
      await this.page.waitForTimeout(1000);
    }
  }

  statusItem(text: string): Locator {
    return this.page.locator('.statusbar-item', { hasText: text });
  }

  pane(title: string): Locator {
    return this.page.locator('.pane', { has: this.page.locator('.pane-header', { hasText: title }) });
  }

  row(pane: Locator, text: string): Locator {
    return pane.locator('.monaco-list-row', { hasText: text }).first();
  }

  /** Hovers a tree row and clicks one of its inline actions. */
  async rowAction(row: Locator, action: string): Promise<void> {
    await row.hover();
    await row.locator(`.action-label[aria-label^="${action}"]`).click();
  }
}
