import * as z from 'zod';
import { OPERATIONS } from '../src/domain/capabilities.js';
import { defineTool } from './types.js';

const pathEnum = z.enum(['rest', 'scim', 'ui', 'none']);

export default defineTool({
  name: 'list_connections',
  vendor: null,
  toolsets: ['workflows'],
  title: 'List vendor connections and capabilities',
  description:
    'Per vendor: whether REST and SCIM are configured (auth kind, SCIM URL), which lifecycle operations REST, SCIM or only the admin UI can do, the main caveats (e.g. an Outreach lock keeps the seat) and the rate-limit budget. Makes no vendor calls: check_connections tests the credentials live.',
  inputSchema: {},
  outputSchema: {
    sandbox: z.boolean().describe('True when every vendor is wired to the embedded simulators'),
    confirmation_mode: z.string().describe('How destructive writes are confirmed (SALES_ACCESS_CONFIRM)'),
    read_only: z.boolean().describe('True when the server only registers read-only tools'),
    vendors: z
      .array(
        z.object({
          vendor: z.string().describe('Vendor id, e.g. "outreach"; tools and arguments use it'),
          label: z.string().describe('Vendor name as admins know it, e.g. "Apollo.io"'),
          configured: z.boolean().describe('True when REST or SCIM credentials are configured'),
          auth_kind: z.string().nullable().describe('REST auth: bearer, oauth_refresh, oauth_client_credentials, api_key, jwt_login; null when not configured'),
          rest_available: z.boolean().describe('REST API usable with the configured credentials'),
          scim_available: z.boolean().describe('SCIM 2.0 connection configured'),
          scim_url: z.string().nullable().describe('SCIM base URL (never the token)'),
          scim_plan: z.string().describe('Vendor plan that SCIM requires'),
          capabilities: z
            .record(z.enum(OPERATIONS), z.array(pathEnum))
            .describe('Per lifecycle operation, the paths that can perform it: rest, scim, ui (admin console only) or none'),
          caveats: z.array(z.string()).describe('What deactivation does and does not do in this vendor'),
          rate_limit: z
            .object({
              identity: z.string().describe('Non-secret identity the limiter is keyed by'),
              windows: z.array(
                z.object({
                  name: z.string().describe('Window name, e.g. hour'),
                  bucket: z.string().describe('Limiter bucket (endpoint group)'),
                  limit: z.number().describe('Requests (or cost units) allowed per window'),
                  remaining: z.number().nullable().describe('Left in the current window, when known'),
                  resets_at: z.string().nullable().describe('ISO time the window resets, when known'),
                }),
              ).describe('Each rate-limit window the server tracks for this credential'),
              last_429_at: z.string().nullable().describe('Last time the vendor answered 429'),
            })
            .nullable()
            .describe('Current budget; null without a REST connection'),
        }),
      )
      .describe('One entry per vendor'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(_args, ctx) {
    const { config, vendors } = ctx.deps;
    return {
      sandbox: config.sandbox,
      confirmation_mode: config.confirm,
      read_only: config.readOnly,
      vendors: vendors.map(({ adapter, rest, scim, scimUrl }) => ({
        vendor: adapter.id,
        label: adapter.label,
        configured: rest !== undefined || scim !== undefined,
        auth_kind: rest?.authKind ?? null,
        rest_available: rest !== undefined,
        scim_available: scim !== undefined,
        scim_url: scimUrl,
        scim_plan: adapter.capabilities.scim_plan,
        capabilities: adapter.capabilities.operations,
        caveats: adapter.capabilities.caveats,
        rate_limit: rest ? rest.budget() : null,
      })),
    };
  },
});
