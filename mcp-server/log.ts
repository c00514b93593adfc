/**
 * Diagnostics for whoever runs the MCP server. stdout carries the MCP protocol, so every line
 * written here goes to stderr; a stray byte on stdout would corrupt the client's JSON-RPC stream.
 */
export function logLine(message: string): void {
  process.stderr.write(`lighthouse-mcp: ${message}\n`);
}
