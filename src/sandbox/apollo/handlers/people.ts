import { pageOf } from '../../collection.js';
import { MAX_PAGES, fail, listParam, paging, param, strParam, truthy, type ApolloCall } from '../http.js';
import type { SimProspect } from '../seed.js';
import type { ApolloStore } from '../store.js';

/*
 * The Apollo people database. People API Search: filters from the JSON body (notes) or the query
 * (`person_titles[]`, spec); per_page capped at 100; pages past 500 come back empty (the 50,000-record display
 * limit) with total_entries unchanged; never an email or phone. People Enrichment: charged per matched person
 * (ApolloStore.chargeEnrichment); a mobile phone needs webhook_url (else 400), and so do waterfall parameters.
 * No match: `{person: null}`, 0 credits. Bulk: up to 10 `details`, `credits_consumed` reported.
 */

function obfuscate(last: string): string {
  if (last.length <= 3) return `${last.charAt(0)}***`;
  return `${last.slice(0, 2)}***${last.charAt(last.length - 1)}`;
}

function serializeProspect(p: SimProspect) {
  return {
    id: p.id,
    first_name: p.first_name,
    last_name_obfuscated: obfuscate(p.last_name),
    title: p.title,
    last_refreshed_at: p.last_refreshed_at,
    has_email: true,
    has_city: true,
    has_state: true,
    has_country: true,
    has_direct_phone: p.mobile_phone ? 'Yes' : 'Maybe: please request direct dial via people/bulk_match',
    organization: { name: p.organization.name, has_industry: true, has_phone: true, has_city: true, has_state: true, has_country: true },
  };
}

function serializeEnriched(p: SimProspect, personal: boolean) {
  return {
    id: p.id,
    first_name: p.first_name,
    last_name: p.last_name,
    name: `${p.first_name} ${p.last_name}`,
    linkedin_url: p.linkedin_url,
    title: p.title,
    email_status: 'verified',
    email: p.email,
    personal_emails: personal && p.personal_email ? [p.personal_email] : [],
    organization_id: p.organization.id,
    organization: { id: p.organization.id, name: p.organization.name, primary_domain: p.organization.domain },
    city: p.city,
    state: p.state,
    country: p.country,
    seniority: p.seniority,
    revealed_for_current_team: true,
  };
}

export function searchPeople(c: ApolloCall) {
  const { page, perPage } = paging(c);
  const titles = listParam(c, 'person_titles');
  const seniorities = listParam(c, 'person_seniorities');
  const locations = listParam(c, 'person_locations');
  const orgLocations = listParam(c, 'organization_locations');
  const domains = listParam(c, 'q_organization_domains_list').map((d) => d.replace(/^www\./, ''));
  const keywords = strParam(c, 'q_keywords')?.toLowerCase();
  const key = JSON.stringify([titles, seniorities, locations, orgLocations, domains, keywords]);
  const all = c.env.store.prospects.search(key, (p) => {
    if (titles.length && !titles.some((t) => p.title.toLowerCase().includes(t))) return false;
    if (seniorities.length && !seniorities.includes(p.seniority)) return false;
    const place = `${p.city} ${p.state} ${p.country}`.toLowerCase();
    if (locations.length && !locations.some((l) => place.includes(l))) return false;
    if (orgLocations.length && !orgLocations.some((l) => place.includes(l))) return false;
    if (domains.length && !domains.includes(p.organization.domain)) return false;
    if (keywords && !`${p.first_name} ${p.last_name} ${p.title} ${p.organization.name}`.toLowerCase().includes(keywords)) return false;
    return true;
  });
  // Display limit: nothing past page 500 (50,000 records at 100 per page), whatever the total.
  const people = page > MAX_PAGES ? [] : pageOf(all, page, perPage);
  return { total_entries: all.length, people: people.map(serializeProspect) };
}

/** The person one set of match details names: by id, email, LinkedIn URL, or name and company. */
function findProspect(store: ApolloStore, d: Record<string, unknown>): SimProspect | undefined {
  const { prospects } = store;
  const s = (k: string) => (typeof d[k] === 'string' && (d[k] as string).trim() !== '' ? (d[k] as string).trim() : undefined);
  const id = s('id');
  if (id) return prospects.byId(id);
  const email = s('email')?.toLowerCase();
  if (email) return prospects.byEmail(email);
  const linkedin = s('linkedin_url');
  if (linkedin) {
    const m = /-(\d+)\/?$/.exec(linkedin);
    const p = m ? prospects.at(Number(m[1])) : undefined;
    return p && Number(m![1]) < prospects.count && p.linkedin_url === linkedin ? p : undefined;
  }
  const name = (s('name') ?? [s('first_name'), s('last_name')].filter(Boolean).join(' ')).toLowerCase();
  const domain = s('domain')?.toLowerCase().replace(/^www\./, '');
  const org = s('organization_name')?.toLowerCase();
  if (!name || (!domain && !org)) return undefined;
  return prospects.all().find(
    (p) => `${p.first_name} ${p.last_name}`.toLowerCase() === name && (domain ? p.organization.domain === domain : p.organization.name.toLowerCase() === org),
  );
}

function revealOptions(c: ApolloCall) {
  const personal = truthy(param(c, 'reveal_personal_emails'));
  const phone = truthy(param(c, 'reveal_phone_number'));
  const waterfall = truthy(param(c, 'run_waterfall_email')) || truthy(param(c, 'run_waterfall_phone'));
  const webhook = strParam(c, 'webhook_url');
  if (phone && !webhook) fail(400, { error: "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number' = true" });
  if (waterfall && !webhook) fail(400, { error: "Please add a valid 'webhook_url' parameter when running waterfall enrichment" });
  return { personal, phone, waterfall };
}

/** Charges the enrichment of `p` to the caller and this request's log entry. */
function charge(c: ApolloCall, p: SimProspect | undefined, reveal: { personal: boolean; phone: boolean }): number {
  const cost = c.env.store.chargeEnrichment(c.cred!.owner, p, reveal);
  c.credits += cost;
  return cost;
}

/** Apollo's request ids: a digit for the endpoint, then the request's position in the log. */
function requestId(c: ApolloCall, prefix: 1 | 2): number {
  return Number(`${prefix}${String(c.env.requests.length).padStart(9, '0')}`);
}

export function match(c: ApolloCall) {
  const r = revealOptions(c);
  const details: Record<string, unknown> = { ...Object.fromEntries(c.url.searchParams), ...c.body };
  const p = findProspect(c.env.store, details);
  charge(c, p, r);
  const out: Record<string, unknown> = { person: p ? serializeEnriched(p, r.personal) : null, request_id: requestId(c, 1) };
  if (r.waterfall) out.waterfall = { status: 'accepted', message: 'Waterfall enrichment request accepted. Results will be sent to the provided webhook URL.' };
  return out;
}

export function bulkMatch(c: ApolloCall) {
  const r = revealOptions(c);
  const details = c.body.details;
  if (!Array.isArray(details) || details.length === 0) fail(422, { error: 'details is required: an array of up to 10 people' });
  if (details.length > 10) fail(422, { error: `You can enrich up to 10 people per request; got ${details.length}` });
  let consumed = 0;
  let enriched = 0;
  const matches = details.map((d) => {
    const p = typeof d === 'object' && d !== null ? findProspect(c.env.store, d as Record<string, unknown>) : undefined;
    const cost = charge(c, p, r);
    consumed += cost;
    if (cost > 0) enriched += 1;
    return p ? serializeEnriched(p, r.personal) : null;
  });
  return {
    status: 'success',
    error_code: null,
    error_message: null,
    total_requested_enrichments: details.length,
    unique_enriched_records: enriched,
    missing_records: matches.filter((m) => m === null).length,
    credits_consumed: consumed,
    matches,
    request_id: requestId(c, 2),
  };
}
