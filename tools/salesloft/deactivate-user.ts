import * as z from 'zod';
import { connectionOf } from '../../src/deps.js';
import { salesloftAdapter, SCIM_CAVEAT } from '../../src/vendors/salesloft/adapter.js';
import type { SalesloftAccount } from '../../src/vendors/salesloft/map.js';
import type { Change } from '../../src/vendors/adapter.js';
import { scimDeprovisionChange } from '../../src/vendors/scim/changes.js';
import { runChange } from '../change-tool.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, SalesloftAccountSchema, confirmShape, requireSalesloftRest, userRef, userRefShape } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'salesloft_deactivate_user',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  lifecycle: true,
  title: 'Deactivate a SalesLoft user',
  description:
    'Deactivates a SalesLoft user (active: false), revoking login: through SCIM when a SalesLoft SCIM token is configured, else through REST; the result says which. Reads first; an already-deactivated user is changed: false. Cadences and tasks are NOT reassigned, and the record is kept.',
  inputSchema: { ...userRefShape, ...confirmShape },
  outputSchema: {
    ...warningsShape,
    changed: z.boolean().describe('False when the user was already deactivated (nothing was sent), e.g. true'),
    path: z.enum(['scim', 'rest']).describe('How the deactivation was (or would have been) sent: scim (SCIM PATCH active=false) or rest (REST active: false), e.g. "rest"'),
    scim_method: z.string().nullable().describe('The SCIM operation used when path is scim, e.g. "patch"; null otherwise'),
    before: SalesloftAccountSchema.describe('The user as read before the write, e.g. {"id": "30211", "status": "active", ...}'),
    after: SalesloftAccountSchema.describe('The user as SalesLoft reports it after the write, e.g. {"id": "30211", "status": "deactivated", ...}'),
    confirmation: z.string().describe('How the write was confirmed: elicit, browser, token, or none (no write was needed), e.g. "elicit"'),
    audit_op_id: z.string().nullable().describe('Audit log operation id, e.g. "01J…"; null when nothing was written'),
    caveats: z.array(z.string()).describe('What the admin must still know or do, e.g. "Cadences and tasks owned by the user are NOT reassigned …"'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const rest = requireSalesloftRest(ctx);
    const [before] = await rest.client.toAccounts([await rest.client.resolveUser(userRef(args), ctx.signal)], ctx.signal);
    const scim = connectionOf(ctx.deps, salesloftAdapter.id)?.scim;
    const target = { id: before!.id, email: before!.email };
    const restChange = rest.deactivation(target);
    const caveats = [...restChange.caveats];
    if (before!.active === false) {
      return { changed: false, path: scim ? ('scim' as const) : ('rest' as const), scim_method: null, before: before!, after: before!, confirmation: 'none', audit_op_id: null, caveats };
    }

    // Find the SCIM record before asking, so the human approves the path that will really be used: the same
    // two changes an offboarding step makes (SCIM deprovisioning, or REST active: false).
    let change: Change = restChange;
    let known: unknown = before;
    if (scim) {
      const counterpart = await rest.scimCounterpart(scim, before!, ctx.signal);
      if ('user' in counterpart) {
        caveats.push(SCIM_CAVEAT);
        known = counterpart.user;
        change = scimDeprovisionChange(scim, { id: counterpart.user.id, email: before!.email }, {
          summary: `Deactivate SalesLoft user ${before!.email ?? '(no email)'} (id ${before!.id}) via SCIM`,
          caveats,
        });
      } else {
        caveats.push(counterpart.reason);
      }
    }
    const r = await runChange(ctx, { ...change, caveats } as Change, {
      tool: 'salesloft_deactivate_user',
      known,
      confirmArg: args.confirm,
      tokenMatches: [before!.id, ...(before!.email ? [before!.email] : [])],
      args: { ...args, path: change.via },
      allow: [...AUDIT_ARGS, 'path'],
    });
    let after = r.after as SalesloftAccount | undefined;
    if (change.via === 'scim' && r.changed) {
      // SCIM confirmed active: false; re-read through REST so before and after are the same shape and the state
      // is SalesLoft's own. The REST view may lag behind SCIM, and a failed read must not hide the applied write.
      try {
        after = await rest.account(before!.id, ctx.signal);
        if (after.active !== false) caveats.push('SCIM reports the user inactive, but the REST API still showed them active right after; check again with salesloft_get_user in a moment.');
      } catch {
        after = undefined;
        caveats.push('SCIM deactivated the user, but reading them back through the REST API failed; check with salesloft_get_user.');
      }
    }
    return {
      changed: r.changed,
      path: change.via,
      scim_method: change.via === 'scim' ? (r.how ?? null) : null,
      before: before!,
      after: after ?? { ...before!, active: false, status: 'deactivated' as const },
      confirmation: r.confirmation,
      audit_op_id: r.opId,
      caveats: [...(r.unverified ? [r.unverified] : []), ...caveats],
    };
  },
});
