import * as z from 'zod';
import { defineTool } from '../types.js';
import {
  caveats,
  confirmedUserWrite,
  confirmShape,
  connectionShape,
  describeUser,
  requireScim,
  SEAT_NOTES,
  toAccount,
  userRef,
  userRefShape,
  userWriteOutputShape,
  VENDOR_NAMES,
} from './shared.js';

export default defineTool({
  name: 'scim_deprovision_user',
  vendor: null,
  requires: 'scim',
  title: 'Deprovision a user through SCIM',
  description:
    'Deactivates a user the way an identity provider offboards them: sets SCIM active=false through a SCIM 2.0 connection (outreach, salesloft, apollo or zoominfo). Addressed by id or userName (acts only when exactly one user matches). ' +
    'Reads the user first; an already-deactivated user is a success with changed: false and nothing is sent. Sends a PatchOp replace of active; when the server has no PATCH (405/501, or its ServiceProviderConfig says so), ' +
    'it PUTs the user as just read with only active changed, with If-Match when the server supports ETags (a 412 means the user changed meanwhile: re-read and retry). Re-reads the user to confirm active=false. ' +
    'The human must approve. What it does to the seat differs per vendor and is returned in seat_note: e.g. for Outreach the notes name only SCIM DELETE or Outreach support as freeing the seat, Apollo.io keeps billing the seat, SalesLoft does not reassign cadences. ' +
    'This is usually what offboarding needs; scim_delete_user hard-deletes instead.',
  inputSchema: { ...connectionShape, ...userRefShape, ...confirmShape },
  outputSchema: {
    ...userWriteOutputShape,
    seat_note: z.string().describe('What deprovisioning does to the seat and owned records in this vendor, e.g. "Apollo.io: deactivating does NOT reduce the billed seat count…"'),
    caveats: z.array(z.string()).describe('Further vendor caveats the admin should know'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const user = await client.resolveUser(userRef(args), ctx.signal);
    const before = toAccount(client, user);
    const common = { connection: args.connection, seat_note: SEAT_NOTES[args.connection], caveats: caveats(args.connection) };
    if (user.active === false) {
      return { ...common, changed: false, method: 'none' as const, before, after: before, confirmation: 'none', audit_op_id: null };
    }
    const { value, opId, confirmation } = await confirmedUserWrite(
      ctx,
      {
        tool: 'scim_deprovision_user',
        connection: args.connection,
        before,
        summary: `Deprovision ${VENDOR_NAMES[args.connection]} user ${describeUser(before)} through SCIM (connection ${args.connection})`,
        action: 'deprovision (SCIM active=false): blocks login',
        notes: [SEAT_NOTES[args.connection]],
        confirmArg: args.confirm,
        args,
      },
      async (audit) => {
        const r = await client.deprovision(user, ctx.signal);
        audit.vendor_request_id = r.requestId;
        const after = toAccount(client, r.after);
        audit.after = after;
        return { method: r.method, changed: r.changed, after };
      },
    );
    return { ...common, changed: value.changed, method: value.method, before, after: value.after, confirmation, audit_op_id: opId };
  },
});
