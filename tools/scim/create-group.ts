import * as z from 'zod';
import { ToolInputError, VendorError } from '../../src/errors.js';
import { scimGroupSummary } from '../../src/vendors/scim/map.js';
import { auditedWrite } from '../audited-write.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, connectionOutputShape, connectionShape, requireScim, scimAdapter, ScimGroupSchema } from './shared.js';

export default defineTool({
  name: 'scim_create_group',
  vendor: null,
  toolsets: ['scim'],
  requires: 'scim',
  title: 'Create a SCIM group',
  description:
    'Creates a group through a SCIM 2.0 connection (POST /Groups) with a display name and optional member user ids. In Outreach a SCIM group is a Team; Apollo.io has no SCIM groups. ' +
    'Idempotent by name: when a group with that display name exists, it is returned with created: false and nothing is sent. Recorded in the audit log.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    display_name: z.string().trim().min(1, { error: '`display_name` must not be blank' }).max(256).describe('The group\'s name, unique in the tenant, e.g. "Sales EMEA"'),
    members: z.array(z.string().min(1).max(256)).max(100).default([]).describe('SCIM user ids to put in it (at most 100), e.g. ["2819c223-7f76-453a-919d-413861904646"]'),
  }),
  outputSchema: {
    ...connectionOutputShape,
    created: z.boolean().describe('False when a group with this name already existed (nothing was created)'),
    group: ScimGroupSchema.describe('The created (or existing) group'),
    audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const adapter = scimAdapter(ctx, args.connection);
    if (!adapter.capabilities.operations.list_groups.includes('scim')) {
      throw new ToolInputError(`\`connection\`: ${adapter.label} has no groups through SCIM (its notes: users only); nothing was created.`);
    }
    const client = requireScim(ctx, args.connection);
    let created = false;
    // A 400 is about what was sent (an unknown member id, a name the tenant refuses): say which arguments.
    const refused = (err: unknown) =>
      err instanceof VendorError && err.code === 'bad_request'
        ? new VendorError({ vendor: err.vendor, code: err.code, status: err.status, requestId: err.requestId, detail: err.detail, message: `The group was refused as given (\`display_name\`, \`members\`): ${err.message}` })
        : err;
    const { value, opId } = await auditedWrite(
      ctx,
      { tool: 'scim_create_group', vendor: args.connection, target: { id: null, email: null }, args: { ...args, group: args.display_name }, allow: [...AUDIT_ARGS, 'group', 'members'], confirmation: 'none', before: null },
      async (audit) => {
        const r = await client.createGroup(args.display_name, args.members, ctx.signal).catch((err: unknown) => {
          throw refused(err);
        });
        created = r.created;
        audit.vendor_request_id = r.requestId;
        audit.after = scimGroupSummary(r.group, true);
        return r.group;
      },
    );
    return { connection: args.connection, created, group: scimGroupSummary(value, true), audit_op_id: opId };
  },
});
