/** Labels the extension puts on what it creates, to find them again. */
export const LABELS = {
  managed: 'dev.lighthouse.managed',
  workspace: 'dev.lighthouse.workspace',
  workspacePath: 'dev.lighthouse.workspace-path',
  buildDigest: 'dev.lighthouse.build-digest',
  fuse: 'dev.lighthouse.fuse',
  /** The host folder the FUSE view's parent is bound to (rshared), when it is. */
  hostView: 'dev.lighthouse.host-view',
} as const;
