process.stderr.write('lighthouse-mcp: see issue 5\n');
