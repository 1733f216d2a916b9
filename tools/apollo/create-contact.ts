import * as z from 'zod';
import { emailArg } from '../args.js';
import { ToolInputError } from '../../src/errors.js';
import { toContact } from '../../src/vendors/apollo/map.js';
import { auditedWrite } from '../audited-write.js';
import { defineTool } from '../types.js';
import { ContactSchema, NO_REST_DEACTIVATION, requireApollo, VENDOR } from './shared.js';

const AUDIT_ARGS = ['email', 'first_name', 'last_name', 'title', 'organization_name', 'website_url'];
const CAVEATS = [
  'This is a CRM contact in your Apollo account, NOT a seat or teammate: it grants no access to Apollo. Seats are provisioned through SCIM or Settings > Users and Teams.',
  NO_REST_DEACTIVATION,
];

export default defineTool({
  name: 'apollo_create_contact',
  vendor: 'apollo',
  toolsets: ['apollo', 'prospecting'],
  title: 'Create an Apollo.io contact (a CRM record, not a seat)',
  description:
    "Creates a CONTACT in your team's Apollo.io account (POST /contacts): a CRM record about a person, NOT a platform user, teammate or seat, so it grants no access to Apollo. " +
    'Provision seats through SCIM or in Settings > Users and Teams instead. Idempotent on email: when a contact with that email exists (case-insensitive), nothing is created and it is returned with changed: false ' +
    "(Apollo's own run_dedupe is never used, because on a match it silently overwrites the existing contact). Spends no credits. Recorded in the audit log.",
  inputSchema: {
    first_name: z.string().min(1).max(100).optional().describe('First name, e.g. "Jane"'),
    last_name: z.string().min(1).max(100).optional().describe('Last name, e.g. "Doe"'),
    email: emailArg().optional().describe('Email, e.g. "jane.doe@example.com"; used to avoid duplicates'),
    title: z.string().max(200).optional().describe('Job title, e.g. "VP of Sales"'),
    organization_name: z.string().max(200).optional().describe('Employer, e.g. "Example Corp"'),
    website_url: z.url().max(300).optional().describe('Company website, e.g. "https://example.com"'),
  },
  outputSchema: {
    changed: z.boolean().describe('False when a contact with this email already existed (nothing was created)'),
    contact: ContactSchema.describe('The created (or already existing) contact'),
    audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
    caveats: z.array(z.string()).describe('What this did and did not do'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireApollo(ctx);
    if (!args.email && !args.first_name && !args.last_name) {
      throw new ToolInputError('Give at least an `email`, or a `first_name` / `last_name`, for the contact.');
    }
    if (args.email) {
      const existing = await client.findContactsByEmail(args.email, ctx.signal);
      if (existing.length > 0) {
        const contact = toContact(existing[0]);
        return {
          changed: false,
          contact,
          audit_op_id: null,
          caveats: [`A contact with this email already exists (id ${contact.id}${existing.length > 1 ? `, and ${existing.length - 1} more` : ''}); nothing was created.`, ...CAVEATS],
        };
      }
    }
    const { value: contact, opId } = await auditedWrite(
      ctx,
      { tool: 'apollo_create_contact', vendor: VENDOR, target: { id: null, email: args.email ?? null }, args, allow: AUDIT_ARGS, confirmation: 'none', before: null },
      async (audit) => {
        const { contact, requestId } = await client.createContact(
          {
            first_name: args.first_name,
            last_name: args.last_name,
            email: args.email,
            title: args.title,
            organization_name: args.organization_name,
            website_url: args.website_url,
          },
          ctx.signal,
        );
        audit.vendor_request_id = requestId;
        const out = toContact(contact);
        audit.after = out;
        return out;
      },
    );
    return { changed: true, contact, audit_op_id: opId, caveats: CAVEATS };
  },
});
