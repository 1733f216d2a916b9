import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { MockAgent } from 'undici';
import { loadConfig, parseCliArgs } from '../../src/config.js';
import { closeApprovals } from '../../src/confirm/approvals.js';
import { createDeps, type Deps } from '../../src/deps.js';
import type { Logger } from '../../src/log.js';
import { silentLogger } from '../../src/log.js';
import { createServer } from '../../src/server.js';
import { toolsetFlags } from './stack.js';

/** Where the vendors live in MockAgent-backed stacks (https, so real credential rules apply). */
export const MOCK_ORIGINS = {
  outreach: 'https://api.outreach.test',
  salesloft: 'https://api.salesloft.test',
  apollo: 'https://api.apollo.test',
  zoominfo: 'https://api.zoominfo.test',
  scim: 'https://scim.vendor.test',
} as const;

/** Base URL variables pointing every vendor at MOCK_ORIGINS (credentials are the caller's). */
export const MOCK_BASE_URLS: Record<string, string> = {
  OUTREACH_BASE_URL: `${MOCK_ORIGINS.outreach}/api/v2`,
  OUTREACH_TOKEN_URL: `${MOCK_ORIGINS.outreach}/oauth/token`,
  SALESLOFT_BASE_URL: `${MOCK_ORIGINS.salesloft}/v2`,
  SALESLOFT_TOKEN_URL: `${MOCK_ORIGINS.salesloft}/oauth/token`,
  APOLLO_BASE_URL: `${MOCK_ORIGINS.apollo}/api/v1`,
  APOLLO_TOKEN_URL: `${MOCK_ORIGINS.apollo}/oauth/token`,
  ZOOMINFO_BASE_URL: MOCK_ORIGINS.zoominfo,
};

export interface MockStack {
  client: Client;
  deps: Deps;
  stateDir: string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  auditText(): string;
  close(): Promise<void>;
}

/**
 * The real server with real (non-sandbox) configuration read from `env`, its vendor requests answered by an
 * undici MockAgent, and a real SDK client over an in-memory transport.
 */
export async function startMockStack(opts: { env: Record<string, string>; agent: MockAgent; flags?: string[]; elicit?: ElicitResult; log?: Logger }): Promise<MockStack> {
  const stateDir = opts.env.SALES_ACCESS_STATE_DIR ?? mkdtempSync(join(tmpdir(), 'sam-mock-'));
  // Every toolset unless the flags choose (tool tests call tools outside the default set).
  const config = loadConfig(parseCliArgs([...toolsetFlags(opts.flags), ...(opts.flags ?? [])]), { SALES_ACCESS_STATE_DIR: stateDir, SALES_ACCESS_CONFIRM: 'elicit', ...opts.env });
  const deps = await createDeps(config, { log: opts.log ?? silentLogger, dispatcher: opts.agent, retryBaseDelayMs: 1 });
  const server = createServer(deps);
  const client = new Client({ name: 'mock-client', version: '1.0.0' }, { capabilities: opts.elicit ? { elicitation: { form: {} } } : {} });
  if (opts.elicit) {
    const answer = opts.elicit;
    client.setRequestHandler(ElicitRequestSchema, async () => answer);
  }
  const [c, s] = InMemoryTransport.createLinkedPair();
  await server.connect(s);
  await client.connect(c);
  await client.listTools();
  return {
    client,
    deps,
    stateDir,
    call: (name, args = {}) => client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>,
    auditText: () => {
      try {
        return readFileSync(config.auditLogPath, 'utf8');
      } catch {
        return '';
      }
    },
    async close() {
      await client.close();
      await server.close();
      await closeApprovals(deps);
      await deps.close();
    },
  };
}
