import * as z from 'zod';
import { defineTool } from '../types.js';
import { requireSalesloft } from './shared.js';

export default defineTool({
  name: 'salesloft_list_pending_invitations',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  title: 'List pending SalesLoft invitations',
  description:
    'Lists SalesLoft invitations that have not been accepted yet (pending email accounts): people invited to the team who do not have an active login. ' +
    'Useful in an access review to spot invitations to people who left. Inviting users is not possible through the REST API (SCIM or the SalesLoft UI only), and a user provisioned through SCIM stays pending until they accept the invitation email.',
  inputSchema: {},
  outputSchema: {
    invitations: z
      .array(
        z.object({
          id: z.string().describe('Pending invitation id, e.g. "512"'),
          email: z.string().nullable().describe('Invited address, e.g. "new.rep@acme.example"'),
          created_at: z.string().nullable().describe('When the invitation was sent (ISO 8601), e.g. "2026-10-12T09:30:00.000000-04:00"'),
        }),
      )
      .describe('Every pending invitation'),
    returned: z.number().int().describe('Number of invitations in `invitations`, e.g. 3'),
    truncated: z.boolean().describe('True when `invitations` was cut to keep the result small; the complete list is at full_result_uri, e.g. false'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated; else null'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'invitations',
  async handler(_args, ctx) {
    const list = await requireSalesloft(ctx).listPendingInvitations(ctx.signal);
    const invitations = list.map((p) => ({ id: p.id, email: p.email ?? null, created_at: p.created_at ?? null }));
    return { invitations, returned: invitations.length, truncated: false, full_result_uri: null };
  },
});
