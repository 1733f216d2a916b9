import * as z from 'zod';
import { ToolInputError } from '../../src/http/errors.js';
import { OutreachAccountSchema, toOutreachAccount, type OutreachAccount } from '../../src/vendors/outreach/map.js';
import type { OutreachClient } from '../../src/vendors/outreach/client.js';
import type { ToolContext } from '../types.js';
import { auditedWrite } from '../audited-write.js';
import { confirmTokenShape, integerUserRef } from '../user-ref.js';

export { OutreachAccountSchema };

/** How a tool names one Outreach user: exactly one of id or email. */
export const { shape: userRefShape, ref: userRef } = integerUserRef({ vendor: 'Outreach', maxDigits: 16, exampleId: '123' });

export const confirmShape = confirmTokenShape("the target user's exact email or id");

export function requireOutreach(ctx: ToolContext): OutreachClient {
  const c = ctx.deps.outreach;
  if (!c) throw new ToolInputError('Outreach is not configured on this server; see list_connections for what is.');
  return c;
}

/** The fields an Outreach write records in the audit log (never a secret). */
export const AUDIT_ARGS = ['id', 'email', 'first_name', 'last_name', 'title', 'role', 'profile'];

export const LOCK_CAVEATS = [
  'A locked Outreach user still holds a licensed seat until Outreach support removes the user or SCIM DELETE does (Enterprise), as the Outreach notes say.',
  'Locking does not reassign the user\'s sequences, prospects or tasks: reassign them in Outreach separately.',
];

export const writeOutputShape = {
  changed: z.boolean().describe('False when the account was already in the requested state (nothing was sent)'),
  before: OutreachAccountSchema.nullable().describe('The account as read before the write (null for a create)'),
  after: OutreachAccountSchema.describe('The account as Outreach reports it after the write'),
  confirmation: z.string().describe('How the write was confirmed: elicit, browser, token, or none (no write was needed or the tool is not destructive)'),
  audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
  caveats: z.array(z.string()).describe('What the admin must still know or do'),
};

/**
 * Lock or unlock one user: read first, do nothing when already there, else pass the confirmation gate,
 * PATCH `locked`, and re-read to report the state Outreach really holds.
 */
const NO_NAMES = { roles: new Map<string, string>(), profiles: new Map<string, string>() };

export async function setLocked(
  ctx: ToolContext,
  tool: string,
  args: { id?: string; email?: string; confirm?: string },
  locked: boolean,
): Promise<z.infer<z.ZodObject<typeof writeOutputShape>>> {
  const client = requireOutreach(ctx);
  const { account: before } = await client.resolveAccount(userRef(args), ctx.signal);
  const caveats = locked
    ? LOCK_CAVEATS
    : ['Unlocking restores login immediately; the user gets back the sequences and prospects they still own.'];
  if (before.locked === locked) {
    return { changed: false, before, after: before, confirmation: 'none', audit_op_id: null, caveats };
  }
  const label = `${before.email ?? '(no email)'} (id ${before.id})`;
  // Both directions pass the gate: unlocking the wrong person (say, someone who has left) gives access back
  // to whoever should not have it, as surely as a wrong lock takes it from someone who should.
  const confirmation = (
    await ctx.confirm({
      tool,
      summary: `${locked ? 'Lock' : 'Unlock'} Outreach user ${label}`,
      targets: [{ vendor: 'outreach', id: before.id, email: before.email, action: locked ? 'lock (locked: true): blocks login' : 'unlock (locked: false): restores login' }],
      notes: caveats,
      tokenMatches: [before.id, ...(before.email ? [before.email] : [])],
      confirmArg: args.confirm,
    })
  ).method;
  let unverified: string | undefined;
  const { value: after, opId } = await auditedWrite(
    ctx,
    { tool, vendor: 'outreach', target: { id: before.id, email: before.email }, args, allow: AUDIT_ARGS, confirmation, before },
    async (audit) => {
      const { user: written, requestId } = await client.updateUser(before.id, { locked }, {}, ctx.signal);
      audit.vendor_request_id = requestId;
      // The PATCH answer may carry only the changed attribute (notes' example), so re-read the whole user.
      let after: OutreachAccount;
      try {
        [after] = await client.toAccounts([await client.getUser(before.id, ctx.signal)], ctx.signal);
      } catch (err) {
        // Outreach accepted the write: a failed read-back must not record it as failed. Report what the PATCH
        // answered and say it is unverified.
        unverified = `Outreach accepted the change, but reading the user back failed (${(err as Error).message}); check it with outreach_get_user.`;
        return { ...before, status: toOutreachAccount(written, NO_NAMES).status, locked };
      }
      if (after.locked !== locked) {
        throw new ToolInputError(`Outreach accepted the change but still reports locked=${String(after.locked)} for ${label}; check the user in Outreach.`);
      }
      audit.after = after;
      return after;
    },
  );
  return { changed: true, before, after, confirmation, audit_op_id: opId, caveats: unverified ? [unverified, ...caveats] : caveats };
}
