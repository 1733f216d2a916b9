import { defineTool } from '../types.js';
import { SalesloftAccountSchema, requireSalesloft, userRef, userRefShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'salesloft_get_user',
  vendor: 'salesloft',
  title: 'Get a SalesLoft user',
  description:
    'Reads one SalesLoft user by id or by email (matched case-insensitively, deactivated users included) and returns the canonical account with active flag, role, group, guid, team and admin flag. ' +
    'Use it to check a user\'s state before or after a change. SalesLoft API tokens are team-scoped: a user of another team answers "not found", and the error says so. ' +
    'When several users share an email up to letter case, the error lists them: call again with the id.',
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
