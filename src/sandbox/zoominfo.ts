import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../clock.js';
import {
  FaultQueue,
  FixedWindow,
  HttpInputError,
  closeServer,
  parseBearer,
  parseMediaType,
  readJsonBody,
  safeEqual,
  sendJson,
  serveLoopback,
  type ServeOptions,
  type FaultOptions,
} from './http-util.js';
import { PEOPLE_EMAIL_DOMAIN, generatePeople, type Person } from './people.js';
import { Rng, deriveSeed } from './prng.js';

/*
 * Embedded ZoomInfo Enterprise API simulator: a real HTTP server on loopback for /authenticate, contact and
 * company search, enrich, lookup by id and usage. Sources: /work/shared/vendor-docs/zoominfo-api.txt ("the
 * notes"), rate-limits.md, and the Enterprise collection (zoominfo-enterprise-openapi.from-postman.yml).
 * Every "Watch out for" of the notes is behaviour here:
 *
 * - /authenticate: a signed three-part JWT with `iat`/`exp`, valid 60 minutes on the injected clock; no
 *   refresh token. An expired, malformed or revoked token gets 401.
 * - search: POST, rpp 1..100 (default 25), page from 1; `outputFields` limits the fields returned. Without
 *   it every field comes back (notes: "Omitting the outputFields parameter returns all available fields and
 *   maximizes credit burn"), contact data included. Search records nest the employer as `company: {id,
 *   name}` as in the collection's examples.
 * - credits: every record returned costs credits (search, enrich, lookup; re-fetches too), whatever the
 *   match confidence. Default price 1 per record, plus `pricing.perContactReveal` for a contact record that
 *   carries email or phone. The account runs out: search and lookup then answer 403, enrich LIMIT_EXCEEDED.
 * - enrich: at most 25 inputs; each result carries `matchStatus`. Contact: FULL_MATCH; CONTACT_ONLY_MATCH
 *   (name found, but at another company); COMPANY_ONLY_MATCH (only the company matched; a company-only
 *   record, still charged); NO_MATCH; INVALID_INPUT (no usable input combination). Company: a name-only
 *   input is matched loosely ("Acme" matches the biggest company whose name contains it), the trap the
 *   notes' "providing both companyName and website improves match accuracy" is about.
 * - lookup: GET /lookup/contact/{id} (notes; not in the collection), charged like any record.
 * - usage: GET /lookup/usage (collection shape) and GET /usage (notes shape); `disableRoute()` makes either
 *   404 so a client's fallback can be tested.
 * - rate limit: over the configured requests per window the answer is 429 with no rate-limit headers and
 *   no Retry-After (notes: "no rate-limit headers or Retry-After values are emitted").
 * - input names follow the collection: enrich company takes `companyWebsite` (the notes' example says
 *   `website`, which is refused here as an unknown field).
 */

export const ZOOMINFO_JWT_TTL_MS = 60 * 60_000;
const DEFAULT_RATE_LIMIT = { limit: 600, windowMs: 60_000 };
const DEFAULT_CREDITS = 10_000;
const DEFAULT_ACME_CONTACTS = 300;
const MAX_RPP = 100;
const DEFAULT_RPP = 25;
const MAX_ENRICH = 25;

export interface ZoomInfoSimOptions extends ServeOptions {
  clock?: Clock;
  seed?: number;
  /** Default: a random `api-sandbox-<hex>@acme.example`, so limiter keys of two simulators never collide. */
  username?: string;
  password?: string;
  /** Credits the account starts with. Default 10,000. */
  credits?: number;
  /** Requests (all endpoints) per fixed window; more get 429 without headers. Default 600 per minute. */
  rateLimit?: { limit: number; windowMs: number };
  /** JWT lifetime. Default 60 minutes. */
  tokenTtlMs?: number;
  pricing?: { perRecord?: number; perContactReveal?: number };
  /** Contacts at Acme Corp, drawn from the shared generated people (active ones). Default 300. */
  acmeContacts?: number;
}

export interface SimZiCompany {
  id: number;
  name: string;
  website: string;
  domain: string;
  employeeCount: number;
  /** Thousands of USD, as the collection's enrich output describes `revenue`. */
  revenue: number;
  primaryIndustry: string;
  phone: string;
  street: string;
  city: string;
  state: string;
  country: string;
  ticker: string | null;
}

export interface SimZiContact {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  mobilePhone: string | null;
  jobTitle: string;
  managementLevel: string;
  department: string;
  companyId: number;
  city: string;
  state: string;
  country: string;
  contactAccuracyScore: number;
  validDate: string;
  lastUpdatedDate: string;
  /** Sandbox bookkeeping, never served: the generated person (Acme contacts only). */
  personKey: string | null;
}

export interface ZiSimRequest {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when the connection was dropped by failNext. */
  status: number;
  /** Parsed JSON body of a POST (for /authenticate only the username). */
  body?: unknown;
  /** Credits this request spent. */
  credits: number;
}

export type ZiFailNextOptions = FaultOptions;

export interface ZoomInfoSim {
  origin: string;
  /** The API root: paths such as /authenticate and /search/contact hang directly off it. */
  baseUrl: string;
  username: string;
  password: string;
  /** Successful /authenticate calls so far. */
  logins(): number;
  /** Every request answered so far, in order. Tests may clear it with `requests.length = 0`. */
  readonly requests: ZiSimRequest[];
  creditsUsed(): number;
  creditsRemaining(): number;
  setCredits(remaining: number): void;
  /** The next `count` requests (matching opts.path) get `status` (no headers) or a dropped connection. */
  failNext(count: number, status: number, opts?: ZiFailNextOptions): void;
  /** Requests to this exact path (e.g. '/lookup/usage') answer 404 from now on. */
  disableRoute(path: string): void;
  enableRoute(path: string): void;
  /** Calls `fn` after each answer is recorded, before the client reads it. Returns an unsubscribe function. */
  tap(fn: (entry: ZiSimRequest) => void): () => void;
  setRateLimit(limit: number, windowMs: number): void;
  /** A valid JWT for this account, expiring `ttlMs` from the clock's now (default 60 minutes). */
  issueJwt(ttlMs?: number): string;
  /** Every JWT issued so far stops working (401). */
  revokeAllTokens(): void;
  contacts(): readonly SimZiContact[];
  companies(): readonly SimZiCompany[];
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Seed

const OTHER_COMPANIES = [
  { name: 'Acme Holdings', domain: 'acmeholdings.example', industry: 'Financial Services', employees: 5400, city: 'Chicago', state: 'Illinois', ticker: 'NYSE: ACMH' },
  { name: 'Globex Corporation', domain: 'globex.example', industry: 'Manufacturing', employees: 12000, city: 'Cypress Creek', state: 'Oregon', ticker: 'NYSE: GLBX' },
  { name: 'Initech', domain: 'initech.example', industry: 'Software', employees: 800, city: 'Austin', state: 'Texas', ticker: null },
  { name: 'Vandelay Industries', domain: 'vandelay.example', industry: 'Import & Export', employees: 150, city: 'New York', state: 'New York', ticker: null },
  { name: 'Soylent Systems', domain: 'soylent.example', industry: 'Food & Beverage', employees: 2300, city: 'Portland', state: 'Oregon', ticker: 'NASDAQ: SOYL' },
  { name: 'Tyrell Logistics', domain: 'tyrell.example', industry: 'Transportation', employees: 640, city: 'Los Angeles', state: 'California', ticker: null },
  { name: 'Wonka Analytics', domain: 'wonka.example', industry: 'Business Services', employees: 90, city: 'Denver', state: 'Colorado', ticker: null },
] as const;

const LOCATIONS: Record<string, [string, string, string]> = {
  'America/New_York': ['New York', 'New York', 'United States'],
  'America/Chicago': ['Chicago', 'Illinois', 'United States'],
  'America/Denver': ['Denver', 'Colorado', 'United States'],
  'America/Los_Angeles': ['San Francisco', 'California', 'United States'],
  'Europe/London': ['London', 'England', 'United Kingdom'],
  'Europe/Berlin': ['Berlin', 'Berlin', 'Germany'],
  'Asia/Singapore': ['Singapore', 'Singapore', 'Singapore'],
  'Australia/Sydney': ['Sydney', 'New South Wales', 'Australia'],
};

const DEPARTMENTS: Record<string, string> = {
  Sales: 'Sales',
  'Sales Development': 'Sales',
  'Customer Success': 'Operations',
  Marketing: 'Marketing',
  'Revenue Operations': 'Operations',
  'Solutions Engineering': 'Engineering & Technical',
  Finance: 'Finance',
  Executive: 'C-Suite',
};

export function managementLevelOf(title: string): string {
  if (/^Chief\b/.test(title)) return 'C-Level';
  if (/^VP\b/.test(title)) return 'VP-Level';
  if (/Director/.test(title)) return 'Director';
  if (/Manager/.test(title)) return 'Manager';
  return 'Non-Manager';
}

function usDate(ms: number): string {
  // The collection writes dates as "6/19/2020 1:41 PM".
  const d = new Date(ms);
  const h = d.getUTCHours();
  const hh = h % 12 === 0 ? 12 : h % 12;
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${hh}:${String(d.getUTCMinutes()).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

const AS_OF_MS = Date.parse('2026-10-30T00:00:00Z');
const DAY_MS = 86_400_000;

/** Deterministic companies and contacts for a seed; Acme Corp's contacts are the shared generated people. */
export function buildZoomInfoData(seed = 42, acmeContacts = DEFAULT_ACME_CONTACTS): { companies: SimZiCompany[]; contacts: SimZiContact[] } {
  const rng = new Rng(deriveSeed(seed, 'zoominfo'));
  const usedIds = new Set<number>();
  const newId = (min: number, max: number) => {
    for (;;) {
      const id = rng.int(min, max);
      if (!usedIds.has(id)) {
        usedIds.add(id);
        return id;
      }
    }
  };
  const phone = () => `(555) ${String(rng.int(100, 999))}-${String(rng.int(0, 9999)).padStart(4, '0')}`;

  const companies: SimZiCompany[] = [
    {
      id: newId(10_000_000, 400_000_000),
      name: 'Acme Corp',
      website: `www.${PEOPLE_EMAIL_DOMAIN}`,
      domain: PEOPLE_EMAIL_DOMAIN,
      employeeCount: 1200,
      revenue: 180_000,
      primaryIndustry: 'Software',
      phone: phone(),
      street: '100 Market St',
      city: 'New York',
      state: 'New York',
      country: 'United States',
      ticker: null,
    },
    ...OTHER_COMPANIES.map((c) => ({
      id: newId(10_000_000, 400_000_000),
      name: c.name,
      website: `www.${c.domain}`,
      domain: c.domain,
      employeeCount: c.employees,
      revenue: c.employees * rng.int(90, 260),
      primaryIndustry: c.industry,
      phone: phone(),
      street: `${rng.int(1, 999)} ${rng.pick(['Main', 'Oak', 'Pine', 'Harbor', 'Mill'])} St`,
      city: c.city,
      state: c.state,
      country: 'United States',
      ticker: c.ticker,
    })),
  ];

  const contacts: SimZiContact[] = [];
  const addPeople = (people: Person[], company: SimZiCompany, keepKey: boolean) => {
    for (const p of people) {
      if (p.employment !== 'active') continue;
      const local = p.email.slice(0, p.email.indexOf('@'));
      const [city, state, country] = LOCATIONS[p.timeZone] ?? ['New York', 'New York', 'United States'];
      const validMs = AS_OF_MS - rng.int(1, 120) * DAY_MS - rng.int(0, 1439) * 60_000;
      contacts.push({
        id: newId(1_000_000, 2_000_000_000),
        firstName: p.firstName,
        lastName: p.lastName,
        email: `${local}@${company.domain}`,
        phone: phone(),
        mobilePhone: rng.chance(0.5) ? phone() : null,
        jobTitle: p.title,
        managementLevel: managementLevelOf(p.title),
        department: DEPARTMENTS[p.department] ?? 'Other',
        companyId: company.id,
        city,
        state,
        country,
        contactAccuracyScore: rng.int(75, 99),
        validDate: usDate(validMs),
        lastUpdatedDate: usDate(validMs - rng.int(0, 200) * DAY_MS),
        personKey: keepKey ? p.key : null,
      });
    }
  };
  addPeople(generatePeople(acmeContacts, seed), companies[0]!, true);
  for (const c of companies.slice(1)) addPeople(generatePeople(rng.int(12, 40), deriveSeed(seed, `zoominfo:${c.domain}`)), c, false);
  return { companies, contacts };
}

// ---------------------------------------------------------------------------------------------------------
// Fields

const CONTACT_FIELDS = [
  'id', 'firstName', 'middleName', 'lastName', 'email', 'phone', 'mobilePhone', 'jobTitle', 'managementLevel', 'department',
  'companyId', 'companyName', 'companyWebsite', 'city', 'state', 'country', 'contactAccuracyScore', 'hasEmail', 'hasDirectPhone',
  'hasMobilePhone', 'validDate', 'lastUpdatedDate',
] as const;
const REVEAL_FIELDS = new Set(['email', 'phone', 'mobilePhone']);
const COMPANY_FIELDS = [
  'id', 'name', 'website', 'domainList', 'employeeCount', 'revenue', 'primaryIndustry', 'phone', 'street', 'city', 'state', 'country', 'ticker',
] as const;
const CONTACT_FIELD_BY_LOWER = new Map<string, string>(CONTACT_FIELDS.map((f) => [f.toLowerCase(), f]));
const COMPANY_FIELD_BY_LOWER = new Map<string, string>(COMPANY_FIELDS.map((f) => [f.toLowerCase(), f]));

const CONTACT_SEARCH_KEYS = new Set([
  'rpp', 'page', 'outputFields', 'sortBy', 'sortOrder', 'companyName', 'companyId', 'companyWebsite', 'jobTitle', 'managementLevel',
  'department', 'firstName', 'lastName', 'fullName', 'emailAddress', 'personId', 'state', 'country',
]);
const COMPANY_SEARCH_KEYS = new Set(['rpp', 'page', 'outputFields', 'sortBy', 'sortOrder', 'companyName', 'companyId', 'companyWebsite', 'state', 'country', 'industryKeywords']);
const PERSON_INPUT_KEYS = new Set(['personId', 'emailAddress', 'firstName', 'lastName', 'fullName', 'companyId', 'companyName', 'phone', 'jobTitle']);
const COMPANY_INPUT_KEYS = new Set(['companyId', 'companyName', 'companyWebsite', 'companyTicker', 'companyPhone', 'companyCity', 'companyState', 'companyCountry']);

class ZiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? status));
  }
}

function fail(status: number, message: string, extra: Record<string, unknown> = {}): never {
  throw new ZiError(status, { responseCode: status, message, ...extra });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function normDomain(raw: string): string {
  return raw.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/^www\./, '').replace(/[/?#].*$/, '');
}

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

// ---------------------------------------------------------------------------------------------------------
// Server

export async function startZoomInfoSimulator(opts: ZoomInfoSimOptions = {}): Promise<ZoomInfoSim> {
  const clock = opts.clock ?? systemClock;
  const username = opts.username ?? `api-sandbox-${randomBytes(4).toString('hex')}@${PEOPLE_EMAIL_DOMAIN}`;
  const password = opts.password ?? `zi-sandbox-${randomBytes(12).toString('base64url')}`;
  const tokenTtlMs = opts.tokenTtlMs ?? ZOOMINFO_JWT_TTL_MS;
  const perRecord = opts.pricing?.perRecord ?? 1;
  const perContactReveal = opts.pricing?.perContactReveal ?? 0;
  const { companies, contacts } = buildZoomInfoData(opts.seed ?? 42, opts.acmeContacts ?? DEFAULT_ACME_CONTACTS);
  const companyById = new Map(companies.map((c) => [c.id, c]));
  const contactById = new Map(contacts.map((c) => [c.id, c]));
  const signingKey = randomBytes(32);

  const requests: ZiSimRequest[] = [];
  const taps = new Set<(e: ZiSimRequest) => void>();
  const faults = new FaultQueue<ZiFailNextOptions>();
  const disabled = new Set<string>();
  const rateLimit = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const rate = new FixedWindow(clock, rateLimit.limit, rateLimit.windowMs);
  const account = { creditsLimit: opts.credits ?? DEFAULT_CREDITS, creditsUsed: 0, requestCount: 0, uniqueIds: new Set<string>() };
  let logins = 0;
  let tokenGeneration = 0;

  // --- JWT ------------------------------------------------------------------------------------------------

  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const sign = (data: string) => createHmac('sha256', signingKey).update(data).digest('base64url');
  const issueJwt = (ttlMs = tokenTtlMs): string => {
    const now = clock.now();
    const head = b64({ alg: 'HS256', typ: 'JWT' });
    const body = b64({
      iss: 'zoominfo-sandbox',
      sub: username,
      iat: Math.floor(now / 1000),
      exp: Math.floor((now + ttlMs) / 1000),
      gen: tokenGeneration,
      jti: randomBytes(8).toString('hex'),
    });
    return `${head}.${body}.${sign(`${head}.${body}`)}`;
  };
  const verifyJwt = (token: string | undefined): void => {
    if (!token) fail(401, 'Missing Authorization: Bearer <jwt>; POST /authenticate first');
    const parts = token.split('.');
    if (parts.length !== 3 || !safeEqual(sign(`${parts[0]}.${parts[1]}`), parts[2]!)) fail(401, 'Invalid token');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      fail(401, 'Invalid token');
    }
    if (payload.gen !== tokenGeneration) fail(401, 'Token revoked');
    if (typeof payload.exp !== 'number' || clock.now() >= payload.exp * 1000) fail(401, 'Token expired; POST /authenticate again');
  };

  // --- serialisation -------------------------------------------------------------------------------------

  const contactAll = (c: SimZiContact): Record<string, unknown> => {
    const co = companyById.get(c.companyId)!;
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
  };
  const companyAll = (c: SimZiCompany): Record<string, unknown> => ({
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
  });

  /** Canonical field names of `outputFields` (case-insensitive), or undefined for "all"; 400 on unknown ones. */
  const outputFieldsOf = (raw: unknown, known: Map<string, string>): string[] | undefined => {
    if (raw === undefined) return undefined;
    if (!Array.isArray(raw) || raw.some((f) => typeof f !== 'string')) fail(400, 'outputFields must be a list of field names');
    const invalid = (raw as string[]).filter((f) => !known.has(f.toLowerCase()));
    if (invalid.length > 0) fail(400, 'There are invalid fields in your request.', { invalidOutputFields: invalid });
    return [...new Set(['id', ...(raw as string[]).map((f) => known.get(f.toLowerCase())!)])];
  };
  const pick = (all: Record<string, unknown>, fields: string[] | undefined) =>
    fields === undefined ? all : Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]));
  /** Search records nest the employer as the collection's examples do. */
  const asSearchContact = (rec: Record<string, unknown>) => {
    const { companyId, companyName, companyWebsite: _w, ...rest } = rec;
    if (companyId === undefined && companyName === undefined) return rest;
    return { ...rest, company: { ...(companyId !== undefined ? { id: companyId } : {}), ...(companyName !== undefined ? { name: companyName } : {}) } };
  };

  const costOf = (kind: 'contact' | 'company', rec: Record<string, unknown>) =>
    perRecord + (kind === 'contact' && Object.keys(rec).some((k) => REVEAL_FIELDS.has(k) && rec[k] !== '' && rec[k] !== undefined) ? perContactReveal : 0);
  const remaining = () => Math.max(0, account.creditsLimit - account.creditsUsed);
  const charge = (records: { kind: 'contact' | 'company'; rec: Record<string, unknown> }[]) => {
    let spent = 0;
    for (const r of records) {
      spent += costOf(r.kind, r.rec);
      if (r.rec.id !== undefined) account.uniqueIds.add(`${r.kind}:${String(r.rec.id)}`);
    }
    account.creditsUsed += spent;
    return spent;
  };

  // --- responses ------------------------------------------------------------------------------------------

  const reply = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown, logBody?: unknown, credits = 0) => {
    const entry: ZiSimRequest = { method: req.method ?? '', path: req.url ?? '', status, credits, ...(logBody !== undefined ? { body: logBody } : {}) };
    requests.push(entry);
    for (const fn of taps) fn(entry);
    sendJson(res, status, body, {}, 'application/json;charset=utf-8');
  };

  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const ct = parseMediaType(req.headers['content-type']);
    if (ct?.type !== 'application/json') {
      try {
        await readJsonBody(req);
      } catch {
        // the content type is the problem worth reporting
      }
      fail(415, 'Content-Type must be application/json');
    }
    let body: unknown;
    try {
      body = await readJsonBody(req);
    } catch (err) {
      if (err instanceof HttpInputError) fail(err.status, err.message);
      throw err;
    }
    if (!isRecord(body)) fail(400, 'Request body must be a JSON object');
    return body;
  };

  // --- search ---------------------------------------------------------------------------------------------

  const paging = (body: Record<string, unknown>) => {
    const rpp = body.rpp ?? DEFAULT_RPP;
    const page = body.page ?? 1;
    if (typeof rpp !== 'number' || !Number.isInteger(rpp) || rpp < 1 || rpp > MAX_RPP) fail(400, `rpp must be an integer from 1 to ${MAX_RPP}`);
    if (typeof page !== 'number' || !Number.isInteger(page) || page < 1) fail(400, 'page must be an integer starting at 1');
    return { rpp, page };
  };

  const checkKeys = (body: Record<string, unknown>, allowed: Set<string>) => {
    const unknown = Object.keys(body).filter((k) => !allowed.has(k));
    if (unknown.length > 0) fail(400, `Invalid input field(s): ${unknown.join(', ')}`, { invalidFields: unknown });
  };

  const contactMatches = (body: Record<string, unknown>) => {
    const preds: ((c: SimZiContact) => boolean)[] = [];
    const co = (c: SimZiContact) => companyById.get(c.companyId)!;
    for (const [key, value] of Object.entries(body)) {
      if (['rpp', 'page', 'outputFields', 'sortBy', 'sortOrder'].includes(key) || value === undefined || value === '') continue;
      const alts = alternatives(value, key);
      switch (key) {
        case 'companyName':
          preds.push((c) => alts.some((a) => co(c).name.toLowerCase().includes(a)));
          break;
        case 'companyId':
          preds.push((c) => alts.includes(String(c.companyId)));
          break;
        case 'companyWebsite':
          preds.push((c) => alts.some((a) => normDomain(a) === co(c).domain));
          break;
        case 'jobTitle':
          preds.push((c) => alts.some((a) => c.jobTitle.toLowerCase().includes(a)));
          break;
        case 'managementLevel':
          preds.push((c) => alts.includes(c.managementLevel.toLowerCase()));
          break;
        case 'department':
          preds.push((c) => alts.includes(c.department.toLowerCase()));
          break;
        case 'firstName':
          preds.push((c) => alts.includes(c.firstName.toLowerCase()));
          break;
        case 'lastName':
          preds.push((c) => alts.includes(c.lastName.toLowerCase()));
          break;
        case 'fullName':
          preds.push((c) => alts.includes(`${c.firstName} ${c.lastName}`.toLowerCase()));
          break;
        case 'emailAddress':
          preds.push((c) => alts.includes(c.email.toLowerCase()));
          break;
        case 'personId':
          preds.push((c) => alts.includes(String(c.id)));
          break;
        case 'state':
          preds.push((c) => alts.includes(c.state.toLowerCase()));
          break;
        case 'country':
          preds.push((c) => alts.includes(c.country.toLowerCase()));
          break;
      }
    }
    return contacts.filter((c) => preds.every((p) => p(c)));
  };

  const companyMatches = (body: Record<string, unknown>) => {
    const preds: ((c: SimZiCompany) => boolean)[] = [];
    for (const [key, value] of Object.entries(body)) {
      if (['rpp', 'page', 'outputFields', 'sortBy', 'sortOrder'].includes(key) || value === undefined || value === '') continue;
      const alts = alternatives(value, key);
      switch (key) {
        case 'companyName':
          preds.push((c) => alts.some((a) => c.name.toLowerCase().includes(a)));
          break;
        case 'companyId':
          preds.push((c) => alts.includes(String(c.id)));
          break;
        case 'companyWebsite':
          preds.push((c) => alts.some((a) => normDomain(a) === c.domain));
          break;
        case 'state':
          preds.push((c) => alts.includes(c.state.toLowerCase()));
          break;
        case 'country':
          preds.push((c) => alts.includes(c.country.toLowerCase()));
          break;
        case 'industryKeywords':
          preds.push((c) => alts.some((a) => c.primaryIndustry.toLowerCase().includes(a)));
          break;
      }
    }
    return companies.filter((c) => preds.every((p) => p(c)));
  };

  const handleSearch = async (req: IncomingMessage, res: ServerResponse, kind: 'contact' | 'company') => {
    const body = await readBody(req);
    checkKeys(body, kind === 'contact' ? CONTACT_SEARCH_KEYS : COMPANY_SEARCH_KEYS);
    const { rpp, page } = paging(body);
    const fields = outputFieldsOf(body.outputFields, kind === 'contact' ? CONTACT_FIELD_BY_LOWER : COMPANY_FIELD_BY_LOWER);
    const matched = kind === 'contact' ? contactMatches(body) : companyMatches(body);
    const slice = matched.slice((page - 1) * rpp, page * rpp);
    const records =
      kind === 'contact'
        ? slice.map((c) => asSearchContact(pick(contactAll(c as SimZiContact), fields)))
        : slice.map((c) => pick(companyAll(c as SimZiCompany), fields));
    const priced = records.map((rec) => ({ kind, rec }));
    const cost = priced.reduce((s, r) => s + costOf(r.kind, r.rec), 0);
    if (cost > remaining()) fail(403, `Record limit exceeded: this page needs ${cost} credits and ${remaining()} remain`);
    const spent = charge(priced);
    reply(req, res, 200, { maxResults: matched.length, totalResults: matched.length, currentPage: page, data: records }, body, spent);
  };

  // --- enrich ---------------------------------------------------------------------------------------------

  type Outcome = { matchStatus: string; data: Record<string, unknown>[] };

  const findCompanyByNameOrId = (input: Record<string, unknown>): SimZiCompany | undefined => {
    if (input.companyId !== undefined) return companyById.get(Number(input.companyId));
    if (typeof input.companyName === 'string') {
      const n = input.companyName.trim().toLowerCase();
      return companies.find((c) => c.name.toLowerCase() === n);
    }
    return undefined;
  };

  const matchPerson = (input: Record<string, unknown>, fields: string[] | undefined): Outcome => {
    const bad = Object.keys(input).filter((k) => !PERSON_INPUT_KEYS.has(k));
    if (bad.length > 0) fail(400, `Invalid input field(s) in matchPersonInput: ${bad.join(', ')}`, { invalidFields: bad });
    const full = (c: SimZiContact): Outcome => ({ matchStatus: 'FULL_MATCH', data: [pick(contactAll(c), fields)] });
    if (input.personId !== undefined) {
      const c = contactById.get(Number(input.personId));
      return c ? full(c) : { matchStatus: 'NO_MATCH', data: [] };
    }
    if (typeof input.emailAddress === 'string') {
      const e = input.emailAddress.trim().toLowerCase();
      const c = contacts.find((x) => x.email === e);
      if (c) return full(c);
      const domainCo = companies.find((x) => x.domain === e.slice(e.indexOf('@') + 1));
      return domainCo ? companyOnly(domainCo, fields) : { matchStatus: 'NO_MATCH', data: [] };
    }
    if (typeof input.phone === 'string') {
      const digits = input.phone.replace(/\D/g, '');
      const c = contacts.find((x) => x.phone.replace(/\D/g, '') === digits || (x.mobilePhone ?? '').replace(/\D/g, '') === digits);
      return c ? full(c) : { matchStatus: 'NO_MATCH', data: [] };
    }
    const hasName = (typeof input.firstName === 'string' && typeof input.lastName === 'string') || typeof input.fullName === 'string';
    const hasCompany = input.companyId !== undefined || typeof input.companyName === 'string';
    if (!hasName || !hasCompany) return { matchStatus: 'INVALID_INPUT', data: [] };
    const fullName = (typeof input.fullName === 'string' ? input.fullName : `${String(input.firstName)} ${String(input.lastName)}`).trim().toLowerCase();
    const named = contacts.filter((c) => `${c.firstName} ${c.lastName}`.toLowerCase() === fullName);
    const company = findCompanyByNameOrId(input);
    const atCompany = company ? named.filter((c) => c.companyId === company.id) : [];
    if (atCompany.length > 0) return full(atCompany.reduce((a, b) => (b.contactAccuracyScore > a.contactAccuracyScore ? b : a)));
    if (named.length > 0) return { matchStatus: 'CONTACT_ONLY_MATCH', data: [pick(contactAll(named[0]!), fields)] };
    if (company) return companyOnly(company, fields);
    return { matchStatus: 'NO_MATCH', data: [] };
  };

  const companyOnly = (co: SimZiCompany, fields: string[] | undefined): Outcome => {
    const all: Record<string, unknown> = { companyId: co.id, companyName: co.name, companyWebsite: co.website };
    const wanted = fields?.filter((f) => f.startsWith('company'));
    return { matchStatus: 'COMPANY_ONLY_MATCH', data: [wanted && wanted.length > 0 ? pick(all, wanted) : all] };
  };

  const matchCompany = (input: Record<string, unknown>, fields: string[] | undefined): Outcome => {
    const bad = Object.keys(input).filter((k) => !COMPANY_INPUT_KEYS.has(k));
    if (bad.length > 0) fail(400, `Invalid input field(s) in matchCompanyInput: ${bad.join(', ')}`, { invalidFields: bad });
    const full = (c: SimZiCompany | undefined): Outcome => (c ? { matchStatus: 'FULL_MATCH', data: [pick(companyAll(c), fields)] } : { matchStatus: 'NO_MATCH', data: [] });
    if (input.companyId !== undefined) return full(companyById.get(Number(input.companyId)));
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
    return { matchStatus: 'INVALID_INPUT', data: [] };
  };

  const handleEnrich = async (req: IncomingMessage, res: ServerResponse, kind: 'contact' | 'company') => {
    const body = await readBody(req);
    const listKey = kind === 'contact' ? 'matchPersonInput' : 'matchCompanyInput';
    checkKeys(body, new Set([listKey, 'outputFields', 'requiredFields']));
    const inputs = body[listKey];
    if (!Array.isArray(inputs) || inputs.length === 0) fail(400, `${listKey} must be a non-empty list`);
    if (inputs.length > MAX_ENRICH) fail(400, `A maximum of ${MAX_ENRICH} inputs per request is supported`);
    if (inputs.some((i) => !isRecord(i))) fail(400, `${listKey} entries must be objects`);
    const fields = outputFieldsOf(body.outputFields, kind === 'contact' ? CONTACT_FIELD_BY_LOWER : COMPANY_FIELD_BY_LOWER);
    let spent = 0;
    const result = (inputs as Record<string, unknown>[]).map((input) => {
      const outcome = kind === 'contact' ? matchPerson(input, fields) : matchCompany(input, fields);
      const priced = outcome.data.map((rec) => ({ kind: kind === 'contact' && outcome.matchStatus === 'COMPANY_ONLY_MATCH' ? ('company' as const) : kind, rec }));
      const cost = priced.reduce((s, r) => s + costOf(r.kind, r.rec), 0);
      if (cost > remaining()) return { input, data: [], matchStatus: 'LIMIT_EXCEEDED' };
      spent += charge(priced);
      return { input, data: outcome.data, matchStatus: outcome.matchStatus };
    });
    const outputFields = [fields ?? (kind === 'contact' ? [...CONTACT_FIELDS] : [...COMPANY_FIELDS])];
    reply(req, res, 200, { success: true, data: { outputFields, result } }, body, spent);
  };

  // --- lookup and usage -----------------------------------------------------------------------------------

  const handleLookup = (req: IncomingMessage, res: ServerResponse, rawId: string) => {
    if (!/^\d{1,19}$/.test(rawId)) fail(400, 'Contact id must be numeric');
    const c = contactById.get(Number(rawId));
    if (!c) fail(404, `No contact with id ${rawId}`);
    const rec = contactAll(c);
    const cost = costOf('contact', rec);
    if (cost > remaining()) fail(403, `Record limit exceeded: this lookup needs ${cost} credits and ${remaining()} remain`);
    const spent = charge([{ kind: 'contact', rec }]);
    reply(req, res, 200, rec, undefined, spent);
  };

  const usageCollection = () => ({
    usage: [
      { limitType: 'requestLimit', description: 'The maximum number of requests you can make', limit: 1_000_000, currentUsage: account.requestCount, usageRemaining: 1_000_000 - account.requestCount },
      { limitType: 'recordLimit', description: 'The maximum number of records you can retrieve', limit: account.creditsLimit, currentUsage: account.creditsUsed, usageRemaining: remaining() },
      { limitType: 'uniqueIdLimit', description: 'The maximum number of person or company records you can redeem', limit: 100_000, currentUsage: account.uniqueIds.size, usageRemaining: 100_000 - account.uniqueIds.size },
    ],
  });

  // --- authenticate ---------------------------------------------------------------------------------------

  const handleAuthenticate = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const logged = { username: typeof body.username === 'string' ? body.username : undefined };
    if (typeof body.username !== 'string' || typeof body.password !== 'string') {
      return reply(req, res, 400, { responseCode: 400, message: 'username and password are required' }, logged);
    }
    if (!safeEqual(body.username, username) || !safeEqual(body.password, password)) {
      return reply(req, res, 401, { responseCode: 401, message: 'Invalid username or password' }, logged);
    }
    logins++;
    // No refresh token: the notes and the collection document only `jwt`.
    return reply(req, res, 200, { jwt: issueJwt() }, logged);
  };

  // --- dispatch -------------------------------------------------------------------------------------------

  const overRate = (): boolean => {
    rate.roll();
    if (rate.used >= rate.limit) return true;
    rate.used++;
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    try {
      const fault = faults.take(req);
      if (fault) {
        if (fault.opts.dropConnection) {
          requests.push({ method, path: req.url ?? '', status: 0, credits: 0 });
          req.socket.destroy();
          return;
        }
        return reply(req, res, fault.status, { responseCode: fault.status, message: 'injected fault' });
      }
      // Watch out for: "Exceeding limits results in 429 responses", with no rate-limit headers or Retry-After.
      if (overRate()) return reply(req, res, 429, { responseCode: 429, message: 'Too Many Requests' });
      if (disabled.has(path)) fail(404, `No route for ${method} ${path}`);

      if (path === '/authenticate') {
        if (method !== 'POST') fail(405, 'Use POST /authenticate');
        return await handleAuthenticate(req, res);
      }
      verifyJwt(parseBearer(req.headers.authorization));
      account.requestCount++;
      if (path === '/search/contact' || path === '/search/company') {
        if (method !== 'POST') fail(405, `Use POST ${path}`);
        return await handleSearch(req, res, path === '/search/contact' ? 'contact' : 'company');
      }
      if (path === '/enrich/contact' || path === '/enrich/company') {
        if (method !== 'POST') fail(405, `Use POST ${path}`);
        return await handleEnrich(req, res, path === '/enrich/contact' ? 'contact' : 'company');
      }
      const lookup = /^\/lookup\/contact\/([^/]+)$/.exec(path);
      if (lookup) {
        if (method !== 'GET') fail(405, 'Use GET /lookup/contact/{id}');
        return handleLookup(req, res, decodeURIComponent(lookup[1]!));
      }
      if (path === '/lookup/usage') {
        if (method !== 'GET') fail(405, 'Use GET /lookup/usage');
        return reply(req, res, 200, usageCollection());
      }
      if (path === '/usage') {
        if (method !== 'GET') fail(405, 'Use GET /usage');
        return reply(req, res, 200, { creditsUsed: account.creditsUsed, creditsAvailable: remaining() });
      }
      fail(404, `No route for ${method} ${path}`);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ZiError) return reply(req, res, err.status, err.body);
      return reply(req, res, 500, { responseCode: 500, message: err instanceof Error ? err.message : String(err) });
    }
  };

  const { server, origin } = await serveLoopback(handle, { latencyMs: opts.latencyMs });

  return {
    origin,
    baseUrl: origin,
    username,
    password,
    logins: () => logins,
    requests,
    creditsUsed: () => account.creditsUsed,
    creditsRemaining: remaining,
    setCredits(n: number) {
      account.creditsLimit = account.creditsUsed + Math.max(0, n);
    },
    failNext(count: number, status: number, o: ZiFailNextOptions = {}) {
      faults.add(count, status, o);
    },
    disableRoute: (p: string) => void disabled.add(p),
    enableRoute: (p: string) => void disabled.delete(p),
    tap(fn: (e: ZiSimRequest) => void) {
      taps.add(fn);
      return () => void taps.delete(fn);
    },
    setRateLimit(limit: number, windowMs: number) {
      if (!(limit >= 0) || !(windowMs > 0)) throw new RangeError('limit must be >= 0 and windowMs > 0');
      rate.reset(limit, windowMs);
    },
    issueJwt,
    revokeAllTokens() {
      tokenGeneration++;
    },
    contacts: () => contacts.map((c) => ({ ...c })),
    companies: () => companies.map((c) => ({ ...c })),
    close: () => closeServer(server),
  };
}
