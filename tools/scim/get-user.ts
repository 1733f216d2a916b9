import * as z from 'zod';
import { defineTool } from '../types.js';
import { connectionOutputShape, connectionShape, requireScim, ScimAccountSchema, toAccount, userRef, userRefShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_get_user',
  vendor: null,
  toolsets: ['scim'],
  lifecycle: true,
  requires: 'scim',
  title: 'Get a user through SCIM',
  description:
    'Reads one user of a vendor\'s SCIM 2.0 connection by SCIM id or userName and returns the canonical account (userName, externalId, active; for SalesLoft whether the invitation is pending). When several users share a userName up to letter case, the error lists them: call again with the id.',
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
