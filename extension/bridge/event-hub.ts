import * as vscode from 'vscode';
import type { Event } from '../../bridge-image/protocol/index.js';

/** Fans the bridge's live events out to the views: each listens for the types it shows. */
export class EventHub implements vscode.Disposable {
  private readonly batchEmitter = new vscode.EventEmitter<readonly Event[]>();
  private pending: Event[] = [];
  private scheduled = false;
  /** Events in batches (one per tick): for views that redraw, so a burst costs one redraw. */
  readonly onEvents = this.batchEmitter.event;

  push(e: Event): void {
    this.pending.push(e);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const batch = this.pending;
        this.pending = [];
        this.batchEmitter.fire(batch);
      });
    }
  }

  dispose(): void {
    this.batchEmitter.dispose();
  }
}
