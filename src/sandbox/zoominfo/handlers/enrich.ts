import { isRecord } from '../../values.js';
import { fail, readBody, reply, type ZiCall } from '../http.js';
import type { SimZiCompany, SimZiContact } from '../seed.js';
import type { RecordKind, ZoomInfoStore } from '../store.js';
import {
  COMPANY_FIELDS,
  COMPANY_FIELD_BY_LOWER,
  COMPANY_INPUT_KEYS,
  CONTACT_FIELDS,
  CONTACT_FIELD_BY_LOWER,
  PERSON_INPUT_KEYS,
  checkKeys,
  companyAll,
  contactAll,
  normDomain,
  outputFieldsOf,
  pick,
} from './records.js';

/*
 * POST /enrich/contact and /enrich/company: at most 25 inputs, each answered with a `matchStatus`. Contact:
 * FULL_MATCH; CONTACT_ONLY_MATCH (name found, but at another company); COMPANY_ONLY_MATCH (only the company
 * matched; a company-only record, still charged); NO_MATCH; INVALID_INPUT (no usable input combination).
 * Company: a name-only input is matched loosely, the trap the notes' "providing both companyName and website
 * improves match accuracy" is about. An input the account cannot pay for is LIMIT_EXCEEDED.
 */

const MAX_ENRICH = 25;

type Outcome = { matchStatus: string; data: Record<string, unknown>[] };

const NO_MATCH: Outcome = { matchStatus: 'NO_MATCH', data: [] };
const INVALID_INPUT: Outcome = { matchStatus: 'INVALID_INPUT', data: [] };

function findCompanyByNameOrId(store: ZoomInfoStore, input: Record<string, unknown>): SimZiCompany | undefined {
  if (input.companyId !== undefined) return store.companies.get(Number(input.companyId));
  if (typeof input.companyName === 'string') {
    const n = input.companyName.trim().toLowerCase();
    return store.companies.all().find((c) => c.name.toLowerCase() === n);
  }
  return undefined;
}

function companyOnly(co: SimZiCompany, fields: string[] | undefined): Outcome {
  const all: Record<string, unknown> = { companyId: co.id, companyName: co.name, companyWebsite: co.website };
  const wanted = fields?.filter((f) => f.startsWith('company'));
  return { matchStatus: 'COMPANY_ONLY_MATCH', data: [wanted && wanted.length > 0 ? pick(all, wanted) : all] };
}

function matchPerson(store: ZoomInfoStore, input: Record<string, unknown>, fields: string[] | undefined): Outcome {
  const bad = Object.keys(input).filter((k) => !PERSON_INPUT_KEYS.has(k));
  if (bad.length > 0) fail(400, `Invalid input field(s) in matchPersonInput: ${bad.join(', ')}`, { invalidFields: bad });
  const contacts = store.contacts.all();
  const full = (c: SimZiContact): Outcome => ({ matchStatus: 'FULL_MATCH', data: [pick(contactAll(store, c), fields)] });
  if (input.personId !== undefined) {
    const c = store.contacts.get(Number(input.personId));
    return c ? full(c) : NO_MATCH;
  }
  if (typeof input.emailAddress === 'string') {
    const e = input.emailAddress.trim().toLowerCase();
    const c = contacts.find((x) => x.email === e);
    if (c) return full(c);
    const domainCo = store.companies.all().find((x) => x.domain === e.slice(e.indexOf('@') + 1));
    return domainCo ? companyOnly(domainCo, fields) : NO_MATCH;
  }
  if (typeof input.phone === 'string') {
    const digits = input.phone.replace(/\D/g, '');
    const c = contacts.find((x) => x.phone.replace(/\D/g, '') === digits || (x.mobilePhone ?? '').replace(/\D/g, '') === digits);
    return c ? full(c) : NO_MATCH;
  }
  const hasName = (typeof input.firstName === 'string' && typeof input.lastName === 'string') || typeof input.fullName === 'string';
  const hasCompany = input.companyId !== undefined || typeof input.companyName === 'string';
  if (!hasName || !hasCompany) return INVALID_INPUT;
  const fullName = (typeof input.fullName === 'string' ? input.fullName : `${String(input.firstName)} ${String(input.lastName)}`).trim().toLowerCase();
  const named = contacts.filter((c) => `${c.firstName} ${c.lastName}`.toLowerCase() === fullName);
  const company = findCompanyByNameOrId(store, input);
  const atCompany = company ? named.filter((c) => c.companyId === company.id) : [];
  if (atCompany.length > 0) return full(atCompany.reduce((a, b) => (b.contactAccuracyScore > a.contactAccuracyScore ? b : a)));
  if (named.length > 0) return { matchStatus: 'CONTACT_ONLY_MATCH', data: [pick(contactAll(store, named[0]!), fields)] };
  if (company) return companyOnly(company, fields);
  return NO_MATCH;
}

function matchCompany(store: ZoomInfoStore, input: Record<string, unknown>, fields: string[] | undefined): Outcome {
  const bad = Object.keys(input).filter((k) => !COMPANY_INPUT_KEYS.has(k));
  if (bad.length > 0) fail(400, `Invalid input field(s) in matchCompanyInput: ${bad.join(', ')}`, { invalidFields: bad });
  const companies = store.companies.all();
  const full = (c: SimZiCompany | undefined): Outcome => (c ? { matchStatus: 'FULL_MATCH', data: [pick(companyAll(c), fields)] } : NO_MATCH);
  if (input.companyId !== undefined) return full(store.companies.get(Number(input.companyId)));
  if (typeof input.companyWebsite === 'string') return full(companies.find((c) => c.domain === normDomain(input.companyWebsite as string)));
  if (typeof input.companyTicker === 'string') {
    const t = input.companyTicker.trim().toLowerCase();
    return full(companies.find((c) => c.ticker !== null && (c.ticker.toLowerCase() === t || c.ticker.toLowerCase().endsWith(`: ${t}`))));
  }
  if (typeof input.companyName === 'string') {
    const n = input.companyName.trim().toLowerCase();
    const exact = companies.find((c) => c.name.toLowerCase() === n);
    if (exact) return full(exact);
    // Loose name matching: the biggest company whose name contains the input wins, right or not.
    const loose = companies.filter((c) => c.name.toLowerCase().includes(n)).sort((a, b) => b.employeeCount - a.employeeCount);
    return full(loose[0]);
  }
  return INVALID_INPUT;
}

export async function enrich(c: ZiCall, kind: RecordKind): Promise<void> {
  const { store } = c.env;
  const body = await readBody(c);
  const listKey = kind === 'contact' ? 'matchPersonInput' : 'matchCompanyInput';
  checkKeys(body, new Set([listKey, 'outputFields', 'requiredFields']));
  const inputs = body[listKey];
  if (!Array.isArray(inputs) || inputs.length === 0) fail(400, `${listKey} must be a non-empty list`);
  if (inputs.length > MAX_ENRICH) fail(400, `A maximum of ${MAX_ENRICH} inputs per request is supported`);
  if (inputs.some((i) => !isRecord(i))) fail(400, `${listKey} entries must be objects`);
  const fields = outputFieldsOf(body.outputFields, kind === 'contact' ? CONTACT_FIELD_BY_LOWER : COMPANY_FIELD_BY_LOWER);
  let spent = 0;
  const result = (inputs as Record<string, unknown>[]).map((input) => {
    const outcome = kind === 'contact' ? matchPerson(store, input, fields) : matchCompany(store, input, fields);
    const priced = outcome.data.map((rec) => ({ kind: kind === 'contact' && outcome.matchStatus === 'COMPANY_ONLY_MATCH' ? ('company' as const) : kind, rec }));
    if (store.price(priced) > store.remaining()) return { input, data: [], matchStatus: 'LIMIT_EXCEEDED' };
    spent += store.charge(priced);
    return { input, data: outcome.data, matchStatus: outcome.matchStatus };
  });
  const outputFields = [fields ?? (kind === 'contact' ? [...CONTACT_FIELDS] : [...COMPANY_FIELDS])];
  reply(c, 200, { success: true, data: { outputFields, result } }, body, spent);
}
