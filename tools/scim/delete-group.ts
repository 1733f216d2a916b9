import * as z from 'zod';
import { ToolInputError } from '../../src/errors.js';
import type { Change } from '../../src/vendors/adapter.js';
import { scimGroupSummary } from '../../src/vendors/scim/map.js';
import type { ScimGroup } from '../../src/vendors/scim/wire.js';
import { runChange } from '../change-tool.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, confirmShape, connectionOutputShape, connectionShape, requireScim, scimAdapter, ScimGroupSchema } from './shared.js';

export default defineTool({
  name: 'scim_delete_group',
  vendor: null,
  toolsets: ['scim'],
  requires: 'scim',
  title: 'Delete a SCIM group',
  description:
    'Deletes a group through a SCIM 2.0 connection (DELETE /Groups/{id}). Its members lose whatever the group gave them (in Outreach a group is a Team); the users themselves stay. ' +
    'A group already gone is changed: false. The human must approve. Apollo.io has no SCIM groups.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    group_id: z.string().min(1).max(256).describe('SCIM group id, e.g. "e9e30dba-f08f-4109-8486-d5c6a331660a" (see scim_list_groups)'),
    ...confirmShape,
  }),
  outputSchema: {
    ...connectionOutputShape,
    changed: z.boolean().describe('False when the group was already gone (nothing was sent)'),
    group: ScimGroupSchema.nullable().describe('The group as read before the delete; null when it did not exist'),
    confirmation: z.string().describe('How the delete was confirmed: elicit, browser, token, or none (nothing was sent)'),
    audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const adapter = scimAdapter(ctx, args.connection);
    if (!adapter.capabilities.operations.list_groups.includes('scim')) throw new ToolInputError(`\`connection\`: ${adapter.label} has no groups through SCIM; nothing was deleted.`);
    const client = requireScim(ctx, args.connection);
    const read = async (signal?: AbortSignal): Promise<ScimGroup | null> => {
      try {
        return await client.getGroup(args.group_id, signal);
      } catch (err) {
        if ((err as { code?: string }).code === 'not_found') return null;
        throw err;
      }
    };
    const before = await read(ctx.signal);
    const label = `${before?.displayName ?? '(unnamed)'} (id ${args.group_id})`;
    const change: Change<ScimGroup | null> = {
      vendor: args.connection,
      kind: 'scim_delete_group',
      via: 'scim',
      target: { id: args.group_id, email: null },
      summary: `Delete ${adapter.label} SCIM group ${label}`,
      action: `delete the group (${before?.members?.length ?? 0} members lose what it gives them)`,
      caveats: adapter.id === 'outreach' ? ['In Outreach a SCIM group is a Team: deleting it removes the Team.'] : [],
      read,
      satisfied: (g) => g === null,
      apply: async (_g, signal) => ({ requestId: (await client.deleteGroup(args.group_id, signal)).requestId }),
    };
    const r = await runChange(ctx, change, { tool: 'scim_delete_group', known: before, confirmArg: args.confirm, tokenMatches: [args.group_id, ...(before?.displayName ? [before.displayName] : [])], args, allow: [...AUDIT_ARGS, 'group_id'] });
    return { connection: args.connection, changed: r.changed, group: before ? scimGroupSummary(before, true) : null, confirmation: r.confirmation, audit_op_id: r.opId };
  },
});
