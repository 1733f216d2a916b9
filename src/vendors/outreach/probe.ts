import { scopeRead, scopeReport, type ProbeContext, type ProbeReport } from '../probe.js';
import type { OutreachRest } from './adapter.js';
import { RECORD_KINDS, RECORD_SCOPES } from './records.js';

/**
 * The scopes each toolset's Outreach tools need (notes, "Required scopes"): the workflows read users and lock
 * them, and an offboarding hands records over and unlinks mailboxes (RECORD_SCOPES); the Outreach tools also
 * create and update users, resolving roles and profiles by name. users.delete is not needed: nothing here
 * deletes a user through REST (there is no REST delete).
 */
export const OUTREACH_NEEDED_SCOPES: Record<string, readonly string[]> = {
  workflows: ['users.read', 'users.write', ...RECORD_SCOPES],
  outreach: ['users.read', 'users.write', 'roles.read', 'profiles.read', 'mailboxes.read'],
};

/**
 * Reads one user, the roles and the profiles: the first read shows the credential is accepted (a 401 is the
 * caller's to report), and each read shows its scope (403: missing). users.write cannot be shown without a
 * write, so it comes from the scopes granted with the stored token, when known. The rate-limit headroom comes
 * from the X-RateLimit-* headers of these reads (the caller reads the budget afterwards).
 */
export async function probeOutreach(rest: OutreachRest, ctx: ProbeContext): Promise<ProbeReport> {
  const { client } = rest;
  const reads = new Map<string, 'granted' | 'missing'>();
  let users: number | undefined;
  reads.set(
    'users.read',
    await scopeRead(async () => {
      users = (await client.listUsers({ pageSize: 1, offset: 0, signal: ctx.signal })).total;
    }),
  );
  reads.set('roles.read', await scopeRead(() => client.listRoles(ctx.signal)));
  reads.set('profiles.read', await scopeRead(() => client.listProfiles(ctx.signal)));
  // One record of each collection an offboarding hands over, and one mailbox: each read shows its scope.
  for (const kind of [...RECORD_KINDS, 'mailboxes' as const]) reads.set(`${kind}.read`, await scopeRead(() => rest.records.probe(kind, ctx.signal)));
  const { scopes, checks } = scopeReport(
    OUTREACH_NEEDED_SCOPES,
    reads,
    ctx.grantedScopes,
    'Add it to the Outreach OAuth app and run `sales-access-mcp auth outreach` again (a static OUTREACH_ACCESS_TOKEN must be issued with it).',
  );
  return {
    key_kind: rest.authKind === 'bearer' ? 'static access token' : rest.authKind === 'oauth_client_credentials' ? 'OAuth client credentials' : 'OAuth token (refreshed)',
    checks: [{ name: 'credential', status: 'ok', detail: `accepted${users === undefined ? '' : `; ${users} users visible`}` }, ...checks],
    scopes,
  };
}
