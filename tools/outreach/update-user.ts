import * as z from 'zod';
import { ToolInputError } from '../../src/errors.js';
import type { UserAttributesInput } from '../../src/vendors/outreach/client.js';
import { auditedWrite } from '../audited-write.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, confirmShape, requireOutreach, userRef, userRefShape, writeOutputShape } from './shared.js';

export default defineTool({
  name: 'outreach_update_user',
  vendor: 'outreach',
  toolsets: ['outreach'],
  lifecycle: true,
  title: 'Update an Outreach user',
  description:
    'Changes an Outreach user\'s name, title, role or profile (only the fields given). The login email cannot change through the API: change it in Outreach\'s admin UI. Role and profile by name or id; an unknown name returns the valid ones. Nothing differs: changed: false, no write.',
  inputSchema: {
    ...userRefShape,
    first_name: z.string().min(1).max(100).optional().describe('New first name'),
    last_name: z.string().min(1).max(100).optional().describe('New last name'),
    title: z.string().max(200).optional().describe('New job title'),
    role: z.string().min(1).optional().describe('Role name or id, e.g. "Sales Rep"'),
    profile: z.string().min(1).optional().describe('Profile name or id, e.g. "Sales Rep"'),
    ...confirmShape,
  },
  outputSchema: writeOutputShape,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireOutreach(ctx);
    const { user, account: before } = await client.resolveAccount(userRef(args), ctx.signal);
    const roleId = args.role === undefined ? undefined : await client.resolveNamed('role', args.role, ctx.signal);
    const profileId = args.profile === undefined ? undefined : await client.resolveNamed('profile', args.profile, ctx.signal);

    const a = user.attributes;
    const attrs: UserAttributesInput = {};
    if (args.first_name !== undefined && args.first_name !== a.firstName) attrs.firstName = args.first_name;
    if (args.last_name !== undefined && args.last_name !== a.lastName) attrs.lastName = args.last_name;
    if (args.title !== undefined && args.title !== a.title) attrs.title = args.title;
    const rel: { roleId?: string; profileId?: string } = {};
    if (roleId !== undefined && roleId !== user.relationships?.role?.data?.id) rel.roleId = roleId;
    if (profileId !== undefined && profileId !== user.relationships?.profile?.data?.id) rel.profileId = profileId;

    const asked = ['first_name', 'last_name', 'title', 'role', 'profile'].filter((k) => (args as Record<string, unknown>)[k] !== undefined);
    if (asked.length === 0) throw new ToolInputError('Nothing to update: give at least one of first_name, last_name, title, role, profile.');
    const changes = [...Object.entries(attrs).map(([k, v]) => `${k} → ${String(v)}`), ...(rel.roleId ? [`role → ${args.role}`] : []), ...(rel.profileId ? [`profile → ${args.profile}`] : [])];
    if (changes.length === 0) return { changed: false, before, after: before, confirmation: 'none', audit_op_id: null, caveats: [] };

    const label = `${before.email ?? '(no email)'} (id ${before.id})`;
    const { method } = await ctx.confirm({
      tool: 'outreach_update_user',
      summary: `Update Outreach user ${label}: ${changes.join(', ')}`,
      targets: [{ vendor: 'outreach', id: before.id, email: before.email, action: `update ${changes.join(', ')}` }],
      notes: rel.profileId ? ['A new profile changes what the user may do in Outreach immediately.'] : [],
      tokenMatches: [before.id, ...(before.email ? [before.email] : [])],
      confirmArg: args.confirm,
    });
    const { value: after, opId } = await auditedWrite(
      ctx,
      { tool: 'outreach_update_user', vendor: 'outreach', target: { id: before.id, email: before.email }, args, allow: AUDIT_ARGS, confirmation: method, before },
      async (audit) => {
        const { requestId } = await client.updateUser(before.id, attrs, rel, ctx.signal);
        audit.vendor_request_id = requestId;
        const [after] = await client.toAccounts([await client.getUser(before.id, ctx.signal)], ctx.signal);
        audit.after = after;
        return after;
      },
    );
    return { changed: true, before, after, confirmation: method, audit_op_id: opId, caveats: [] };
  },
});
