import { runChange } from '../change-tool.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, confirmShape, requireSalesloftRest, userRef, userRefShape, userWriteOutputShape } from './shared.js';

export default defineTool({
  name: 'salesloft_reactivate_user',
  vendor: 'salesloft',
  title: 'Reactivate a SalesLoft user',
  description:
    'Gives a deactivated SalesLoft user their login back through the REST API (PUT /v2/users/{id}.json, active: true). Addressed by id or email (acts only when exactly one user matches). ' +
    'Reads the user first; an already-active user is changed: false and nothing is sent. The human must approve: reactivating the wrong person (someone who has left) gives access back. ' +
    'If the identity provider still deprovisions the user through SCIM, it may deactivate them again on its next sync.',
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
