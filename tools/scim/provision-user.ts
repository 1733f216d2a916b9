import * as z from 'zod';
import { emailArg } from '../args.js';
import { auditedWrite } from '../audited-write.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, connectionOutputShape, connectionShape, requireScim, ScimAccountSchema, scimAdapter, toAccount } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_provision_user',
  vendor: null,
  toolsets: ['scim'],
  lifecycle: true,
  requires: 'scim',
  title: 'Provision a user through SCIM',
  description:
    'Creates a user through a vendor\'s SCIM 2.0 connection. Idempotent on userName: an existing user (or the server\'s 409) returns that user with created: false. SCIM is the only way to create SalesLoft users, and SalesLoft still emails an invitation: the user stays pending until they accept. The new user takes a seat.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    user_name: z.string().min(1).max(512).describe('SCIM userName, usually the login email, e.g. "new.rep@acme.example"'),
    email: emailArg().optional().describe('Primary email; default the userName when it is one'),
    given_name: z.string().min(1).max(100).optional().describe('First name'),
    family_name: z.string().min(1).max(100).optional().describe('Last name'),
    display_name: z.string().min(1).max(200).optional().describe('Display name; default given and family name'),
    title: z.string().max(200).optional().describe('Job title'),
    external_id: z.string().min(1).max(512).optional().describe('The IdP\'s id of the person, e.g. "00u1abcd2EFGH"'),
  }),
  outputSchema: {
    ...warningsShape,
    ...connectionOutputShape,
    created: z.boolean().describe('False when a user with this userName already existed (nothing was created)'),
    user: ScimAccountSchema.describe('The created (or already existing) user'),
    audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
    caveats: z.array(z.string()).describe('What the admin must still know or do'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const existing = await client.findByUserName(args.user_name, ctx.signal);
    if (existing.length > 0) {
      // Several case variants: resolveUser throws with the candidates.
      const user = existing.length === 1 ? await client.getUser(existing[0].id, ctx.signal) : await client.resolveUser({ userName: args.user_name }, ctx.signal);
      const account = toAccount(client, user);
      const state = account.status === 'deactivated' ? ' It is deactivated (active=false); provisioning did not reactivate it: use scim_update_user with active: true.' : '';
      return { connection: args.connection, created: false, user: account, audit_op_id: null, caveats: [`A user with this userName already exists (id ${account.id}); nothing was created.${state}`] };
    }
    const { value, opId } = await auditedWrite(
      ctx,
      { tool: 'scim_provision_user', vendor: args.connection, target: { id: null, email: args.email ?? args.user_name }, args, allow: AUDIT_ARGS, confirmation: 'none', before: null },
      async (audit) => {
        const r = await client.createUser(
          {
            userName: args.user_name,
            email: args.email,
            givenName: args.given_name,
            familyName: args.family_name,
            displayName: args.display_name,
            title: args.title,
            externalId: args.external_id,
          },
          ctx.signal,
        );
        audit.vendor_request_id = r.requestId;
        const account = toAccount(client, r.user);
        audit.after = account;
        return { created: r.created, account };
      },
    );
    return {
      connection: args.connection,
      created: value.created,
      user: value.account,
      audit_op_id: opId,
      caveats: value.created ? [...scimAdapter(ctx, args.connection).scim.provisionCaveats] : [`A user with this userName was created meanwhile (id ${value.account.id}); nothing was created.`],
    };
  },
});
