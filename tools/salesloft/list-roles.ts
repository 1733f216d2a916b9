import * as z from 'zod';
import { defineTool } from '../types.js';
import { requireSalesloft } from './shared.js';

export default defineTool({
  name: 'salesloft_list_roles',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  title: 'List SalesLoft roles',
  description:
    'Lists the roles of the SalesLoft team (id and name): the built-in Admin and User and any custom roles. Role ids are needed to filter users by role or to assign a role through SCIM; ' +
    'a user whose role is Admin is reported with is_admin: true by the user tools.',
  inputSchema: {},
  outputSchema: {
    roles: z
      .array(
        z.object({
          id: z.string().describe('Role id: "Admin", "User" or a custom role id, e.g. "Admin"'),
          name: z.string().nullable().describe('Role name, e.g. "Sales Manager"'),
          builtin: z.boolean().describe('True for SalesLoft\'s built-in Admin and User roles, e.g. true'),
        }),
      )
      .describe('Every role of the team'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(_args, ctx) {
    const { roles } = await requireSalesloft(ctx).listRoles(ctx.signal);
    return { roles: roles.map((r) => ({ id: r.id, name: r.name ?? null, builtin: r.id === 'Admin' || r.id === 'User' })) };
  },
});
