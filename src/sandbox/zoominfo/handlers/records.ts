import { fail } from '../http.js';
import type { SimZiCompany, SimZiContact } from '../seed.js';
import type { ZoomInfoStore } from '../store.js';

/** The records search, enrich and lookup serve, and the input rules they share (field names follow the collection). */

export const CONTACT_FIELDS = [
  'id', 'firstName', 'middleName', 'lastName', 'email', 'phone', 'mobilePhone', 'jobTitle', 'managementLevel', 'department',
  'companyId', 'companyName', 'companyWebsite', 'city', 'state', 'country', 'contactAccuracyScore', 'hasEmail', 'hasDirectPhone',
  'hasMobilePhone', 'validDate', 'lastUpdatedDate',
] as const;
export const COMPANY_FIELDS = [
  'id', 'name', 'website', 'domainList', 'employeeCount', 'revenue', 'primaryIndustry', 'phone', 'street', 'city', 'state', 'country', 'ticker',
] as const;
export const CONTACT_FIELD_BY_LOWER = new Map<string, string>(CONTACT_FIELDS.map((f) => [f.toLowerCase(), f]));
export const COMPANY_FIELD_BY_LOWER = new Map<string, string>(COMPANY_FIELDS.map((f) => [f.toLowerCase(), f]));

export const CONTACT_SEARCH_KEYS = new Set([
  'rpp', 'page', 'outputFields', 'sortBy', 'sortOrder', 'companyName', 'companyId', 'companyWebsite', 'jobTitle', 'managementLevel',
  'department', 'firstName', 'lastName', 'fullName', 'emailAddress', 'personId', 'state', 'country',
]);
export const COMPANY_SEARCH_KEYS = new Set(['rpp', 'page', 'outputFields', 'sortBy', 'sortOrder', 'companyName', 'companyId', 'companyWebsite', 'state', 'country', 'industryKeywords']);
export const PERSON_INPUT_KEYS = new Set(['personId', 'emailAddress', 'firstName', 'lastName', 'fullName', 'companyId', 'companyName', 'phone', 'jobTitle']);
export const COMPANY_INPUT_KEYS = new Set(['companyId', 'companyName', 'companyWebsite', 'companyTicker', 'companyPhone', 'companyCity', 'companyState', 'companyCountry']);

/** Every field of a contact record, its employer's included. */
export function contactAll(store: ZoomInfoStore, c: SimZiContact): Record<string, unknown> {
  const co = store.companies.get(c.companyId)!;
  return {
    id: c.id,
    firstName: c.firstName,
    middleName: '',
    lastName: c.lastName,
    email: c.email,
    phone: c.phone,
    mobilePhone: c.mobilePhone ?? '',
    jobTitle: c.jobTitle,
    managementLevel: c.managementLevel,
    department: c.department,
    companyId: co.id,
    companyName: co.name,
    companyWebsite: co.website,
    city: c.city,
    state: c.state,
    country: c.country,
    contactAccuracyScore: c.contactAccuracyScore,
    hasEmail: true,
    hasDirectPhone: true,
    hasMobilePhone: c.mobilePhone !== null,
    validDate: c.validDate,
    lastUpdatedDate: c.lastUpdatedDate,
  };
}

/** Every field of a company record. */
export function companyAll(c: SimZiCompany): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    website: c.website,
    domainList: [c.domain],
    employeeCount: c.employeeCount,
    revenue: c.revenue,
    primaryIndustry: c.primaryIndustry,
    phone: c.phone,
    street: c.street,
    city: c.city,
    state: c.state,
    country: c.country,
    ticker: c.ticker ?? '',
  };
}

/** Canonical field names of `outputFields` (case-insensitive), or undefined for "all"; 400 on unknown ones. */
export function outputFieldsOf(raw: unknown, known: Map<string, string>): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.some((f) => typeof f !== 'string')) fail(400, 'outputFields must be a list of field names');
  const invalid = (raw as string[]).filter((f) => !known.has(f.toLowerCase()));
  if (invalid.length > 0) fail(400, 'There are invalid fields in your request.', { invalidOutputFields: invalid });
  return [...new Set(['id', ...(raw as string[]).map((f) => known.get(f.toLowerCase())!)])];
}

/** The `fields` of a record (all of them when undefined). */
export function pick(all: Record<string, unknown>, fields: string[] | undefined): Record<string, unknown> {
  return fields === undefined ? all : Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]));
}

/** Search records nest the employer as the collection's examples do. */
export function asSearchContact(rec: Record<string, unknown>): Record<string, unknown> {
  const { companyId, companyName, companyWebsite: _w, ...rest } = rec;
  if (companyId === undefined && companyName === undefined) return rest;
  return { ...rest, company: { ...(companyId !== undefined ? { id: companyId } : {}), ...(companyName !== undefined ? { name: companyName } : {}) } };
}

/** `https://www.acme.example/x` -> `acme.example`. */
export function normDomain(raw: string): string {
  return raw.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/^www\./, '').replace(/[/?#].*$/, '');
}

/** 400 for a body key outside `allowed` (the notes' `website` for enrich is one). */
export function checkKeys(body: Record<string, unknown>, allowed: Set<string>): void {
  const unknown = Object.keys(body).filter((k) => !allowed.has(k));
  if (unknown.length > 0) fail(400, `Invalid input field(s): ${unknown.join(', ')}`, { invalidFields: unknown });
}
