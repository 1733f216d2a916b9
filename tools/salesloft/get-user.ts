import { defineTool } from '../types.js';
import { SalesloftAccountSchema, requireSalesloft, userRef, userRefShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'salesloft_get_user',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  lifecycle: true,
  title: 'Get a SalesLoft user',
  description:
    'Reads one SalesLoft user by id or email (deactivated users included) and returns the canonical account (active, role, group, guid, team, admin flag). Tokens are team-scoped: a user of another team is "not found", and the error says so. Several users sharing an email up to case are listed: call again with the id.',
  inputSchema: { ...userRefShape },
  outputSchema: { user: SalesloftAccountSchema.describe('The user as SalesLoft reports it now, e.g. {"id": "30211", "status": "active", ...}'), ...warningsShape },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireSalesloft(ctx);
    const user = await client.resolveUser(userRef(args), ctx.signal);
    const [account] = await client.toAccounts([user], ctx.signal);
    return { user: account! };
  },
});
