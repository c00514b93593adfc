/** Labels the extension puts on what it creates, to find them again. */
export const LABELS = {
  managed: 'dev.lighthouse.managed',
  workspace: 'dev.lighthouse.workspace',
  workspacePath: 'dev.lighthouse.workspace-path',
  buildDigest: 'dev.lighthouse.build-digest',
  fuse: 'dev.lighthouse.fuse',
} as const;
