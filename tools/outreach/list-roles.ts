import * as z from 'zod';
import { defineTool } from '../types.js';
import { requireOutreach } from './shared.js';

export default defineTool({
  name: 'outreach_list_roles',
  vendor: 'outreach',
  toolsets: ['outreach'],
  title: 'List Outreach roles',
  description:
    'Lists the roles of this Outreach org (id and name). Roles place users in the org hierarchy; outreach_create_user and outreach_update_user accept a role by name or id. ' +
    'Role ids differ between orgs, so never reuse an id from another org.',
  inputSchema: {},
  outputSchema: {
    roles: z.array(z.object({ id: z.string().describe('Role id'), name: z.string().nullable().describe('Role name') })).describe('All roles'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(_args, ctx) {
    const roles = await requireOutreach(ctx).listRoles(ctx.signal);
    return { roles: roles.map((r) => ({ id: r.id, name: r.attributes.name ?? null })) };
  },
});
