import * as z from 'zod';
import { scimDeprovisionChange } from '../../src/vendors/scim/changes.js';
import { runChange } from '../change-tool.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, confirmShape, connectionShape, describeUser, requireScim, scimAdapter, tokenMatches, toAccount, userRef, userRefShape, userWriteOutputShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_deprovision_user',
  vendor: null,
  toolsets: ['scim'],
  lifecycle: true,
  requires: 'scim',
  title: 'Deprovision a user through SCIM',
  description:
    'Deactivates a user as an identity provider offboards them: SCIM active=false through the vendor\'s SCIM 2.0 connection, then re-reads to confirm. An already-inactive user is changed: false. What it does to the seat differs per vendor and comes back in seat_note. Usually what offboarding needs; scim_delete_user hard-deletes instead.',
  inputSchema: (vendorIds) => ({ ...connectionShape(vendorIds), ...userRefShape, ...confirmShape }),
  outputSchema: {
    ...warningsShape,
    ...userWriteOutputShape,
    seat_note: z.string().describe('What deprovisioning does to the seat and owned records in this vendor, e.g. "Apollo.io: deactivating does NOT reduce the billed seat count…"'),
    caveats: z.array(z.string()).describe('Further vendor caveats the admin should know'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const adapter = scimAdapter(ctx, args.connection);
    const user = await client.resolveUser(userRef(args), ctx.signal);
    const before = toAccount(client, user);
    // The same change an offboarding step makes on this connection.
    const change = scimDeprovisionChange(client, { id: before.id, email: before.email }, {
      summary: `Deprovision ${adapter.label} user ${describeUser(before)} through SCIM (connection ${args.connection})`,
      caveats: [adapter.scim.deprovisionNote],
    });
    const r = await runChange(ctx, change, { tool: 'scim_deprovision_user', known: user, confirmArg: args.confirm, tokenMatches: tokenMatches(before), args, allow: AUDIT_ARGS });
    return {
      connection: args.connection,
      seat_note: adapter.scim.deprovisionNote,
      caveats: [...(r.unverified ? [r.unverified] : []), ...adapter.capabilities.caveats],
      changed: r.changed,
      method: (r.how ?? 'none') as 'patch' | 'put' | 'none',
      before,
      after: r.after ? toAccount(client, r.after) : before,
      confirmation: r.confirmation,
      audit_op_id: r.opId,
    };
  },
});
