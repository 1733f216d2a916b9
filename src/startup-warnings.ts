import type { Config } from './config.js';
import type { Env } from './env.js';
import { scimEnvNames } from './vendors/connection.js';
import { BUILTIN_ADAPTERS, type Registry } from './vendors/registry.js';

/**
 * What start-up says on stderr about a configuration that is valid but probably not what was meant: a variable
 * set to nothing (a client config with a placeholder left empty), a vendor with some variables but no
 * credential, a SCIM URL without its token, or no vendor at all. Each warning names the variable and what is
 * missing, never a value. Broken configurations are ConfigErrors instead (config.ts); these do not stop
 * start-up, since a server with fewer vendors is still useful.
 */
export function startupWarnings(
  env: Env,
  config: Pick<Config, 'sandbox' | 'vendors'> & Partial<Pick<Config, 'transport' | 'oauth' | 'stateless' | 'redis' | 'confirm' | 'approval' | 'readOnly' | 'httpToken'>>,
  registry: Registry = BUILTIN_ADAPTERS): string[] {
  const out: string[] = [];
  const prefixes = ['SALES_ACCESS_', 'LOG_', ...registry.map((a) => `${a.envPrefix}_`)];
  const empty = Object.keys(env)
    .filter((k) => prefixes.some((p) => k.startsWith(p)) && (env[k] ?? '').trim() === '')
    .sort();
  for (const k of empty) out.push(`${k} is set but empty, so it is ignored: give it a value or remove it.`);
  if (config.oauth && config.transport === 'stdio') {
    out.push('SALES_ACCESS_OAUTH_ISSUER is set, but sign-in with the identity provider applies to the HTTP transport (--http) only: over stdio the audit log names the MCP client.');
  }
  if (config.transport === 'stdio' && (env.SALES_ACCESS_APPROVAL_CLIENT_ID ?? '').trim() !== '') {
    out.push('SALES_ACCESS_APPROVAL_CLIENT_ID is set, but sign-in on the approval page applies to the HTTP transport (--http) only: over stdio the page is on this computer\'s loopback and needs none.');
  }
  if (config.approval?.signIn && config.httpToken !== undefined && !config.readOnly && config.confirm !== 'token' && config.confirm !== 'elicit') {
    out.push(
      'The approval page signs people in (SALES_ACCESS_APPROVAL_CLIENT_ID) and accepts only the person who asked, so a caller with SALES_ACCESS_HTTP_TOKEN, which names no person, cannot get a destructive write approved there (only through MCP elicitation in a session). Give such callers the identity provider\'s sign-in instead.',
    );
  }
  if (config.transport === 'stdio' && /^(1|true)$/.test((env.SALES_ACCESS_HTTP_STATELESS ?? '').trim())) {
    out.push('SALES_ACCESS_HTTP_STATELESS is set, but stateless mode applies to the HTTP transport (--http) only: over stdio it is ignored.');
  }
  if (config.stateless && !config.redis) {
    out.push(
      'Stateless HTTP (--stateless) without SALES_ACCESS_REDIS_URL: offboarding plans, approval requests and background jobs are kept by each replica, so behind a load balancer a call that lands on another replica does not find them. Run one replica, or set SALES_ACCESS_REDIS_URL to share them.',
    );
  }
  if (config.stateless && !config.readOnly && config.confirm !== 'token' && config.approval && !config.approval.pageAvailable) {
    out.push(
      'Stateless HTTP (--stateless) beyond loopback cannot confirm destructive writes: MCP elicitation needs a session, and the approval page is served beyond loopback only when it signs people in. Set SALES_ACCESS_APPROVAL_CLIENT_ID (with SALES_ACCESS_OAUTH_ISSUER and SALES_ACCESS_APPROVAL_BASE_URL), SALES_ACCESS_CONFIRM=token (for clients that show their own per-call approval), or serve --read-only.',
    );
  }
  if (config.sandbox) return out; // every vendor is wired to its simulator

  let configured = 0;
  for (const adapter of registry) {
    const section = config.vendors[adapter.id];
    if (!section) continue; // left out by --vendors
    const rest = adapter.hasCredentials(section.settings);
    const scim = scimEnvNames(adapter);
    if (rest || section.scim) configured += 1;
    if (env[scim.url]?.trim() && !section.scim) {
      out.push(`${scim.url} is set but ${scim.token} is not: ${adapter.label} SCIM is not configured (${adapter.scim.tokenSource}).`);
    }
    const set = Object.keys(env).filter((k) => k.startsWith(`${adapter.envPrefix}_`) && (env[k] ?? '').trim() !== '' && k !== scim.url);
    if (!rest && !section.scim && set.length > 0) {
      out.push(`${set.sort().join(', ')} ${set.length === 1 ? 'is' : 'are'} set, but ${adapter.label} has no credential: set one of ${adapter.credentialVariables.join(', ')} (docs/credentials.md), or ${scim.token}. Its tools are not served.`);
    }
  }
  if (configured === 0) {
    out.push('No vendor is configured, so no vendor tool is served and the workflows have nothing to check. Set a vendor\'s credentials (docs/credentials.md, `sales-access-mcp doctor` checks them), or run with --sandbox to try it.');
  }
  return out;
}
