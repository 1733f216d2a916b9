import { scopeReport, type ProbeContext, type ProbeReport } from '../probe.js';
import type { SalesloftRest } from './adapter.js';

/** Notes, "Required scopes": read for the user listings, write for deactivation. */
export const SALESLOFT_NEEDED_SCOPES: Record<string, readonly string[]> = {
  workflows: ['read', 'write'],
  salesloft: ['read', 'write'],
};

/**
 * GET /me: the credential is accepted (`read` granted), whose it is and which team it reaches (tokens are
 * team-scoped), and the cost budget left this minute (x-ratelimit-remaining-minute, read by the caller from
 * the budget). A personal API key has no scopes: it carries its user's permissions, so deactivating needs a
 * key of a team admin.
 */
export async function probeSalesloft(rest: SalesloftRest, ctx: ProbeContext): Promise<ProbeReport> {
  const [me] = await rest.client.toAccounts([await rest.client.getMe(ctx.signal)], ctx.signal);
  const admin = me?.is_admin === true;
  const team = me?.team_id;
  const checks: ProbeReport['checks'] = [
    { name: 'credential', status: 'ok', detail: `accepted${team !== undefined && team !== null ? ` for team ${team}` : ''}` },
    admin
      ? { name: 'team admin', status: 'ok', detail: 'the credential belongs to a team admin' }
      : {
          name: 'team admin',
          status: 'warning',
          detail: 'the credential does not belong to a team admin: listing works, but SalesLoft may refuse deactivation. Use a key or OAuth grant of an admin.',
          needed_by: ['workflows', 'salesloft'],
        },
  ];
  if (rest.authKind !== 'oauth_refresh') {
    checks.push({ name: 'scopes', status: 'ok', detail: 'a personal API key has no scopes: it acts with its user\'s permissions' });
    return { key_kind: 'personal API key', checks };
  }
  const scoped = scopeReport(SALESLOFT_NEEDED_SCOPES, new Map([['read', 'granted']]), ctx.grantedScopes, 'Enable it for the SalesLoft OAuth app and run `sales-access-mcp auth salesloft` again.');
  return { key_kind: 'OAuth token (refreshed)', checks: [...checks, ...scoped.checks], scopes: scoped.scopes };
}
