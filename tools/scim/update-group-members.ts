import * as z from 'zod';
import { ToolInputError } from '../../src/errors.js';
import { scimGroupSummary } from '../../src/vendors/scim/map.js';
import type { ScimGroup } from '../../src/vendors/scim/wire.js';
import { auditedWrite } from '../audited-write.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, confirmShape, connectionOutputShape, connectionShape, requireScim, scimAdapter, ScimGroupSchema } from './shared.js';
import { warningsShape } from '../warnings.js';

const memberIds = (g: ScimGroup) => new Set((g.members ?? []).map((m) => m.value).filter((v): v is string => typeof v === 'string'));

/** The group without its member list, which can be long: counts stay, ids go. */
const summary = (g: ScimGroup) => ({ ...scimGroupSummary(g, true), member_ids: null });

const userIds = (what: string) =>
  z
    .array(z.string().min(1).max(256))
    .max(100)
    .default([])
    .describe(`SCIM user ids to ${what} (at most 100), e.g. ["2819c223-7f76-453a-919d-413861904646"]; see scim_list_users`);

export default defineTool({
  name: 'scim_update_group_members',
  vendor: null,
  toolsets: ['scim'],
  requires: 'scim',
  title: 'Add or remove SCIM group members',
  description:
    'Adds users to and removes users from one SCIM group of a connection (outreach, salesloft, apollo or zoominfo) with a SCIM PatchOp: `add` on members, and `remove` with the path members[value eq "<id>"]. ' +
    'Reads the group first and sends only what changes (a user already in the group is not added again, one not in it is not removed); when nothing changes, returns changed: false without a write. ' +
    'Removing members can take away access, so the human must approve. Servers without SCIM PATCH are refused (replacing a whole group could drop members added meanwhile). ' +
    'In Outreach a group is a Team; Apollo.io has no SCIM groups. Re-reads the group and lists any change the server did not apply.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    group_id: z.string().min(1).max(256).describe('SCIM group id, e.g. "e9e30dba-f08f-4109-8486-d5c6a331660a" (see scim_list_groups)'),
    add: userIds('add'),
    remove: userIds('remove'),
    ...confirmShape,
  }),
  outputSchema: {
    ...warningsShape,
    ...connectionOutputShape,
    changed: z.boolean().describe('False when every user was already in the requested state (nothing was sent)'),
    group: ScimGroupSchema.describe('The group as re-read after the change (member ids left out; member_count is current)'),
    added: z.array(z.string()).describe('User ids sent in the add operation, e.g. ["2819c223"]'),
    removed: z.array(z.string()).describe('User ids sent in remove operations, e.g. ["2819c223"]'),
    skipped: z.array(z.string()).describe('User ids already in the requested state (not sent)'),
    not_applied: z.array(z.string()).describe('User ids the server accepted but whose membership did not change on re-read; empty when all applied'),
    confirmation: z.string().describe('How the change was confirmed: elicit, browser, token, or none (nothing was sent)'),
    audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const both = args.add.filter((id) => args.remove.includes(id));
    if (both.length > 0) throw new ToolInputError(`These user ids are in both \`add\` and \`remove\`: ${both.join(', ')}. Give each id once.`);
    if (args.add.length === 0 && args.remove.length === 0) throw new ToolInputError('Nothing to change: give at least one user id in `add` or `remove`.');
    const group = await client.getGroup(args.group_id, ctx.signal);
    const current = memberIds(group);
    const add = [...new Set(args.add)].filter((id) => !current.has(id));
    const remove = [...new Set(args.remove)].filter((id) => current.has(id));
    const skipped = [...args.add.filter((id) => current.has(id)), ...args.remove.filter((id) => !current.has(id))];
    const base = { connection: args.connection, added: add, removed: remove, skipped };
    if (add.length === 0 && remove.length === 0) {
      return { ...base, changed: false, group: summary(group), not_applied: [], confirmation: 'none', audit_op_id: null };
    }
    const label = `${group.displayName ?? '(unnamed)'} (id ${group.id})`;
    const action = [add.length ? `add ${add.join(', ')}` : '', remove.length ? `remove ${remove.join(', ')}` : ''].filter(Boolean).join('; ');
    const { method: confirmation } = await ctx.confirm({
      tool: 'scim_update_group_members',
      summary: `Change members of ${scimAdapter(ctx, args.connection).label} SCIM group ${label}: ${action}`,
      targets: [{ vendor: args.connection, id: group.id, email: null, action }],
      notes: remove.length > 0 ? ['Removing a member can take away the access the group grants (in Outreach, Team membership).'] : [],
      tokenMatches: [group.id, ...(group.displayName ? [group.displayName] : [])],
      confirmArg: args.confirm,
    });
    const before = summary(group);
    const { value, opId } = await auditedWrite(
      ctx,
      { tool: 'scim_update_group_members', vendor: args.connection, target: { id: group.id, email: null }, args, allow: AUDIT_ARGS, confirmation, before },
      async (audit) => {
        const r = await client.updateGroupMembers(group.id, { add, remove }, { ifMatch: group.meta?.version ?? undefined, signal: ctx.signal });
        audit.vendor_request_id = r.requestId;
        const after = await client.getGroup(group.id, ctx.signal);
        const now = memberIds(after);
        const notApplied = [...add.filter((id) => !now.has(id)), ...remove.filter((id) => now.has(id))];
        audit.after = { ...summary(after), not_applied: notApplied };
        return { after, notApplied };
      },
    );
    return { ...base, changed: true, group: summary(value.after), not_applied: value.notApplied, confirmation, audit_op_id: opId };
  },
});
