import * as z from 'zod';
import { toProspect } from '../../src/vendors/apollo/map.js';
import { defineTool } from '../types.js';
import { ProspectSchema, requireApollo, searchPages, searchPagingOutputShape, searchPagingShape } from './shared.js';

const SENIORITIES = ['owner', 'founder', 'c_suite', 'partner', 'vp', 'head', 'director', 'manager', 'senior', 'entry', 'intern'] as const;
const list = (what: string, example: string) => z.array(z.string().min(1).max(200).describe(what)).max(100).optional().describe(`${what}; any of them matches, e.g. ${example}`);

export default defineTool({
  name: 'apollo_search_people',
  vendor: 'apollo',
  toolsets: ['apollo', 'prospecting'],
  title: 'Search the Apollo.io people database',
  description:
    "Searches Apollo.io's database of people (net-new prospects, not your teammates and not your saved contacts) through People API Search. " +
    'Returns NO email addresses and NO phone numbers, and spends NO credits; to get an email, pass a result\'s `id` to apollo_enrich_person (which costs credits). ' +
    'Apollo shows at most 50,000 records of a search (100 per page, up to 500 pages): past that the tool stops and says to narrow the filters. ' +
    'Filters: titles, seniorities, person or company locations, company domains, keywords. Fetches 1 to 10 pages per call; `next_page` continues.',
  inputSchema: {
    person_titles: list('Job titles', '["sales director", "vp of sales"]'),
    include_similar_titles: z.boolean().optional().describe('false: only strict title matches (default true in Apollo)'),
    person_seniorities: z.array(z.enum(SENIORITIES).describe('A seniority')).max(11).optional().describe(`Seniorities, any of them matches: ${SENIORITIES.join(', ')}`),
    person_locations: list('Where the people live: cities, US states or countries', '["california", "ireland"]'),
    organization_locations: list("Headquarters locations of the people's employers", '["chicago"]'),
    organization_domains: list('Employer domains without www. or @', '["apollo.io", "microsoft.com"]'),
    q_keywords: z.string().max(200).optional().describe('Keywords over the whole record, e.g. "revops"'),
    ...searchPagingShape,
  },
  outputSchema: {
    people: z.array(ProspectSchema).describe('Matching people of the pages fetched, possibly cut to fit (no emails or phones)'),
    credits_spent: z.literal(0).describe('People API Search consumes no credits'),
    ...searchPagingOutputShape,
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'people',
  async handler(args, ctx) {
    const client = requireApollo(ctx);
    const filters = {
      person_titles: args.person_titles,
      include_similar_titles: args.include_similar_titles,
      person_seniorities: args.person_seniorities,
      person_locations: args.person_locations,
      organization_locations: args.organization_locations,
      organization_domains: args.organization_domains,
      q_keywords: args.q_keywords,
    };
    const { records, paging } = await searchPages(
      ctx,
      args,
      'Apollo people search',
      (page) => client.searchPeople(filters, { page, perPage: args.per_page, signal: ctx.signal }),
      (r) => r.people,
    );
    return { people: records.map(toProspect), credits_spent: 0 as const, ...paging };
  },
});
