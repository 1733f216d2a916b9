import * as z from 'zod';
import { runChecks } from '../../src/doctor.js';
import { defineTool } from '../types.js';

const status = z.enum(['ok', 'warning', 'problem', 'skipped']);
const check = z.object({
  name: z.string().describe('What was checked, e.g. "credential", "scope roles.read", "master key"'),
  status: status.describe('ok, warning, problem or skipped'),
  detail: z.string().describe('What was found and, for a problem, what to do'),
  needed_by: z.array(z.string()).optional().describe('Toolsets that need this check to pass'),
});

export default defineTool({
  name: 'check_connections',
  vendor: null,
  toolsets: ['workflows'],
  title: 'Check vendor connections live',
  description:
    'Probes every configured vendor live and read-only, as `sales-access-mcp doctor` does: credential accepted, key kind (e.g. Apollo master key or not), OAuth scopes present versus needed per toolset, SCIM reachable and its token valid, the rate-limit headroom the vendor reports, and credits. Spends no credits and writes nothing. Call it when a tool fails on access, or before an access review.',
  inputSchema: (vendorIds) => ({
    vendors: z.array(z.enum(vendorIds)).optional().describe('Only these vendors; default all enabled'),
  }),
  outputSchema: {
    ok: z.boolean().describe('True when no check found a problem'),
    sandbox: z.boolean().describe('True when the vendors are the embedded simulators'),
    checked_at: z.string().describe('ISO time of the checks'),
    toolsets: z.array(z.string()).describe('Toolsets this server serves; a problem only others would hit is a warning'),
    vendors: z
      .array(
        z.object({
          vendor: z.string().describe('Vendor id'),
          label: z.string().describe('Vendor name'),
          status: z.enum(['ok', 'warning', 'problem', 'skipped', 'not_configured']).describe('The worst of its checks'),
          rest: z
            .object({
              auth_kind: z.string().describe('How the server authenticates'),
              key_kind: z.string().nullable().describe('The credential as the vendor sees it, e.g. "master API key"'),
              checks: z.array(check).describe('REST checks in order'),
              scopes: z
                .object({
                  granted: z.array(z.string()).nullable().describe('Scopes granted with the stored token; null when not known'),
                  needed: z.record(z.string(), z.array(z.string())).describe('Scopes each toolset needs'),
                  missing: z.array(z.string()).describe('Needed scopes the vendor refused'),
                  unverified: z.array(z.string()).describe('Needed scopes no read can show'),
                })
                .nullable()
                .describe('OAuth scopes; null for vendors or keys without them'),
              rate_limit: z
                .array(
                  z.object({
                    window: z.string().describe('Window, e.g. hour'),
                    bucket: z.string().describe('Limiter bucket (endpoint group)'),
                    limit: z.number().describe('Allowed per window'),
                    remaining: z.number().describe('Left, as the vendor reported'),
                    resets_at: z.string().nullable().describe('When the window resets'),
                  }),
                )
                .describe('Rate-limit headroom after the probe (from the vendor\'s headers where it sends them)'),
            })
            .nullable()
            .describe('The REST connection; null without REST credentials'),
          scim: z.object({ url: z.string().describe('SCIM base URL (never the token)'), checks: z.array(check).describe('SCIM checks') }).nullable().describe('The SCIM connection; null when not configured'),
          credits: z
            .object({
              vendor: z
                .object({
                  used: z.number().nullable().describe('Credits used'),
                  remaining: z.number().nullable().describe('Credits left'),
                  limit: z.number().nullable().describe('Allotment'),
                  source: z.string().describe('Which counter'),
                })
                .nullable()
                .describe('What the vendor reports'),
              budget: z.number().describe('SALES_ACCESS_CREDIT_BUDGET per month'),
              budget_remaining: z.number().describe('Left of it this month'),
              month: z.string().describe('Month of the budget, e.g. "2026-12"'),
            })
            .nullable()
            .describe('Credits, for vendors whose calls spend them'),
          hint: z.string().nullable().describe('For a vendor not configured: what to set'),
        }),
      )
      .describe('One entry per enabled vendor'),
    problems: z.array(z.string()).describe('One line per problem'),
    warnings: z.array(z.string()).describe('One line per warning'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const { deps } = ctx;
    const report = await runChecks({ config: deps.config, vendors: deps.vendors, tokens: deps.tokens, credits: deps.credits, now: () => deps.clock.now() }, { vendors: args.vendors, signal: ctx.signal });
    // ProbeCheck.needed_by is readonly in the report; the schema's arrays are the same data.
    return report as never;
  },
});
