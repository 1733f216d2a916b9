import * as z from 'zod';
import { ToolInputError } from '../../src/errors.js';
import { changeOps, type UserChanges } from '../../src/vendors/scim/client.js';
import { defineTool } from '../types.js';
import { confirmedUserWrite, confirmShape, connectionShape, describeUser, requireScim, scimAdapter, toAccount, userRef, userRefShape, userWriteOutputShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_update_user',
  vendor: null,
  toolsets: ['scim'],
  lifecycle: true,
  requires: 'scim',
  title: 'Update a user through SCIM',
  description:
    'Changes a SCIM user\'s names, title or externalId, or reactivates a deprovisioned user (active: true), through a vendor\'s SCIM 2.0 connection: only the differing values; nothing differs: changed: false. userName and email do not change here (Apollo.io cannot change an email in place).',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    ...userRefShape,
    given_name: z.string().min(1).max(100).optional().describe('New first name'),
    family_name: z.string().min(1).max(100).optional().describe('New last name'),
    display_name: z.string().min(1).max(200).optional().describe('New display name'),
    title: z.string().max(200).optional().describe('New job title'),
    external_id: z.string().min(1).max(512).optional().describe('New externalId (the IdP\'s id), e.g. "00u1abcd2EFGH"'),
    active: z.literal(true).optional().describe('true reactivates a deprovisioned user'),
    ...confirmShape,
  }),
  outputSchema: { ...userWriteOutputShape, ...warningsShape },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const changes: UserChanges = {
      givenName: args.given_name,
      familyName: args.family_name,
      displayName: args.display_name,
      title: args.title,
      externalId: args.external_id,
      active: args.active,
    };
    if (Object.values(changes).every((v) => v === undefined)) {
      throw new ToolInputError('Nothing to update: give at least one of given_name, family_name, display_name, title, external_id, active.');
    }
    const user = await client.resolveUser(userRef(args), ctx.signal);
    const before = toAccount(client, user);
    const ops = changeOps(user, changes);
    if (ops.length === 0) {
      return { connection: args.connection, changed: false, method: 'none' as const, before, after: before, confirmation: 'none', audit_op_id: null };
    }
    const what = ops.map((o) => `${o.path} → ${String(o.value)}`).join(', ');
    const { value, opId, confirmation } = await confirmedUserWrite(
      ctx,
      {
        tool: 'scim_update_user',
        connection: args.connection,
        before,
        summary: `Update ${scimAdapter(ctx, args.connection).label} user ${describeUser(before)} through SCIM: ${what}`,
        action: `update ${what}`,
        notes: changes.active ? ['Reactivating gives the user access again and may occupy a licensed seat.'] : [],
        confirmArg: args.confirm,
        args,
      },
      async (audit) => {
        const r = await client.updateUser(user, changes, ctx.signal);
        audit.vendor_request_id = r.requestId;
        const after = toAccount(client, r.after);
        audit.after = after;
        return { method: r.method, after };
      },
    );
    return { connection: args.connection, changed: true, method: value.method, before, after: value.after, confirmation, audit_op_id: opId };
  },
});
