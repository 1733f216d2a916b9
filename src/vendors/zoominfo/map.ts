import * as z from 'zod';
import type { EnrichResult, VendorRecord } from './wire.js';

/*
 * ZoomInfo records → the shapes the tools return. These are prospect data (people and companies in
 * ZoomInfo's database), NOT ZoomInfo users or seats: the Enterprise REST API has no user or seat list, and
 * ZoomInfo seats can only be audited through SCIM (Enterprise plan, configured in the IdP).
 */

export const ZoomInfoContactSchema = z.object({
  id: z.string().nullable().describe('ZoomInfo person id'),
  first_name: z.string().nullable().describe('First name'),
  last_name: z.string().nullable().describe('Last name'),
  name: z.string().nullable().describe('First and last name'),
  email: z.string().nullable().describe('Business email (present only when asked for in output_fields, or when no output_fields were given)'),
  phone: z.string().nullable().describe('Direct phone'),
  mobile_phone: z.string().nullable().describe('Mobile phone (contact data, costs like email)'),
  job_title: z.string().nullable().describe('Current job title'),
  management_level: z.string().nullable().describe('e.g. C-Level, VP-Level, Director, Manager, Non-Manager'),
  department: z.string().nullable().describe('Department at the current company'),
  company_id: z.string().nullable().describe('ZoomInfo id of the current company'),
  company_name: z.string().nullable().describe('Current company name'),
  city: z.string().nullable().describe('Work location city'),
  state: z.string().nullable().describe('Work location state or region'),
  country: z.string().nullable().describe('Work location country'),
  accuracy_score: z.number().nullable().describe('contactAccuracyScore, 70-99: likelihood the person is reachable and still at the company'),
  has_email: z.boolean().nullable().describe('ZoomInfo holds an email for this person (search previews say so without revealing it)'),
  has_direct_phone: z.boolean().nullable().describe('ZoomInfo holds a direct phone'),
  has_mobile_phone: z.boolean().nullable().describe('ZoomInfo holds a mobile phone'),
  last_updated: z.string().nullable().describe('When ZoomInfo last updated the record, as ZoomInfo writes it'),
  other_fields: z.record(z.string(), z.unknown()).describe('Other fields ZoomInfo returned (from output_fields), unchanged'),
});
export type ZoomInfoContact = z.infer<typeof ZoomInfoContactSchema>;

export const ZoomInfoCompanySchema = z.object({
  id: z.string().nullable().describe('ZoomInfo company id'),
  name: z.string().nullable().describe('Company name'),
  website: z.string().nullable().describe('Company website'),
  domains: z.array(z.string()).describe('domainList, when returned'),
  employee_count: z.number().nullable().describe('Approximate number of employees'),
  revenue: z.number().nullable().describe('Annual revenue as ZoomInfo reports it (in thousands of USD for enrich)'),
  industry: z.string().nullable().describe('Primary industry'),
  phone: z.string().nullable().describe('Headquarters phone'),
  city: z.string().nullable().describe('Headquarters city'),
  state: z.string().nullable().describe('Headquarters state or region'),
  country: z.string().nullable().describe('Headquarters country'),
  ticker: z.string().nullable().describe('Stock ticker, when public'),
  other_fields: z.record(z.string(), z.unknown()).describe('Other fields ZoomInfo returned (from output_fields), unchanged'),
});
export type ZoomInfoCompany = z.infer<typeof ZoomInfoCompanySchema>;

function str(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) {
    const parts = v.map((x) => (typeof x === 'string' ? x : typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string' ? (x as { name: string }).name : null)).filter((x): x is string => !!x);
    return parts.length > 0 ? parts.join(', ') : null;
  }
  return null;
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return null;
}

/** ZoomInfo writes some booleans as strings (`hasCanadianEmail: 'false'` in the collection). */
function bool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return null;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

const CONTACT_KEYS = new Set([
  'id', 'personId', 'firstName', 'lastName', 'middleName', 'email', 'phone', 'directPhone', 'mobilePhone', 'jobTitle',
  'managementLevel', 'department', 'companyId', 'companyName', 'company', 'city', 'state', 'country', 'contactAccuracyScore',
  'hasEmail', 'hasDirectPhone', 'hasMobilePhone', 'lastUpdatedDate',
]);

export function toZoomInfoContact(r: VendorRecord): ZoomInfoContact {
  const company = obj(r.company);
  const first = str(r.firstName);
  const last = str(r.lastName);
  const name = [first, last].filter(Boolean).join(' ');
  const other: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!CONTACT_KEYS.has(k)) other[k] = v;
  // Notes' data model: `department`; collection's enrich output: `jobFunction: [{name, department}]`.
  const jobFunctions = Array.isArray(r.jobFunction) ? (r.jobFunction as unknown[]).map(obj).filter(Boolean) : [];
  const department = str(r.department) ?? str(jobFunctions.map((f) => f!.department).filter((d) => typeof d === 'string'));
  return {
    id: str(r.id) ?? str(r.personId),
    first_name: first,
    last_name: last,
    name: name === '' ? null : name,
    email: str(r.email),
    phone: str(r.phone) ?? str(r.directPhone),
    mobile_phone: str(r.mobilePhone),
    job_title: str(r.jobTitle),
    management_level: str(r.managementLevel),
    department,
    company_id: str(r.companyId) ?? str(company?.id),
    company_name: str(r.companyName) ?? str(company?.name),
    city: str(r.city),
    state: str(r.state),
    country: str(r.country),
    accuracy_score: num(r.contactAccuracyScore),
    has_email: bool(r.hasEmail),
    has_direct_phone: bool(r.hasDirectPhone),
    has_mobile_phone: bool(r.hasMobilePhone),
    last_updated: str(r.lastUpdatedDate),
    other_fields: other,
  };
}

const COMPANY_KEYS = new Set([
  'id', 'companyId', 'name', 'companyName', 'website', 'companyWebsite', 'domainList', 'employeeCount', 'revenue', 'primaryIndustry',
  'phone', 'city', 'state', 'country', 'ticker',
]);

export function toZoomInfoCompany(r: VendorRecord): ZoomInfoCompany {
  const other: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!COMPANY_KEYS.has(k)) other[k] = v;
  const domains = Array.isArray(r.domainList) ? (r.domainList as unknown[]).map(str).filter((d): d is string => d !== null) : [];
  return {
    id: str(r.id) ?? str(r.companyId),
    name: str(r.name) ?? str(r.companyName),
    website: str(r.website) ?? str(r.companyWebsite),
    domains,
    employee_count: num(r.employeeCount),
    revenue: num(r.revenue),
    industry: str(r.primaryIndustry),
    phone: str(r.phone),
    city: str(r.city),
    state: str(r.state),
    country: str(r.country),
    ticker: str(r.ticker),
    other_fields: other,
  };
}

/** Enrich statuses that mean "no record came back" (GTM v1 enums; the notes name matchStatus). */
export const NO_MATCH_STATUSES = new Set([
  'NO_MATCH', 'NON_MATCH_BY_LAST_UPDATED_DATE', 'NON_MATCH_BY_VALID_DATE', 'NON_MATCH_BY_REQUIRED_FIELDS',
  'NON_MATCH_BY_CONTACT_ACCURACY_MIN', 'OPT_OUT', 'LIMIT_EXCEEDED', 'INVALID_INPUT',
]);

export type Confidence = 'high' | 'low' | 'none';

export interface MatchVerdict {
  match_status: string;
  confidence: Confidence;
  /** Why a match is low confidence; null for high or none. */
  reason: string | null;
}

function statusOf(r: EnrichResult): string {
  return (r.matchStatus ?? r.meta?.matchStatus ?? '').toUpperCase() || 'UNKNOWN';
}

/**
 * Contact enrich (notes, Watch out for: "low-confidence matches may return partial or no data. Review
 * matchStatus"): only FULL_MATCH with exactly one record is high confidence. CONTACT_ONLY_MATCH (the person
 * was found at another company) and COMPANY_ONLY_MATCH (only the company matched) are partial, several
 * records for one input are ambiguous, and a record without a matchStatus cannot be trusted either.
 */
export function contactVerdict(r: EnrichResult): MatchVerdict {
  const status = statusOf(r);
  if (r.data.length === 0) return { match_status: status, confidence: 'none', reason: null };
  if (r.data.length > 1) return { match_status: status, confidence: 'low', reason: `${r.data.length} records matched one input (ambiguous)` };
  if (status === 'FULL_MATCH') return { match_status: status, confidence: 'high', reason: null };
  if (status === 'CONTACT_ONLY_MATCH') return { match_status: status, confidence: 'low', reason: 'the person matched but not at the company given' };
  if (status === 'COMPANY_ONLY_MATCH') return { match_status: status, confidence: 'low', reason: 'only the company matched; the record carries no person data' };
  if (status === 'UNKNOWN') return { match_status: status, confidence: 'low', reason: 'ZoomInfo returned a record without a matchStatus' };
  return { match_status: status, confidence: 'low', reason: `matchStatus ${status} is not a full match` };
}

function normName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/**
 * Company enrich: ZoomInfo reports only FULL_MATCH / NO_MATCH for companies, so confidence comes from the
 * input (notes, Watch out for: "Providing both companyName and website improves match accuracy"). A match
 * on a unique key (company id, website, ticker) is high; a name-only input is high only when the returned
 * name equals the one given, since ZoomInfo matches names loosely.
 */
export function companyVerdict(r: EnrichResult, input: { companyId?: unknown; companyName?: unknown; companyWebsite?: unknown; companyTicker?: unknown }): MatchVerdict {
  const status = statusOf(r);
  if (r.data.length === 0) return { match_status: status, confidence: 'none', reason: null };
  if (r.data.length > 1) return { match_status: status, confidence: 'low', reason: `${r.data.length} companies matched one input (ambiguous); add the website` };
  if (status !== 'FULL_MATCH') {
    return { match_status: status, confidence: 'low', reason: status === 'UNKNOWN' ? 'ZoomInfo returned a record without a matchStatus' : `matchStatus ${status} is not a full match` };
  }
  if (input.companyId !== undefined || input.companyWebsite !== undefined || input.companyTicker !== undefined) {
    return { match_status: status, confidence: 'high', reason: null };
  }
  const given = typeof input.companyName === 'string' ? normName(input.companyName) : '';
  const gotName = str(r.data[0]!.name) ?? str(r.data[0]!.companyName);
  if (given !== '' && given === normName(gotName ?? '')) return { match_status: status, confidence: 'high', reason: null };
  return {
    match_status: status,
    confidence: 'low',
    reason: `matched on company name only ("${String(input.companyName)}" → "${gotName ?? 'unnamed'}"); give the website too`,
  };
}
