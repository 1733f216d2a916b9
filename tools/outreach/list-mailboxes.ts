import * as z from 'zod';
import { defineTool } from '../types.js';
import { requireOutreachRest, userRef, userRefShape } from './shared.js';

export default defineTool({
  name: 'outreach_list_mailboxes',
  vendor: 'outreach',
  toolsets: ['outreach'],
  title: "List an Outreach user's mailboxes",
  description:
    "Lists the mailboxes connected to one Outreach user (GET /mailboxes?filter[user][id]=), addressed by id or email. An offboarding unlinks them (plan_offboarding shows it), so scheduled emails stop going out from a leaver's mailbox.",
  inputSchema: { ...userRefShape },
  outputSchema: {
    user_id: z.string().describe('Outreach user id'),
    email: z.string().nullable().describe("The user's login email"),
    mailboxes: z.array(z.object({ id: z.string().describe('Mailbox id'), email: z.string().nullable().describe('Mailbox address') })).describe('Connected mailboxes'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const rest = requireOutreachRest(ctx);
    const { account } = await rest.client.resolveAccount(userRef(args), ctx.signal);
    const mailboxes = await rest.mailboxes.list({ ...account, seat_held: null }, ctx.signal);
    return { user_id: account.id, email: account.email, mailboxes };
  },
});
