import * as z from 'zod';
import { emailArg } from '../args.js';
import { assertSynchronousReveal, CREDIT_COST, enrichmentWorstCase, MAX_BULK, personDetails, type PersonQuery } from '../../src/vendors/apollo/client.js';
import { toEnrichedPerson } from '../../src/vendors/apollo/map.js';
import type { EnrichedPerson } from '../../src/vendors/apollo/wire.js';
import { defineTool } from '../types.js';
import { confirmCreditShape, CreditsSchema, EnrichedPersonSchema, requireApollo, spendCredits } from './shared.js';
import { warningsShape } from '../warnings.js';

const personShape = z.object({
  id: z.string().min(1).max(64).optional().describe('Apollo person id, e.g. from apollo_search_people'),
  email: emailArg().optional().describe('Email address of the person'),
  first_name: z.string().min(1).max(100).optional().describe('First name (with last_name and a domain or organization_name)'),
  last_name: z.string().min(1).max(100).optional().describe('Last name'),
  name: z.string().min(1).max(200).optional().describe('Full name, instead of first_name and last_name'),
  domain: z.string().min(1).max(200).optional().describe('Employer domain without www. or @, e.g. "apollo.io"'),
  organization_name: z.string().min(1).max(200).optional().describe('Employer name'),
  linkedin_url: z.url().max(300).optional().describe('LinkedIn profile URL'),
});

const AUDIT_ARGS = ['people', 'reveal_personal_emails'];

export default defineTool({
  name: 'apollo_enrich_person',
  vendor: 'apollo',
  toolsets: ['apollo', 'prospecting'],
  title: 'Enrich people with Apollo.io (spends credits)',
  description:
    `Enriches 1 to ${MAX_BULK} people from Apollo.io's database (People Enrichment, or Bulk People Enrichment for several) and returns their work email, title, employer and location. ` +
    `COSTS CREDITS: ${CREDIT_COST.record} credit per person found (0 when nobody matches), plus ${CREDIT_COST.personalEmails} more per person with reveal_personal_emails; ` +
    'requires `confirm_credit_spend: true`, reserves the worst case against this server\'s monthly budget (SALES_ACCESS_CREDIT_BUDGET) and refuses above it, stating the numbers. ' +
    `Phone reveals and waterfall enrichment are refused: Apollo delivers them asynchronously to a webhook (a mobile number costs ${CREDIT_COST.mobilePhone} more credits). ` +
    'The result reports the credits spent (measured when Apollo reports them, else estimated); every call is in the audit log.',
  inputSchema: {
    people: z.array(personShape).min(1).max(MAX_BULK).describe(`The people to enrich, 1 to ${MAX_BULK}; each needs an id, an email, a linkedin_url, or a name with a domain or organization_name`),
    reveal_personal_emails: z.boolean().default(false).describe(`Also reveal personal emails (+${CREDIT_COST.personalEmails} credit per person in the worst case)`),
    reveal_phone_number: z.boolean().optional().describe('Refused when true: Apollo sends phone numbers to a webhook, asynchronously'),
    run_waterfall: z.boolean().optional().describe('Refused when true: waterfall enrichment is delivered to a webhook, asynchronously'),
    ...confirmCreditShape,
  },
  outputSchema: {
    ...warningsShape,
    results: z
      .array(
        z.object({
          index: z.number().int().describe('Position of the person in the request, from 0'),
          matched: z.boolean().describe('True when Apollo found the person'),
          person: EnrichedPersonSchema.nullable().describe('The enriched person, or null when nobody matched'),
        }),
      )
      .describe('One entry per requested person, in order'),
    matched: z.number().int().describe('People Apollo found'),
    endpoint: z.enum(['people/match', 'people/bulk_match']).describe('The Apollo endpoint used'),
    credits: CreditsSchema,
    audit_op_id: z.string().describe('Audit log operation id of this credit-spending call'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireApollo(ctx);
    const reveal = {
      revealPersonalEmails: args.reveal_personal_emails,
      revealPhoneNumber: args.reveal_phone_number === true,
      runWaterfallEmail: args.run_waterfall === true,
    };
    // Bad input is refused before anything is reserved or sent.
    assertSynchronousReveal(reveal);
    const queries: PersonQuery[] = args.people;
    queries.forEach((q, i) => personDetails(q, i));
    const worst = enrichmentWorstCase(queries.length, reveal);
    const bulk = queries.length > 1;
    const first = queries[0];
    const { value, credits, opId } = await spendCredits(
      ctx,
      args.confirm_credit_spend,
      {
        tool: 'apollo_enrich_person',
        worstCase: worst.credits,
        detail: worst.detail,
        target: { id: first.id ?? null, email: first.email ?? null },
        args,
        allow: AUDIT_ARGS,
      },
      async () => {
        if (bulk) {
          const r = await client.bulkEnrich(queries, reveal, ctx.signal);
          return { value: r.matches, measured: r.creditsConsumed, estimated: r.estimatedCredits, requestId: r.requestId };
        }
        const r = await client.enrichPerson(first, reveal, ctx.signal);
        return { value: [r.person] as (EnrichedPerson | null)[], estimated: r.estimatedCredits, requestId: r.requestId };
      },
    );
    const results = queries.map((_, i) => {
      const p = value[i] ?? null;
      return { index: i, matched: p !== null, person: p === null ? null : toEnrichedPerson(p) };
    });
    return {
      results,
      matched: results.filter((r) => r.matched).length,
      endpoint: bulk ? ('people/bulk_match' as const) : ('people/match' as const),
      credits,
      audit_op_id: opId,
    };
  },
});
