import * as z from 'zod';
import { VendorError } from '../../src/errors.js';
import type { ScimUser } from '../../src/vendors/scim/wire.js';
import { defineTool, tokenConfirmArg } from '../types.js';
import { confirmedUserWrite, connectionOutputShape, connectionShape, describeUser, requireScim, ScimAccountSchema, scimAdapter, toAccount, userRef, userRefShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_delete_user',
  vendor: null,
  toolsets: ['scim'],
  requires: 'scim',
  title: 'Delete a user through SCIM (hard delete)',
  description:
    'Hard-deletes a user through a SCIM 2.0 connection (outreach, salesloft, apollo or zoominfo) with SCIM DELETE: irreversible where the vendor really deletes. ' +
    'Okta itself never deletes users through SCIM: when a person leaves it deactivates them (active=false), and deprovisioning with scim_deprovision_user is usually what you want. ' +
    'Requires `confirm: true` in the arguments AND the human\'s approval. Addressed by id or userName (acts only when exactly one user matches). A user that is already gone is a success with deleted: false. ' +
    'Re-reads the user afterwards: deleted is true only when the server no longer serves it; otherwise `after` shows what the server kept. Vendor behaviour differs: SalesLoft\'s, Apollo.io\'s and ZoomInfo\'s SCIM DELETE deactivate rather than delete, and Outreach\'s may not remove all user data.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    ...userRefShape,
    confirm: z.literal(true).describe('Must be true: you have checked that a hard delete, not scim_deprovision_user, is wanted, e.g. true'),
    confirm_target: tokenConfirmArg(
      z
        .string()
        .optional()
        .describe('Only when the server runs with SALES_ACCESS_CONFIRM=token: the user\'s exact id or userName after the user approved the deletion, e.g. "jane.doe@acme.example"'),
    ),
  }),
  outputSchema: {
    ...warningsShape,
    ...connectionOutputShape,
    deleted: z.boolean().describe('True when the user is gone: the DELETE succeeded and a re-read finds no such user'),
    before: ScimAccountSchema.nullable().describe('The user as read before the delete; null when no such user exists'),
    after: ScimAccountSchema.nullable().describe('The user as the server still serves it after the DELETE (e.g. deactivated instead of deleted); null when gone'),
    confirmation: z.string().describe('How the delete was confirmed: elicit, browser, token, or none (nothing was sent)'),
    audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
    caveats: z.array(z.string()).describe('What the delete does and does not do in this vendor'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const note = [scimAdapter(ctx, args.connection).scim.deleteNote];
    let user: ScimUser;
    try {
      user = await client.resolveUser(userRef(args), ctx.signal);
    } catch (err) {
      if (args.id !== undefined && err instanceof VendorError && err.code === 'not_found') {
        return { connection: args.connection, deleted: false, before: null, after: null, confirmation: 'none', audit_op_id: null, caveats: [`No user has id ${args.id}: already deleted, or never existed. Nothing was sent.`, ...note] };
      }
      throw err;
    }
    const before = toAccount(client, user);
    const { value, opId, confirmation } = await confirmedUserWrite(
      ctx,
      {
        tool: 'scim_delete_user',
        connection: args.connection,
        before,
        summary: `DELETE ${scimAdapter(ctx, args.connection).label} user ${describeUser(before)} through SCIM (connection ${args.connection}): hard delete`,
        action: 'hard delete (SCIM DELETE)',
        notes: ['Deprovisioning (scim_deprovision_user, active=false) is usually what offboarding needs; Okta itself never deletes.', ...note],
        confirmArg: args.confirm_target,
        args,
      },
      async (audit) => {
        const r = await client.deleteUser(before.id, { ifMatch: user.meta?.version ?? undefined, signal: ctx.signal });
        audit.vendor_request_id = r.requestId;
        // What the server holds now: several vendors answer the DELETE but only deactivate.
        const kept = await client.getUser(before.id, ctx.signal).catch((err: unknown) => {
          if (err instanceof VendorError && err.code === 'not_found') return null;
          throw err;
        });
        const after = kept === null ? null : toAccount(client, kept);
        audit.after = { deleted: after === null, answered: r.deleted ? 'deleted' : 'not_found', after };
        return { gone: after === null, answered: r.deleted, after };
      },
    );
    const caveats = !value.answered
      ? ['The user was already gone when the DELETE arrived (404).', ...note]
      : value.after
        ? [`${scimAdapter(ctx, args.connection).label} accepted the DELETE but still serves the user (status ${value.after.status}): it was not deleted.`, ...note]
        : note;
    return { connection: args.connection, deleted: value.gone, before, after: value.after, confirmation, audit_op_id: opId, caveats };
  },
});
