import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';

// Built once: stateless HTTP registers the prompts on a new server per request.
const ACCESS_REVIEW_ARGS = {
  roster_path: z.string().optional().describe('CSV roster under SALES_ACCESS_ROSTER_DIR (email column; optional status and termination date)'),
  vendors: z.string().optional().describe('Comma-separated vendors to review, e.g. "outreach,salesloft"; default all connected'),
};
const OFFBOARD_USER_ARGS = {
  email: z.string().describe('The person\'s email, e.g. "jane.doe@acme.example"'),
  transfer_to: z.string().optional().describe('Who takes over their records, e.g. "manager@acme.example"'),
};

/** Prompts a client can offer as slash commands: the two stories admins come for. */
export function registerPrompts(server: McpServer): void {
  server.registerPrompt(
    'access-review',
    {
      title: 'Quarterly access review',
      description: 'Review who holds access in every connected sales tool against the company roster, and propose what to fix.',
      argsSchema: ACCESS_REVIEW_ARGS,
    },
    ({ roster_path, vendors }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: [
              'Run an access review of our sales tools.',
              '1. Call list_connections and tell me which vendors can be audited and which cannot (and why).',
              `2. Call access_review${roster_path ? ` with roster_path "${roster_path}"` : ' (ask me for the roster if you do not have one: a list of emails or a CSV path)'}${vendors ? ` for vendors ${vendors}` : ''}. Large tenants take minutes: while it answers status "running", tell me its progress and call it again with the same arguments until status is "done" (it picks up the same review, never starts over).`,
              '3. Summarise the findings by severity: orphaned accounts of people who left, locked or deactivated seats still billed, stale invitations, sole admins, duplicate identities, vendors without automated offboarding. Say which checks were undetermined.',
              '4. Give me the links to the evidence files (CSV, JSON, HTML).',
              '5. Propose next steps, e.g. plan_offboarding for the orphaned accounts, but do not execute anything until I confirm.',
            ].join('\n'),
          },
        },
      ],
    }),
  );

  server.registerPrompt(
    'offboard-user',
    {
      title: 'Offboard a person everywhere',
      description: 'Find a departing person in every connected sales tool, plan their offboarding, and carry it out after approval.',
      argsSchema: OFFBOARD_USER_ARGS,
    },
    ({ email, transfer_to }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: [
              `Offboard ${email} from every sales tool.`,
              `1. Call find_user for ${email} and tell me where they have access.`,
              `2. Call plan_offboarding with emails ["${email}"]${transfer_to ? ` and transfer_to "${transfer_to}"` : ''}.`,
              '3. Show me the plan: per vendor the action, whether the seat is freed, the manual steps and the follow-ups.',
              '4. Only after I say so, call execute_offboarding with the plan_id; the server will ask me to approve. If it answers status "approval_required" or "pending", show me its message with the approval link and wait until I say I decided, then call it again with the same plan_id; while it answers "running", call again the same way until "done" ("declined" means I rejected it: stop).',
              '5. Report each step\'s outcome, what still has to be done by hand, and anything to retry.',
            ].join('\n'),
          },
        },
      ],
    }),
  );
}
