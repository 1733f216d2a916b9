import { pageOf } from '../../collection.js';
import { fail, readBody, reply, type ZiCall } from '../http.js';
import type { SimZiCompany, SimZiContact } from '../seed.js';
import type { RecordKind, ZoomInfoStore } from '../store.js';
import {
  COMPANY_FIELD_BY_LOWER,
  COMPANY_SEARCH_KEYS,
  CONTACT_FIELD_BY_LOWER,
  CONTACT_SEARCH_KEYS,
  asSearchContact,
  checkKeys,
  companyAll,
  contactAll,
  normDomain,
  outputFieldsOf,
  pick,
} from './records.js';

/*
 * POST /search/contact and /search/company: criteria in the body, rpp 1..100 (default 25), page from 1;
 * every record of the page is charged, and a page the account cannot pay for is a 403.
 */

const MAX_RPP = 100;
const DEFAULT_RPP = 25;
/** Body keys that are not criteria. */
const NOT_CRITERIA = ['rpp', 'page', 'outputFields', 'sortBy', 'sortOrder'];

/** Whether an item meets a criterion, given the criterion's alternatives (lower-cased). */
type Criterion<T> = (item: T, alts: string[], store: ZoomInfoStore) => boolean;

const employer = (c: SimZiContact, store: ZoomInfoStore) => store.companies.get(c.companyId)!;

const CONTACT_CRITERIA: Record<string, Criterion<SimZiContact>> = {
  companyName: (c, alts, store) => alts.some((a) => employer(c, store).name.toLowerCase().includes(a)),
  companyId: (c, alts) => alts.includes(String(c.companyId)),
  companyWebsite: (c, alts, store) => alts.some((a) => normDomain(a) === employer(c, store).domain),
  jobTitle: (c, alts) => alts.some((a) => c.jobTitle.toLowerCase().includes(a)),
  managementLevel: (c, alts) => alts.includes(c.managementLevel.toLowerCase()),
  department: (c, alts) => alts.includes(c.department.toLowerCase()),
  firstName: (c, alts) => alts.includes(c.firstName.toLowerCase()),
  lastName: (c, alts) => alts.includes(c.lastName.toLowerCase()),
  fullName: (c, alts) => alts.includes(`${c.firstName} ${c.lastName}`.toLowerCase()),
  emailAddress: (c, alts) => alts.includes(c.email.toLowerCase()),
  personId: (c, alts) => alts.includes(String(c.id)),
  state: (c, alts) => alts.includes(c.state.toLowerCase()),
  country: (c, alts) => alts.includes(c.country.toLowerCase()),
};

const COMPANY_CRITERIA: Record<string, Criterion<SimZiCompany>> = {
  companyName: (c, alts) => alts.some((a) => c.name.toLowerCase().includes(a)),
  companyId: (c, alts) => alts.includes(String(c.id)),
  companyWebsite: (c, alts) => alts.some((a) => normDomain(a) === c.domain),
  state: (c, alts) => alts.includes(c.state.toLowerCase()),
  country: (c, alts) => alts.includes(c.country.toLowerCase()),
  industryKeywords: (c, alts) => alts.some((a) => c.primaryIndustry.toLowerCase().includes(a)),
};

/** A criterion value as a list of alternatives: an array (notes' example) or "A OR B" (collection). */
function alternatives(v: unknown, key: string): string[] {
  const items = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && typeof item !== 'number') fail(400, `${key} must be a string or a list of strings`);
    for (const part of String(item).split(/\s+OR\s+|,/)) if (part.trim()) out.push(part.trim().toLowerCase());
  }
  return out;
}

function matching<T>(items: readonly T[], body: Record<string, unknown>, criteria: Record<string, Criterion<T>>, store: ZoomInfoStore): T[] {
  const preds: ((item: T) => boolean)[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (NOT_CRITERIA.includes(key) || value === undefined || value === '') continue;
    const alts = alternatives(value, key);
    const criterion = Object.hasOwn(criteria, key) ? criteria[key] : undefined;
    if (criterion) preds.push((item) => criterion(item, alts, store));
  }
  return items.filter((item) => preds.every((p) => p(item)));
}

function paging(body: Record<string, unknown>): { rpp: number; page: number } {
  const rpp = body.rpp ?? DEFAULT_RPP;
  const page = body.page ?? 1;
  if (typeof rpp !== 'number' || !Number.isInteger(rpp) || rpp < 1 || rpp > MAX_RPP) fail(400, `rpp must be an integer from 1 to ${MAX_RPP}`);
  if (typeof page !== 'number' || !Number.isInteger(page) || page < 1) fail(400, 'page must be an integer starting at 1');
  return { rpp, page };
}

export async function search(c: ZiCall, kind: RecordKind): Promise<void> {
  const { store } = c.env;
  const body = await readBody(c);
  checkKeys(body, kind === 'contact' ? CONTACT_SEARCH_KEYS : COMPANY_SEARCH_KEYS);
  const { rpp, page } = paging(body);
  const fields = outputFieldsOf(body.outputFields, kind === 'contact' ? CONTACT_FIELD_BY_LOWER : COMPANY_FIELD_BY_LOWER);
  let total: number;
  let records: Record<string, unknown>[];
  if (kind === 'contact') {
    const matched = matching(store.contacts.all(), body, CONTACT_CRITERIA, store);
    total = matched.length;
    records = pageOf(matched, page, rpp).map((x) => asSearchContact(pick(contactAll(store, x), fields)));
  } else {
    const matched = matching(store.companies.all(), body, COMPANY_CRITERIA, store);
    total = matched.length;
    records = pageOf(matched, page, rpp).map((x) => pick(companyAll(x), fields));
  }
  const priced = records.map((rec) => ({ kind, rec }));
  const cost = store.price(priced);
  if (cost > store.remaining()) fail(403, `Record limit exceeded: this page needs ${cost} credits and ${store.remaining()} remain`);
  const spent = store.charge(priced);
  reply(c, 200, { maxResults: total, totalResults: total, currentPage: page, data: records }, body, spent);
}
