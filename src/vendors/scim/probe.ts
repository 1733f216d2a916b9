import { VendorError } from '../../errors.js';
import type { ProbeCheck, ProbeReport } from '../probe.js';
import type { ScimClient } from './client.js';

/**
 * Any vendor's SCIM 2.0 connection: GET /ServiceProviderConfig (what the server supports) and a one-user page
 * of /Users (the token is valid and may read users; the total is the seat count SCIM sees). A 401 is left to
 * the caller (token rejected); a 403 or 404 usually means the plan has no SCIM or it is not enabled, so the
 * check names the plan the vendor notes require.
 */
export async function probeScim(client: ScimClient, opts: { plan: string; signal?: AbortSignal }): Promise<ProbeReport> {
  const checks: ProbeCheck[] = [];
  try {
    const caps = await client.serviceProviderConfig();
    const users = await client.listUsers({ count: 1, signal: opts.signal });
    checks.push({ name: 'token', status: 'ok', detail: `accepted${users.totalResults === undefined ? '' : `; ${users.totalResults} users`}` });
    checks.push({
      name: 'ServiceProviderConfig',
      status: 'ok',
      detail:
        caps.source === 'server'
          ? `PATCH ${caps.patch ? 'yes' : 'no (PUT is used)'}, ETag ${caps.etag ? 'yes' : 'no'}, filter ${caps.filter ? 'yes' : 'no'}, up to ${caps.maxResults} per page`
          : 'not published: conservative defaults are used',
    });
  } catch (err) {
    if (!(err instanceof VendorError) || (err.code !== 'forbidden' && err.code !== 'not_found')) throw err;
    checks.push({ name: 'SCIM users', status: 'problem', detail: `${err.message} SCIM requires: ${opts.plan}; check that it is enabled for this tenant and that the URL is the SCIM base URL.` });
  }
  return { checks };
}
