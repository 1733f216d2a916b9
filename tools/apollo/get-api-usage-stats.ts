import * as z from 'zod';
import { defineTool } from '../types.js';
import { requireApollo } from './shared.js';
import { warningsShape } from '../warnings.js';

const windowSchema = (name: string) =>
  z
    .object({
      limit: z.number().describe(`Requests allowed per ${name} on this plan`),
      consumed: z.number().describe(`Requests used in the current ${name} window`),
      left_over: z.number().describe(`Requests left in the current ${name} window (limit - consumed when Apollo's own figure disagrees)`),
    })
    .nullable()
    .describe(`The ${name} window; null when Apollo did not report it`);

export default defineTool({
  name: 'apollo_get_api_usage_stats',
  vendor: 'apollo',
  toolsets: ['apollo'],
  title: 'Apollo.io API rate limits and usage',
  description:
    "Returns Apollo.io's per-endpoint API rate limits and current usage per minute, hour and day (POST /usage_stats/api_usage_stats), which vary by plan. " +
    "Apollo uses fixed windows and sends no Retry-After; this server also learns every endpoint's limits from this call, so later calls are paced before their first response. " +
    'Needs a MASTER API key (a scoped key gets 403 with instructions). Spends no credits.',
  inputSchema: {
    endpoint: z.string().max(100).optional().describe('Only endpoints whose name contains this text, e.g. "users" or "people/match"'),
  },
  outputSchema: {
    ...warningsShape,
    endpoints: z
      .array(
        z.object({
          endpoint: z.string().describe('Apollo endpoint name, e.g. api/v1/users/search'),
          bucket: z.string().nullable().describe('Rate-limit bucket of this server for the endpoint (shown by list_connections), or null'),
          minute: windowSchema('minute'),
          hour: windowSchema('hour'),
          day: windowSchema('day'),
        }),
      )
      .describe('One entry per endpoint, sorted by name'),
    learned: z.number().int().describe('Endpoints whose limits the server learned from this answer'),
    returned: z.number().int().describe('Number of entries in `endpoints`'),
    truncated: z.boolean().describe('True when `endpoints` was cut to keep the result small; the complete result is at full_result_uri'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'endpoints',
  async handler(args, ctx) {
    const client = requireApollo(ctx);
    const all = await client.apiUsageStats(ctx.signal);
    const fix = (w: { limit: number; consumed: number; left_over: number } | null) =>
      w === null ? null : { limit: w.limit, consumed: w.consumed, left_over: Math.max(0, Math.min(w.left_over, w.limit - w.consumed)) };
    const filter = args.endpoint?.trim().toLowerCase();
    const endpoints = all
      .filter((e) => !filter || e.endpoint.toLowerCase().includes(filter))
      .map((e) => ({ endpoint: e.endpoint, bucket: e.bucket, minute: fix(e.minute), hour: fix(e.hour), day: fix(e.day) }));
    return {
      endpoints,
      learned: all.filter((e) => e.bucket !== null).length,
      returned: endpoints.length,
      truncated: false,
      full_result_uri: null,
    };
  },
});
