import * as z from 'zod';
import { inChatApprovalsFor } from '../../src/confirm/in-chat.js';
import { defineAppTool } from './types.js';

/**
 * The Approve and Reject buttons of the in-chat offboarding view. The decision is bound to one approval
 * request by its nonce (which only the view has: it came in the result's `_meta`), is made once, and is
 * taken by the next execute_offboarding call for the same plan, which then records `confirmation: "app"`
 * with this host's name in the audit log.
 */
export default defineAppTool({
  name: 'offboarding_decide',
  title: 'Approve or reject an offboarding (in-chat view)',
  description: 'Called by the offboarding view when the user clicks Approve or Reject; records the decision on that approval request, once.',
  view: 'offboarding',
  companionOf: ['execute_offboarding'],
  inputSchema: {
    approval_id: z.string().regex(/^[A-Za-z0-9_-]{22}$/).describe('The approval request'),
    nonce: z.string().min(1).max(64).describe('The request\'s nonce, from the result\'s _meta'),
    decision: z.enum(['approve', 'reject']).describe('The button clicked'),
  },
  outputSchema: {
    approval_id: z.string().describe('The approval request'),
    decision: z.enum(['approved', 'rejected']).describe('What was recorded'),
    decided_at: z.string().describe('ISO 8601'),
    summary: z.string().describe('The change decided'),
    subject: z.record(z.string(), z.string()).describe('What the request concerns, e.g. the plan id'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, ctx) {
    // Signed in with the identity provider: the session is that person's (http-server binds it), so they decided.
    const info = await inChatApprovalsFor(ctx.deps).decide(args.approval_id, args.nonce, ctx.session, args.decision === 'approve', ctx.host, ctx.person);
    ctx.deps.log.info({ approval: info.id.slice(0, 6), tool: info.tool, approved: info.decision!.approved, host: ctx.host }, 'in-chat approval decided');
    return {
      approval_id: info.id,
      decision: info.decision!.approved ? ('approved' as const) : ('rejected' as const),
      decided_at: new Date(info.decision!.decidedAt).toISOString(),
      summary: info.summary,
      subject: info.subject,
    };
  },
});
