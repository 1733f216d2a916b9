import { readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Deps } from './deps.js';
import { RESULT_URI_PREFIX } from './results.js';
import { evidenceRoot } from './workflows/report.js';
import { sharedEvidence } from './workflows/shared-evidence.js';

export const EVIDENCE_URI_PREFIX = 'sales-access://evidence/';
const EVIDENCE_TYPES: Record<string, string> = { csv: 'text/csv', json: 'application/json', html: 'text/html' };
const EVIDENCE_FILE = /^access-review-[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.(csv|json|html)$/;

/** Resources: large tool results, the capability matrix, the recent audit log, and access-review evidence. */
export function registerResources(server: McpServer, deps: Deps): void {
  server.registerResource(
    'tool-result',
    new ResourceTemplate(`${RESULT_URI_PREFIX}{id}`, { list: undefined }),
    { title: 'Complete tool result', description: 'A tool result too large to return inline', mimeType: 'application/json' },
    async (uri, vars) => {
      const id = String(vars.id);
      const text = await deps.results.read(id);
      if (text === undefined) throw new Error(`No stored result ${id}; results are kept for a day (SALES_ACCESS_RESULT_RETENTION_HOURS).`);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text }] };
    },
  );

  server.registerResource(
    'capabilities',
    'sales-access://capabilities',
    {
      title: 'Capability matrix',
      description: 'Per vendor: which lifecycle operations are possible through REST, SCIM or only the admin UI, and what is connected here',
      mimeType: 'application/json',
    },
    async (uri) => {
      const body = deps.vendors.map((c) => ({ vendor: c.adapter.id, label: c.adapter.label, rest_connected: c.rest !== undefined, scim_connected: c.scim !== undefined, ...c.adapter.capabilities }));
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] };
    },
  );

  server.registerResource(
    'audit-recent',
    'sales-access://audit/recent',
    { title: 'Recent audit log entries', description: 'The last 100 lines of the write audit log (intent and outcome of every write)', mimeType: 'application/json' },
    async (uri) => {
      const lines = await deps.audit.recent(100);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(lines, null, 2) }] };
    },
  );

  server.registerResource(
    'review-evidence',
    new ResourceTemplate(`${EVIDENCE_URI_PREFIX}{file}`, { list: undefined }),
    { title: 'Access review evidence', description: 'CSV, JSON and HTML evidence written by access_review' },
    async (uri, vars) => {
      const file = String(vars.file);
      const m = EVIDENCE_FILE.exec(file);
      if (!m) throw new Error('Unknown evidence file: expected access-review-<id>.csv, .json or .html as access_review returned it.');
      const root = await realpath(evidenceRoot(deps.config.stateDir)).catch(() => undefined);
      const path = await realpath(join(evidenceRoot(deps.config.stateDir), file)).catch(() => undefined);
      const local = root && path && path.startsWith(root + sep) ? await readFile(path, 'utf8') : undefined;
      // Written by another replica: its copy in Redis.
      const text = local ?? (deps.redis ? await sharedEvidence(deps.redis, file) : undefined);
      if (text === undefined) throw new Error(`No evidence file ${file} on this server.`);
      return { contents: [{ uri: uri.href, mimeType: EVIDENCE_TYPES[m[1]], text }] };
    },
  );
}
