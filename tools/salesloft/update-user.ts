import * as z from 'zod';
import { ToolInputError } from '../../src/errors.js';
import type { UserUpdate } from '../../src/vendors/salesloft/client.js';
import { runChange } from '../change-tool.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, confirmShape, requireSalesloftRest, userRef, userRefShape, userWriteOutputShape } from './shared.js';

export default defineTool({
  name: 'salesloft_update_user',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  lifecycle: true,
  title: "Change a SalesLoft user's role or group",
  description:
    "Changes a SalesLoft user's role (Admin, User or a custom role) and/or group, by id or name resolved against the team's live lists (an unknown name lists the valid ones). Reads first; nothing to change: changed: false. A role decides what the user may do (Admin manages users and settings).",
  inputSchema: {
    ...userRefShape,
    role: z.string().min(1).max(100).optional().describe('New role: "Admin", "User", or a custom role\'s id or name'),
    group: z.string().min(1).max(200).optional().describe('New group, by id or name, e.g. "NA West"'),
    ...confirmShape,
  },
  outputSchema: userWriteOutputShape,

  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    if (args.role === undefined && args.group === undefined) throw new ToolInputError('Give `role` and/or `group`: nothing to change otherwise.');
    const rest = requireSalesloftRest(ctx);
    const fields: UserUpdate = {};
    if (args.role !== undefined) fields.role_id = pick('role', args.role, (await rest.client.listRoles(ctx.signal)).roles);
    if (args.group !== undefined) fields.group_id = pick('group', args.group, await rest.client.listGroups(ctx.signal));
    const [before] = await rest.client.toAccounts([await rest.client.resolveUser(userRef(args), ctx.signal)], ctx.signal);
    const label = `${before!.email ?? '(no email)'} (id ${before!.id})`;
    const what = [fields.role_id !== undefined ? `role → ${fields.role_id}` : '', fields.group_id !== undefined ? `group → ${fields.group_id}` : ''].filter(Boolean).join(', ');
    const change = rest.userChange({ id: before!.id, email: before!.email }, fields, {
      kind: 'change_role_group',
      summary: `Change SalesLoft user ${label}: ${what}`,
      action: what,
      caveats: fields.role_id === 'Admin' ? ['Admin lets the user manage every user, role and setting of the team.'] : [],
    });
    const r = await runChange(ctx, change, { tool: 'salesloft_update_user', known: before!, confirmArg: args.confirm, tokenMatches: [before!.id, ...(before!.email ? [before!.email] : [])], args, allow: [...AUDIT_ARGS, 'role', 'group'] });
    return { changed: r.changed, before: before!, after: r.after ?? before!, confirmation: r.confirmation, audit_op_id: r.opId, caveats: [...(r.unverified ? [r.unverified] : []), ...change.caveats] };
  },
});

/** An id or a name (case-insensitive) of the live list; anything else lists the valid values. */
function pick(what: 'role' | 'group', value: string, list: { id: string | number; name?: string | null }[]): string {
  const byId = list.find((x) => String(x.id) === value.trim());
  if (byId) return String(byId.id);
  const byName = list.filter((x) => (x.name ?? '').toLowerCase() === value.trim().toLowerCase());
  if (byName.length === 1) return String(byName[0]!.id);
  const valid = list.map((x) => `${x.name ?? '(unnamed)'} (id ${x.id})`).join(', ');
  if (byName.length > 1) throw new ToolInputError(`Several SalesLoft ${what}s are named "${value}"; pass the id. ${what}s: ${valid}.`);
  throw new ToolInputError(`\`${what}\`: SalesLoft has no ${what} "${value}". Valid ${what}s: ${valid}.`);
}
