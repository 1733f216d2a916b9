import * as z from 'zod';
import { emailArg } from '../args.js';
import { ToolInputError } from '../../src/errors.js';
import { MAX_ENRICH_INPUTS } from '../../src/vendors/zoominfo/client.js';
import { contactVerdict, toZoomInfoContact } from '../../src/vendors/zoominfo/map.js';
import { defineTool } from '../types.js';
import { confirmCreditShape, droppedCaveat, enrichOutputShape, matchResultsShape, NO_SEAT_LIST, outputFieldsCaveat, outputFieldsShape, runEnrich, ZoomInfoContactSchema } from './shared.js';

const TOOL = 'zoominfo_enrich_contact';

const inputShape = z
  .object({
    person_id: z.string().regex(/^\d{1,19}$/).optional().describe('ZoomInfo person id'),
    email: emailArg().optional().describe('Work email, e.g. "jane.doe@acme.example"'),
    phone: z.string().regex(/^[\d\s()+.-]{7,25}$/).optional().describe('Direct or mobile phone'),
    first_name: z.string().min(1).max(100).optional().describe('First name (with last_name and a company)'),
    last_name: z.string().min(1).max(100).optional().describe('Last name (with first_name and a company)'),
    full_name: z.string().min(1).max(200).optional().describe('Full name (with a company)'),
    company_name: z.string().min(1).max(200).optional().describe('Employer name, e.g. "Acme Corp"'),
    company_id: z.string().regex(/^\d{1,19}$/).optional().describe('ZoomInfo company id of the employer'),
  })
  .strict();

/**
 * The collection's input combinations: personId, emailAddress, hashedEmail or phone alone; or firstName +
 * lastName + companyId/companyName; or fullName + companyId/companyName. Anything else is refused here,
 * before it costs a request.
 */
function toMatchInput(c: z.infer<typeof inputShape>, i: number): Record<string, unknown> {
  const hasCompany = c.company_name !== undefined || c.company_id !== undefined;
  const unique = c.person_id !== undefined || c.email !== undefined || c.phone !== undefined;
  const byName = ((c.first_name !== undefined && c.last_name !== undefined) || c.full_name !== undefined) && hasCompany;
  if (!unique && !byName) {
    throw new ToolInputError(
      `contacts[${i}]: give person_id, email or phone; or first_name + last_name (or full_name) together with company_name or company_id. ZoomInfo cannot match anything less.`,
    );
  }
  const out: Record<string, unknown> = {};
  if (c.person_id !== undefined) out.personId = c.person_id;
  if (c.email !== undefined) out.emailAddress = c.email;
  if (c.phone !== undefined) out.phone = c.phone;
  if (c.first_name !== undefined) out.firstName = c.first_name;
  if (c.last_name !== undefined) out.lastName = c.last_name;
  if (c.full_name !== undefined) out.fullName = c.full_name;
  if (c.company_name !== undefined) out.companyName = c.company_name;
  if (c.company_id !== undefined) out.companyId = c.company_id;
  return out;
}

export default defineTool({
  name: TOOL,
  vendor: 'zoominfo',
  toolsets: ['zoominfo', 'prospecting'],
  title: 'Enrich contacts from ZoomInfo (spends credits)',
  description:
    'Matches up to 25 people against ZoomInfo (POST /enrich/contact) by person id, email, phone, or name plus company, and returns their ZoomInfo record with its matchStatus. ' +
    'COST: every record ZoomInfo returns costs credits, whatever the match confidence (by default 1 per record; ZOOMINFO_CREDITS_PER_CONTACT_REVEAL more when email/phone come back). ' +
    'Before calling, the server reserves the worst case, one record per input × the most a record can cost with the output_fields asked for, and refuses above the remaining monthly budget (SALES_ACCESS_CREDIT_BUDGET). ' +
    'Requires confirm_credit_spend: true. Low-confidence matches (anything but a single FULL_MATCH: CONTACT_ONLY_MATCH, COMPANY_ONLY_MATCH, several records, no matchStatus) are dropped unless include_low_confidence is true; they were paid for anyway. ' +
    'The result reports the credits spent (measured or estimated) and the call is written to the audit log. ' +
    NO_SEAT_LIST,
  inputSchema: {
    contacts: z.array(inputShape).min(1).max(MAX_ENRICH_INPUTS).describe('People to match, 1 to 25, e.g. [{"email":"jane.doe@acme.example"}] or [{"first_name":"Jane","last_name":"Doe","company_name":"Acme Corp"}]'),
    include_low_confidence: z.boolean().default(false).describe('true: also return partial and ambiguous matches (marked confidence: low)'),
    ...outputFieldsShape,
    ...confirmCreditShape,
  },
  outputSchema: {
    ...matchResultsShape({
      inputs: 'contacts',
      recordsField: 'contacts',
      record: ZoomInfoContactSchema,
      statuses: 'FULL_MATCH, CONTACT_ONLY_MATCH, COMPANY_ONLY_MATCH, NO_MATCH',
      confidence: 'high: one FULL_MATCH record; low: partial or ambiguous; none: no record',
    }),
    ...enrichOutputShape,
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  pagedField: 'results',
  async handler(args, ctx) {
    const inputs = args.contacts.map(toMatchInput);
    const single = args.contacts.length === 1 ? args.contacts[0]! : undefined;
    const e = await runEnrich(ctx, {
      tool: TOOL,
      kind: 'contact',
      inputs,
      outputFields: args.output_fields,
      confirmed: args.confirm_credit_spend,
      includeLowConfidence: args.include_low_confidence,
      target: { id: single?.person_id ?? null, email: single?.email ?? null },
      auditArgs: { ...args, inputs: inputs.length },
      allow: ['inputs', 'output_fields', 'include_low_confidence'],
      tallyKind: (r) => (r.matchStatus === 'COMPANY_ONLY_MATCH' ? 'company' : 'contact'),
      verdict: contactVerdict,
    });
    const caveats = [...outputFieldsCaveat(args.output_fields), ...droppedCaveat(e.droppedLow, 'Pass include_low_confidence: true to see them.')];
    return {
      results: e.matches.map(({ records, ...m }) => ({ ...m, contacts: records.map(toZoomInfoContact) })),
      ...e.totals,
      caveats: [...caveats, ...e.notes],
      truncated: false,
      full_result_uri: null,
    };
  },
});
