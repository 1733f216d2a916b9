import * as z from 'zod';
import { defineTool } from '../types.js';
import { SalesloftAccountSchema, requireSalesloft } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'salesloft_get_me',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  title: 'Get the SalesLoft token owner',
  description:
    'Returns the SalesLoft user the configured API key or OAuth token belongs to, and its team. ' +
    'Use it to see whose permissions this server acts with (a personal API key carries all of its owner\'s permissions) and which team it can see: SalesLoft tokens are team-scoped, so only that team\'s users are visible or changeable.',
  inputSchema: {},
  outputSchema: {
    ...warningsShape,
    user: SalesloftAccountSchema.describe('The token\'s owner, e.g. {"id": "30211", "email": "ops.admin@acme.example", "is_admin": true, ...}'),
    team_id: z.string().nullable().describe('The team every call of this server is scoped to, e.g. "4711"; null when SalesLoft does not say'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(_args, ctx) {
    const client = requireSalesloft(ctx);
    const me = await client.getMe(ctx.signal);
    const [account] = await client.toAccounts([me], ctx.signal);
    return { user: account!, team_id: account!.team_id };
  },
});
