import { runChange } from '../change-tool.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, confirmShape, requireSalesloftRest, userRef, userRefShape, userWriteOutputShape } from './shared.js';

export default defineTool({
  name: 'salesloft_reactivate_user',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  // Not in the default set: it gives access back, which the default (review, offboard) never needs.
  title: 'Reactivate a SalesLoft user',
  description:
    'Gives a deactivated SalesLoft user their login back (REST, active: true). Reads first; an active user is changed: false. The human approves: reactivating someone who has left gives access back. An identity provider that still deprovisions them through SCIM may deactivate them again.',
  inputSchema: { ...userRefShape, ...confirmShape },
  outputSchema: userWriteOutputShape,

  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const rest = requireSalesloftRest(ctx);
    const [before] = await rest.client.toAccounts([await rest.client.resolveUser(userRef(args), ctx.signal)], ctx.signal);
    const label = `${before!.email ?? '(no email)'} (id ${before!.id})`;
    const change = rest.userChange({ id: before!.id, email: before!.email }, { active: true }, {
      kind: 'reactivate',
      summary: `Reactivate SalesLoft user ${label}`,
      action: 'reactivate (active: true): restores login',
      caveats: ['The identity provider may deactivate the user again on its next SCIM sync if it does not assign them to SalesLoft.'],
    });
    const r = await runChange(ctx, change, { tool: 'salesloft_reactivate_user', known: before!, confirmArg: args.confirm, tokenMatches: [before!.id, ...(before!.email ? [before!.email] : [])], args, allow: AUDIT_ARGS });
    return { changed: r.changed, before: before!, after: r.after ?? before!, confirmation: r.confirmation, audit_op_id: r.opId, caveats: [...(r.unverified ? [r.unverified] : []), ...change.caveats] };
  },
});
