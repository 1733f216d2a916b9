import { isForbidden, type ProbeCheck, type ProbeContext, type ProbeReport } from '../probe.js';
import type { ApolloRest } from './adapter.js';

/** What needs the teammate listing (a master key, or the OAuth scope for it): the reviews, lookups and plans, and apollo_list_users. */
const TEAMMATES_NEEDED_BY = ['workflows', 'apollo'];

/**
 * Who owns the credential (GET /users/api_profile for a key, /auth/health for a token), then one teammate page:
 * it is what the workflows need, and a scoped key gets 403 there ("Requires a master API key"), which is how a
 * master key is told from a scoped one. Credits: the team's lead credits this cycle (View Credit Usage Stats,
 * master key), the ones enrichment spends. Rate-limit headroom comes from the x-*-requests-left headers of
 * these calls (the caller reads the budget afterwards).
 */
export async function probeApollo(rest: ApolloRest, ctx: ProbeContext): Promise<ProbeReport> {
  const { client } = rest;
  const owner = await client.tokenOwner(ctx.signal);
  const checks: ProbeCheck[] = [{ name: 'credential', status: 'ok', detail: `accepted; it belongs to ${owner.email ?? `user ${owner.id}`}` }];
  const isKey = rest.authKind === 'api_key';
  let teammates = false;
  try {
    const page = await client.listUsersPage({ page: 1, perPage: 1, signal: ctx.signal });
    teammates = true;
    checks.push({ name: isKey ? 'master key' : 'teammate listing', status: 'ok', detail: `teammates can be listed${page.totalEntries === undefined ? '' : ` (${page.totalEntries})`}` });
  } catch (err) {
    if (!isForbidden(err)) throw err;
    // The client's message already says what to do (create a master key, or which OAuth scope is missing).
    checks.push({ name: isKey ? 'master key' : 'teammate listing', status: 'problem', detail: err.message, needed_by: TEAMMATES_NEEDED_BY });
  }
  let credits: ProbeReport['credits'];
  if (teammates) {
    try {
      const lead = (await client.creditUsageStats(ctx.signal)).credit_usage_stats.lead_credit;
      if (lead) credits = { used: lead.consumed, remaining: lead.left_over, limit: lead.limit, source: 'lead credits this billing cycle (credit_usage_stats)' };
    } catch (err) {
      if (!isForbidden(err)) throw err;
      checks.push({ name: 'credit usage', status: 'skipped', detail: err.message });
    }
  }
  return { key_kind: isKey ? (teammates ? 'master API key' : 'scoped API key (not a master key)') : 'OAuth token', checks, ...(credits ? { credits } : {}) };
}
