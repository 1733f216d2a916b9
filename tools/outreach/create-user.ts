import * as z from 'zod';
import { emailArg } from '../args.js';
import { auditedWrite } from '../audited-write.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, OutreachAccountSchema, requireOutreach } from './shared.js';
import { warningsShape } from '../warnings.js';

const CAVEATS = [
  'Outreach sends no invitation email on create unless the org is configured to; tell the new user how to log in.',
  'The new user occupies a licensed seat.',
];

export default defineTool({
  name: 'outreach_create_user',
  vendor: 'outreach',
  toolsets: ['outreach'],
  lifecycle: true,
  title: 'Create an Outreach user',
  description:
    'Creates an Outreach user (a licensed seat). Role and profile are resolved by name or id against the org\'s live lists; an unknown name returns the valid ones. Idempotent on email: an existing user is returned with changed: false. Outreach sends no invitation email unless the org is configured to.',
  inputSchema: {
    email: emailArg().describe('Login email, unique in the org, e.g. "new.rep@acme.example"'),
    first_name: z.string().min(1).max(100).describe('First name'),
    last_name: z.string().min(1).max(100).describe('Last name'),
    title: z.string().max(200).optional().describe('Job title'),
    role: z.string().min(1).optional().describe('Role name or id, e.g. "Sales Rep"'),
    profile: z.string().min(1).optional().describe('Profile name or id, e.g. "Sales Rep"'),
  },
  outputSchema: {
    ...warningsShape,
    changed: z.boolean().describe('False when a user with this email already existed (nothing was created)'),
    user: OutreachAccountSchema.describe('The created (or already existing) user'),
    audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
    caveats: z.array(z.string()).describe('What the admin must still know or do'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireOutreach(ctx);
    const existing = await client.findByEmail(args.email, ctx.signal);
    if (existing.length > 0) {
      const [user] = await client.toAccounts(existing, ctx.signal);
      return { changed: false, user, audit_op_id: null, caveats: [`A user with this email already exists (id ${user.id}); nothing was created.`] };
    }
    const roleId = args.role === undefined ? undefined : await client.resolveNamed('role', args.role, ctx.signal);
    const profileId = args.profile === undefined ? undefined : await client.resolveNamed('profile', args.profile, ctx.signal);
    const { value: user, opId } = await auditedWrite(
      ctx,
      { tool: 'outreach_create_user', vendor: 'outreach', target: { id: null, email: args.email }, args, allow: AUDIT_ARGS, confirmation: 'none', before: null },
      async (audit) => {
        const { user, requestId } = await client.createUser(
          { firstName: args.first_name, lastName: args.last_name, email: args.email, ...(args.title ? { title: args.title } : {}) },
          { roleId, profileId },
          ctx.signal,
        );
        audit.vendor_request_id = requestId;
        const [account] = await client.toAccounts([await client.getUser(user.id, ctx.signal)], ctx.signal);
        audit.after = account;
        return account;
      },
    );
    return { changed: true, user, audit_op_id: opId, caveats: CAVEATS };
  },
});
