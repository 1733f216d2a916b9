import * as z from 'zod';
import { defineTool } from '../types.js';
import { connectionOutputShape, connectionShape, requireScim, ScimAccountSchema, toAccount, userRef, userRefShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_get_user',
  vendor: null,
  requires: 'scim',
  title: 'Get a user through SCIM',
  description:
    'Reads one user of a SCIM 2.0 connection (outreach, salesloft, apollo or zoominfo) by SCIM id or by userName (matched case-insensitively) and returns the canonical account with userName, externalId, active and, for SalesLoft, whether the invitation is still pending. ' +
    'Use it to check a user before or after provisioning or deprovisioning. When several users share a userName up to letter case, the error lists them: call again with the id.',
  inputSchema: (vendorIds) => ({ ...connectionShape(vendorIds), ...userRefShape }),
  outputSchema: {
    ...warningsShape,
    ...connectionOutputShape,
    user: ScimAccountSchema.describe('The user as the SCIM server reports it now'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const user = await client.resolveUser(userRef(args), ctx.signal);
    return { connection: args.connection, user: toAccount(client, user) };
  },
});
