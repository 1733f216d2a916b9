import * as z from 'zod';
import { auditedWrite } from '../audited-write.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, connectionOutputShape, connectionShape, requireScim, ScimAccountSchema, scimAdapter, toAccount } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_provision_user',
  vendor: null,
  requires: 'scim',
  title: 'Provision a user through SCIM',
  description:
    'Creates a user through a SCIM 2.0 connection (outreach, salesloft, apollo or zoominfo) with userName (usually the login email), optional email, given and family name, display name, title and externalId, active. ' +
    'Idempotent: when a user with that userName already exists (compared case-insensitively), nothing is created and that user is returned with created: false; a 409 uniqueness answer from the server is handled the same way. ' +
    'SalesLoft is the only way to create SalesLoft users (its REST API cannot), and SalesLoft sends an invitation email: the user stays pending until they accept it. Recorded in the audit log.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    user_name: z.string().min(1).max(512).describe('SCIM userName, unique in the tenant, usually the login email, e.g. "new.rep@acme.example"'),
    email: z.email().optional().describe('Work email, sent as the primary email; default: the userName when it is an email, e.g. "new.rep@acme.example"'),
    given_name: z.string().min(1).max(100).optional().describe('First name, e.g. "Jane"'),
    family_name: z.string().min(1).max(100).optional().describe('Last name, e.g. "Doe"'),
    display_name: z.string().min(1).max(200).optional().describe('Display name; default: given and family name, e.g. "Jane Doe"'),
    title: z.string().max(200).optional().describe('Job title, e.g. "SDR"'),
    external_id: z.string().min(1).max(512).optional().describe('The identity provider\'s id of the person, e.g. "00u1abcd2EFGH"'),
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
