import * as z from 'zod';
import { restOf } from '../../src/deps.js';
import { ToolInputError } from '../../src/errors.js';
import { outreachAdapter, type OutreachRest } from '../../src/vendors/outreach/adapter.js';
import type { OutreachClient } from '../../src/vendors/outreach/client.js';
import { OutreachAccountSchema } from '../../src/vendors/outreach/map.js';
import { runChange } from '../change-tool.js';
import type { ToolContext } from '../types.js';
import { confirmTokenShape, integerUserRef } from '../user-ref.js';
import { warningsShape } from '../warnings.js';

export { OutreachAccountSchema };

/** How a tool names one Outreach user: exactly one of id or email. */
export const { shape: userRefShape, ref: userRef } = integerUserRef({ vendor: 'Outreach', maxDigits: 16, exampleId: '123' });

export const confirmShape = confirmTokenShape("the target user's exact email or id");

export function requireOutreachRest(ctx: ToolContext): OutreachRest {
  const r = restOf(ctx.deps, outreachAdapter);
  if (!r) throw new ToolInputError('Outreach is not configured on this server; see list_connections for what is.');
  return r;
}

export function requireOutreach(ctx: ToolContext): OutreachClient {
  return requireOutreachRest(ctx).client;
}

/** The fields an Outreach write records in the audit log (never a secret). */
export const AUDIT_ARGS = ['id', 'email', 'first_name', 'last_name', 'title', 'role', 'profile'];

export const writeOutputShape = {
  ...warningsShape,
  changed: z.boolean().describe('False when the account was already in the requested state (nothing was sent)'),
  before: OutreachAccountSchema.nullable().describe('The account as read before the write (null for a create)'),
  after: OutreachAccountSchema.describe('The account as Outreach reports it after the write'),
  confirmation: z.string().describe('How the write was confirmed: elicit, browser, token, or none (no write was needed or the tool is not destructive)'),
  audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
  caveats: z.array(z.string()).describe('What the admin must still know or do'),
};

/**
 * Lock or unlock one user: the adapter's lock change (the one an offboarding step makes too) through the
 * shared write path. Nothing is asked or sent when the user is already there.
 */
export async function setLocked(
  ctx: ToolContext,
  tool: string,
  args: { id?: string; email?: string; confirm?: string },
  locked: boolean,
): Promise<z.infer<z.ZodObject<typeof writeOutputShape>>> {
  const rest = requireOutreachRest(ctx);
  const { account: before } = await rest.client.resolveAccount(userRef(args), ctx.signal);
  const change = rest.lockChange({ id: before.id, email: before.email }, locked);
  const r = await runChange(ctx, change, {
    tool,
    known: before,
    confirmArg: args.confirm,
    tokenMatches: [before.id, ...(before.email ? [before.email] : [])],
    args,
    allow: AUDIT_ARGS,
  });
  return {
    changed: r.changed,
    before,
    after: r.after ?? before,
    confirmation: r.confirmation,
    audit_op_id: r.opId,
    caveats: [...(r.unverified ? [r.unverified] : []), ...r.warnings, ...change.caveats],
  };
}
