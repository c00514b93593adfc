/** Every tool the MCP server offers, and how each is annotated: one list for all the MCP tests. */
export const TOOLS = [
  'status',
  'health',
  'validate',
  'read_file',
  'write_file',
  'edit_file',
  'delete_file',
  'move_file',
  'list_directory',
  'tree',
  'search_files',
  'shadow_diff',
  'shadow_changes',
  'acquire_lease',
  'renew_lease',
  'release_lease',
  'list_leases',
  'add_annotation',
  'list_annotations',
  'resolve_annotation',
  'store_event',
  'query_events',
  'register_expert',
  'list_agents',
];

export const READ_ONLY = new Set([
  'status',
  'health',
  'validate',
  'read_file',
  'list_directory',
  'tree',
  'search_files',
  'shadow_diff',
  'shadow_changes',
  'list_leases',
  'list_annotations',
  'query_events',
  'list_agents',
]);

/** Tools that replace or remove file content in the agent's shadow. */
export const DESTRUCTIVE = new Set(['write_file', 'edit_file', 'delete_file', 'move_file']);
