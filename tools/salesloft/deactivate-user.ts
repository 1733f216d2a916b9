import * as z from 'zod';
import { ToolInputError } from '../../src/http/errors.js';
import type { ScimUser } from '../../src/vendors/scim/wire.js';
import { auditedWrite } from '../audited-write.js';
import { defineTool } from '../types.js';
import { AUDIT_ARGS, DEACTIVATE_CAVEATS, SCIM_CAVEAT, SalesloftAccountSchema, confirmShape, requireSalesloft, userRef, userRefShape } from './shared.js';

export default defineTool({
  name: 'salesloft_deactivate_user',
  vendor: 'salesloft',
  title: 'Deactivate a SalesLoft user',
  description:
    'Deactivates a SalesLoft user (active: false), which revokes their login. Addressed by id or by email (acts only when exactly one user matches case-insensitively). ' +
    'Goes through SCIM when a SalesLoft SCIM token is configured (the way an identity provider deprovisions), otherwise through the REST API; the result says which path was used. ' +
    'Reads the user first: an already-deactivated user is a success with changed: false and nothing is sent. The human must approve the deactivation: the server asks in the client (MCP elicitation) or, for clients that cannot ask, on a local approval page whose link it shows. ' +
    'Caveats: cadences and tasks owned by the user are NOT reassigned (do that in SalesLoft separately); the user record is kept, not deleted; the token only reaches users of its own team. ' +
    'Returns before and after state and the audit log operation id.',
  inputSchema: { ...userRefShape, ...confirmShape },
  outputSchema: {
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
    const tool = 'salesloft_deactivate_user';
    const client = requireSalesloft(ctx);
    const user = await client.resolveUser(userRef(args), ctx.signal);
    const [before] = await client.toAccounts([user], ctx.signal);
    const scim = ctx.deps.scim.salesloft;
    let path: 'scim' | 'rest' = scim ? 'scim' : 'rest';
    const caveats = [...DEACTIVATE_CAVEATS];

    if (before!.active === false) {
      return { changed: false, path, scim_method: null, before: before!, after: before!, confirmation: 'none', audit_op_id: null, caveats };
    }

    // Find the SCIM record before asking, so the human approves the path that will really be used.
    let scimUser: ScimUser | undefined;
    if (scim) {
      const found = before!.email ? await scim.findByUserName(before!.email, ctx.signal) : [];
      // SalesLoft's SCIM ids are its user ids (the notes' examples); among case variants, that one is ours.
      const match = found.find((u) => u.id === before!.id) ?? (found.length === 1 ? found[0] : undefined);
      if (match && match.active !== false) {
        scimUser = match;
        caveats.push(SCIM_CAVEAT);
      } else {
        path = 'rest';
        caveats.push(
          !match
            ? `SCIM is configured but ${found.length > 1 ? `${found.length} SCIM users match` : 'has no user with'} the userName ${before!.email ?? '(no email)'}; deactivated through the REST API instead.`
            : 'SCIM already reports this user inactive while the REST API shows them active; deactivated through the REST API instead.',
        );
      }
    }

    const label = `${before!.email ?? '(no email)'} (id ${before!.id})`;
    const { method: confirmation } = await ctx.confirm({
      tool,
      summary: `Deactivate SalesLoft user ${label} via ${path === 'scim' ? 'SCIM' : 'the REST API'}`,
      targets: [{ vendor: 'salesloft', id: before!.id, email: before!.email, action: `deactivate (active: false) via ${path === 'scim' ? 'SCIM' : 'REST'}: revokes login` }],
      notes: caveats,
      tokenMatches: [before!.id, ...(before!.email ? [before!.email] : [])],
      confirmArg: args.confirm,
    });

    let scimMethod: string | null = null;
    const { value: after, opId } = await auditedWrite(
      ctx,
      { tool, vendor: 'salesloft', target: { id: before!.id, email: before!.email }, args: { ...args, path }, allow: [...AUDIT_ARGS, 'path'], confirmation, before },
      async (audit) => {
        if (path === 'scim' && scim && scimUser) {
          // deprovision re-reads the SCIM user and fails unless SCIM then reports active: false.
          const r = await scim.deprovision(scimUser, ctx.signal);
          scimMethod = r.method;
          audit.vendor_request_id = r.requestId;
        } else {
          const { requestId } = await client.deactivateUser(before!.id, ctx.signal);
          audit.vendor_request_id = requestId;
        }
        // Re-read through REST so before and after are the same shape and the state is SalesLoft's own.
        const [now] = await client.toAccounts([await client.getUser(before!.id, ctx.signal)], ctx.signal);
        audit.after = now;
        if (now!.active !== false) {
          if (path === 'rest') {
            throw new ToolInputError(`SalesLoft accepted the change but still reports ${label} as active; check the user in SalesLoft before retrying.`);
          }
          // SCIM confirmed active: false; the REST view may lag behind it.
          caveats.push('SCIM reports the user inactive, but the REST API still showed them active right after; check again with salesloft_get_user in a moment.');
        }
        return now!;
      },
    );
    return { changed: true, path, scim_method: scimMethod, before: before!, after, confirmation, audit_op_id: opId, caveats };
  },
});
