import type { ProbeContext, ProbeReport } from '../probe.js';
import type { ZoomInfoRest } from './adapter.js';

/**
 * The usage endpoint: it needs the JWT login (POST /authenticate), so it shows the username and password are
 * accepted, and it reports the credits used and left, without spending any. ZoomInfo publishes no rate-limit
 * headers: the headroom shown is the client's own pace (the caller reads the budget).
 */
export async function probeZoomInfo(rest: ZoomInfoRest, ctx: ProbeContext): Promise<ProbeReport> {
  const usage = await rest.client.usage(ctx.signal);
  const known = usage.credits_remaining !== null || usage.credits_used !== null;
  return {
    key_kind: 'API user login (JWT, 60 minutes)',
    checks: [{ name: 'credential', status: 'ok', detail: `the API login is accepted${known ? '' : `; ${usage.path} reports no credit counter`}` }],
    ...(known ? { credits: { used: usage.credits_used, remaining: usage.credits_remaining, limit: usage.credits_limit, source: `annual allotment (${usage.path})` } } : {}),
    rate_limit: {
      name: 'rate limit',
      status: 'ok',
      detail: `ZoomInfo reports no headroom (its limits are contractual): this server paces itself at ${rest.client.rateLimitPerMinute ?? '?'} requests per minute and slows down on a 429`,
    },
  };
}
