import { defineTool } from '../types.js';
import { OutreachAccountSchema, requireOutreach, userRef, userRefShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'outreach_get_user',
  vendor: 'outreach',
  toolsets: ['outreach'],
  lifecycle: true,
  title: 'Get an Outreach user',
  description:
    'Reads one Outreach user by id or email and returns the canonical account (locked, active, role, profile, admin flag). When several users share an email up to letter case, the error lists them: call again with the id.',
  inputSchema: { ...userRefShape },
  outputSchema: { user: OutreachAccountSchema.describe('The user as Outreach reports it now'), ...warningsShape },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireOutreach(ctx);
    const { account } = await client.resolveAccount(userRef(args), ctx.signal);
    return { user: account };
  },
});
