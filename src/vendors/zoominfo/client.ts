import type * as z from 'zod';
import type { AuthKind } from '../../auth/types.js';
import { systemClock, type Clock } from '../../clock.js';
import type { HttpCore } from '../../http/core.js';
import { ToolInputError, VendorError } from '../../errors.js';
import { parseVendorBody } from '../../http/parse.js';
import type { Limiter } from '../../http/limiter.js';
import type { VendorRequest } from '../../http/types.js';
import { silentLogger, type Logger } from '../../log.js';
import {
  EnrichResponse,
  LookupResponse,
  SearchResponse,
  UsageResponse,
  type EnrichResult,
  type UsageEntry,
  type VendorRecord,
} from './wire.js';

/**
 * ZoomInfo Enterprise API (JWT auth) for the data endpoints: search, enrich, lookup and usage. Every
 * record it returns costs credits (notes, "Why building this yourself is a trap"), so this client never
 * repeats a spending request whose outcome is unknown, and the tools put a credit guard in front of it.
 * It has no user or seat calls: ZoomInfo's REST API has none (seats are audited through SCIM only).
 */

/** Notes, "Rate limits, pagination": default page size 25, maximum 100. */
export const MAX_RPP = 100;
export const DEFAULT_RPP = 25;
/** Collection, Contact/Company Enrich: "a maximum of 25 contacts in a single enrich request". */
export const MAX_ENRICH_INPUTS = 25;

export type RecordKind = 'contact' | 'company';

/** Contact fields that carry contact data; asking for any of them (or for all fields) is a "reveal". */
export const CONTACT_REVEAL_FIELDS = ['email', 'phone', 'directPhone', 'mobilePhone', 'supplementalEmail', 'personalEmail'] as const;
const REVEAL_LOWER = new Set(CONTACT_REVEAL_FIELDS.map((f) => f.toLowerCase()));

export interface CreditPricing {
  perRecord: number;
  perContactReveal: number;
}

/**
 * The most credits one returned record can cost with these output fields: the base price, plus the reveal
 * surcharge for a contact whose output includes contact data. No output fields means every field (notes:
 * "Omitting the outputFields parameter returns all available fields and maximizes credit burn").
 */
export function maxCreditsPerRecord(pricing: CreditPricing, kind: RecordKind, outputFields: readonly string[] | undefined): number {
  if (kind === 'company') return pricing.perRecord;
  const reveals = outputFields === undefined || outputFields.some((f) => REVEAL_LOWER.has(f.toLowerCase()));
  return pricing.perRecord + (reveals ? pricing.perContactReveal : 0);
}

/**
 * What one record that came back probably cost: the base price, plus the reveal surcharge for a contact
 * that carries an email or phone value. Used when ZoomInfo's usage counter cannot tell.
 */
export function estimateRecordCredits(pricing: CreditPricing, kind: RecordKind, record: Record<string, unknown>): number {
  if (kind === 'company') return pricing.perRecord;
  const reveals = Object.entries(record).some(([k, v]) => REVEAL_LOWER.has(k.toLowerCase()) && v !== null && v !== undefined && v !== '');
  return pricing.perRecord + (reveals ? pricing.perContactReveal : 0);
}

// ---------------------------------------------------------------------------------------------------------
// Adaptive rate

export interface AdaptiveRateOptions {
  /** Returns the limiter the core uses for the default bucket (resolved per call: the registry may be cleared). */
  limiter: () => Limiter;
  /** Name of the policy window whose limit is adapted. */
  window: string;
  /** The configured rate: where it starts and the most it climbs back to. */
  ceiling: number;
  clock?: Clock;
  log?: Logger;
  /** Clean requests needed for +1: max(this, current limit), i.e. about a window's worth. Default 10. */
  recoverAfter?: number;
}

/**
 * AIMD over the HttpCore limiter for a vendor without rate-limit headers (ZoomInfo: "no rate-limit headers
 * or Retry-After values are emitted"). It starts at the configured rate; a 429 halves the limit (429s
 * within a second of each other count once); after a window's worth of requests without a 429 (at least
 * 10) it goes up by one, never above the configured rate: the configured rate is the ceiling because,
 * without headers, probing above it would only be found out by earning 429s. The new limit is handed to the limiter through learn(), so
 * list_connections shows it. The 429 itself is retried by the core (backoff with jitter, since there is
 * no Retry-After), which also holds the whole bucket meanwhile.
 */
const MERGE_429_MS = 1000;

export class AdaptiveRate {
  private current: number;
  private streak = 0;
  private seen429: number | undefined;
  private lastCutAt = -Infinity;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly opts: AdaptiveRateOptions) {
    this.current = opts.ceiling;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.seen429 = opts.limiter().last429At;
  }

  get limit(): number {
    return this.current;
  }

  /** Called after every request of the bucket, `ok` when it succeeded. */
  after(ok: boolean): void {
    const limiter = this.opts.limiter();
    const last = limiter.last429At;
    if (last !== undefined && last !== this.seen429) {
      this.seen429 = last;
      this.decrease(limiter, last);
      return;
    }
    if (!ok) return;
    this.streak++;
    if (this.current < this.opts.ceiling && this.streak >= Math.max(this.opts.recoverAfter ?? 10, this.current)) {
      this.streak = 0;
      this.set(limiter, this.current + 1);
      this.log.info({ vendor: limiter.vendor, limit_per_window: this.current, window: this.opts.window }, 'rate recovering after clean requests');
    }
  }

  private decrease(limiter: Limiter, at: number): void {
    this.streak = 0;
    // 429s of requests that were in flight together are one signal, not several.
    if (at - this.lastCutAt < MERGE_429_MS) return;
    this.lastCutAt = at;
    const next = Math.max(1, Math.floor(this.current / 2));
    this.set(limiter, next);
    this.log.warn({ vendor: limiter.vendor, limit_per_window: next, window: this.opts.window, at: new Date(this.clock.now()).toISOString() }, '429 without rate-limit headers; halving the request rate');
  }

  private set(limiter: Limiter, value: number): void {
    this.current = value;
    limiter.learn(this.opts.window, { limit: value });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Client

export interface SearchPage {
  records: VendorRecord[];
  /** Matches in ZoomInfo's database. The notes show maxResults = totalResults = all matches; the collection's example has totalResults equal to the records on the page, so maxResults is preferred. */
  maxResults: number | undefined;
  totalResults: number | undefined;
  page: number;
  requestId: string | undefined;
}

export interface SearchRun {
  records: VendorRecord[];
  pagesFetched: number;
  /** maxResults, else totalResults, of the last page. */
  total: number | undefined;
  /** The page to ask for next, or null when the last page was reached. */
  nextPage: number | null;
}

export interface LookupResult {
  record: VendorRecord;
  /** True when answered from this process's cache: nothing was spent. */
  cached: boolean;
  /** Where the record came from. */
  via: 'cache' | 'lookup' | 'enrich';
  /** When the record was fetched from ZoomInfo (epoch ms). */
  fetchedAt: number;
}

export interface UsageReport {
  /** The path that answered: `/lookup/usage` (collection) or `/usage` (notes). */
  path: string;
  credits_used: number | null;
  credits_remaining: number | null;
  credits_limit: number | null;
  /** Which field the credit figures come from, e.g. `creditsUsed` or `usage[recordLimit]`. */
  basis: string | null;
  entries: { limit_type: string; description: string | null; limit: number | null; used: number | null; remaining: number | null }[];
}

export type Criteria = Record<string, string | number | boolean | undefined>;

const USAGE_PATHS = ['/lookup/usage', '/usage'] as const;
const LOOKUP_CACHE_MAX = 5000;

export class ZoomInfoClient {
  private readonly cache = new Map<string, { record: VendorRecord; at: number }>();
  /** Learned at run time: the notes' /lookup/contact/{id} may not exist (the collection has no such path). */
  private lookupVia: 'lookup' | 'enrich' = 'lookup';
  private usagePath: string | undefined;

  constructor(
    readonly core: HttpCore,
    readonly authKind: AuthKind,
    readonly pricing: CreditPricing,
    private readonly opts: { clock?: Clock; log?: Logger; rate?: AdaptiveRate } = {},
  ) {}

  private get now(): number {
    return (this.opts.clock ?? systemClock).now();
  }

  /** The current adapted limit per minute (for list_connections and tests). */
  get rateLimitPerMinute(): number | undefined {
    return this.opts.rate?.limit;
  }

  private async call<T>(schema: z.ZodType<T>, req: VendorRequest): Promise<{ body: T; requestId: string | undefined }> {
    let ok = false;
    let res;
    try {
      res = await this.core.request<unknown>(req);
      ok = true;
    } finally {
      this.opts.rate?.after(ok);
    }
    const body = parseVendorBody(this.core, schema, res, req);
    return { body, requestId: res.requestId };
  }

  /**
   * One page of /search/contact or /search/company (POST, JSON body; rpp 1..100, page 1-based). Not
   * repeated after a 5xx or a reset: the page may have been delivered and charged already.
   */
  async searchPage(kind: RecordKind, criteria: Criteria, opts: { rpp: number; page: number; outputFields?: readonly string[]; signal?: AbortSignal }): Promise<SearchPage> {
    const rpp = checkRpp(opts.rpp);
    if (!Number.isInteger(opts.page) || opts.page < 1) throw new ToolInputError('`page` starts at 1.');
    const body: Record<string, unknown> = { rpp, page: opts.page };
    for (const [k, v] of Object.entries(criteria)) if (v !== undefined) body[k] = v;
    if (opts.outputFields && opts.outputFields.length > 0) body.outputFields = [...opts.outputFields];
    const { body: res, requestId } = await this.call(SearchResponse, {
      method: 'POST',
      path: kind === 'contact' ? '/search/contact' : '/search/company',
      body,
      idempotent: false,
      signal: opts.signal,
    });
    return { records: res.data, maxResults: res.maxResults, totalResults: res.totalResults, page: res.currentPage ?? opts.page, requestId };
  }

  /**
   * Up to `pages` pages from `firstPage`, stopping early at a short page or at maxResults. `onPage` runs
   * after each page with the records received so far, so a caller can count spend even if a later page
   * fails. Pages are fetched one after another: a token expiring in the middle costs one login.
   */
  async searchPages(
    kind: RecordKind,
    criteria: Criteria,
    opts: { rpp: number; firstPage: number; pages: number; outputFields?: readonly string[]; signal?: AbortSignal; onPage?: (page: SearchPage, fetched: number) => Promise<void> | void },
  ): Promise<SearchRun> {
    const records: VendorRecord[] = [];
    let total: number | undefined;
    let fetched = 0;
    let page = opts.firstPage;
    let nextPage: number | null = page;
    while (fetched < opts.pages) {
      const p = await this.searchPage(kind, criteria, { rpp: opts.rpp, page, outputFields: opts.outputFields, signal: opts.signal });
      fetched++;
      records.push(...p.records);
      total = p.maxResults ?? p.totalResults ?? total;
      await opts.onPage?.(p, fetched);
      const reachedEnd = p.records.length < opts.rpp || (p.maxResults !== undefined && page * opts.rpp >= p.maxResults);
      if (reachedEnd) {
        nextPage = null;
        break;
      }
      page++;
      nextPage = page;
    }
    return { records, pagesFetched: fetched, total, nextPage };
  }

  /**
   * /enrich/contact (`matchPersonInput`) or /enrich/company (`matchCompanyInput`), at most 25 inputs. The
   * results come back in input order; each carries its matchStatus (when ZoomInfo sends one).
   */
  async enrich(kind: RecordKind, inputs: Record<string, unknown>[], opts: { outputFields?: readonly string[]; signal?: AbortSignal } = {}): Promise<{ results: EnrichResult[]; requestId: string | undefined }> {
    if (inputs.length === 0) throw new ToolInputError('Give at least one record to enrich.');
    if (inputs.length > MAX_ENRICH_INPUTS) throw new ToolInputError(`ZoomInfo enriches at most ${MAX_ENRICH_INPUTS} records per request; got ${inputs.length}.`);
    const body: Record<string, unknown> = kind === 'contact' ? { matchPersonInput: inputs } : { matchCompanyInput: inputs };
    if (opts.outputFields && opts.outputFields.length > 0) body.outputFields = [...opts.outputFields];
    const { body: res, requestId } = await this.call(EnrichResponse, {
      method: 'POST',
      path: kind === 'contact' ? '/enrich/contact' : '/enrich/company',
      body,
      idempotent: false,
      signal: opts.signal,
    });
    return { results: res.data.result, requestId };
  }

  /** A lookup answered earlier in this process, if any (spends nothing). */
  cachedContact(id: string): LookupResult | undefined {
    const hit = this.cache.get(id);
    if (!hit) return undefined;
    // LRU: touched entries move to the end.
    this.cache.delete(id);
    this.cache.set(id, hit);
    return { record: hit.record, cached: true, via: 'cache', fetchedAt: hit.at };
  }

  /**
   * One contact by ZoomInfo person id. Notes: `GET /lookup/contact/{id}`, "Lookup by ID still consumes
   * credits. Cache results where possible": answers are cached for the life of the process (`refresh`
   * bypasses the cache and spends again). The collection has no lookup-by-id path; its way to fetch a
   * person by id is /enrich/contact with `personId`. So a 404 from the notes' path is checked with an
   * enrich by personId: NO_MATCH means the id is unknown; a match means the notes' path does not exist
   * here, and later lookups go straight to enrich.
   */
  async lookupContact(id: string, opts: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<LookupResult> {
    const key = personIdOf(id);
    if (!opts.refresh) {
      const hit = this.cachedContact(key);
      if (hit) return hit;
    }
    let record: VendorRecord | undefined;
    let via: 'lookup' | 'enrich' = this.lookupVia;
    if (this.lookupVia === 'lookup') {
      try {
        const { body } = await this.call(LookupResponse, { method: 'GET', path: `/lookup/contact/${key}`, idempotent: false, signal: opts.signal });
        record = 'data' in body && typeof body.data === 'object' && body.data !== null && 'id' in body.data ? (body.data as VendorRecord) : (body as VendorRecord);
      } catch (err) {
        if (!(err instanceof VendorError && err.code === 'not_found')) throw err;
        via = 'enrich';
      }
    }
    if (!record) {
      const { results } = await this.enrich('contact', [{ personId: key }], { signal: opts.signal });
      const first = results[0];
      const found = first?.data.find((r) => r.id === key) ?? (first && first.data.length === 1 ? first.data[0] : undefined);
      if (!found) {
        throw new VendorError({ vendor: 'zoominfo', code: 'not_found', status: 404, message: `ZoomInfo has no contact with id ${key}. Check the id (from zoominfo_search_contacts), or search again.` });
      }
      if (this.lookupVia === 'lookup') {
        this.lookupVia = 'enrich';
        this.opts.log?.info({ vendor: 'zoominfo' }, 'GET /lookup/contact/{id} answered 404 for an existing contact; using /enrich/contact by personId from now on');
      }
      record = found;
      via = 'enrich';
    }
    const at = this.now;
    this.cache.delete(key);
    this.cache.set(key, { record, at });
    while (this.cache.size > LOOKUP_CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    return { record, cached: false, via, fetchedAt: at };
  }

  /**
   * Account usage. The notes document `GET /usage`; the collection `GET /lookup/usage`. The collection's
   * path is tried first and the notes' on a 404; the one that answers is remembered. Reading usage spends
   * no credits.
   */
  async usage(signal?: AbortSignal): Promise<UsageReport> {
    // The remembered path first, then the rest in order: a path that worked can disappear.
    const paths = this.usagePath ? [this.usagePath, ...USAGE_PATHS.filter((p) => p !== this.usagePath)] : [...USAGE_PATHS];
    let lastErr: unknown;
    for (const path of paths) {
      try {
        const { body } = await this.call(UsageResponse, { method: 'GET', path, signal });
        this.usagePath = path;
        return toUsageReport(path, body);
      } catch (err) {
        if (!(err instanceof VendorError && err.code === 'not_found')) throw err;
        lastErr = err;
      }
    }
    this.usagePath = undefined;
    throw lastErr instanceof VendorError
      ? new VendorError({ vendor: 'zoominfo', code: 'not_found', status: 404, requestId: lastErr.requestId, message: 'ZoomInfo has no usage endpoint for this account (both /lookup/usage and /usage answered 404); credit spend can only be estimated.' })
      : lastErr;
  }
}

function checkRpp(rpp: number): number {
  if (!Number.isInteger(rpp) || rpp < 1 || rpp > MAX_RPP) throw new ToolInputError(`\`rpp\` (results per page) must be 1 to ${MAX_RPP}; got ${rpp}.`);
  return rpp;
}

/** ZoomInfo person ids are integers (the collection's examples); refuse anything else before spending. */
export function personIdOf(id: string): string {
  const s = String(id).trim();
  if (!/^-?[1-9]\d{0,18}$/.test(s)) throw new ToolInputError(`\`id\`: ZoomInfo person ids are integers such as "1434351821"; got ${JSON.stringify(id).slice(0, 40)}.`);
  return s;
}

/**
 * Credits from either usage shape. The notes' `creditsUsed` / `creditsAvailable` are credits. In the
 * collection's list, a limit type naming credits wins; otherwise `recordLimit` ("the maximum number of
 * records you can retrieve"), which is what the notes bill: credits per record returned.
 */
export function toUsageReport(path: string, body: UsageResponse): UsageReport {
  const entries = (body.usage ?? []).map((e: UsageEntry) => ({
    limit_type: e.limitType,
    description: e.description ?? null,
    limit: e.limit ?? null,
    used: e.currentUsage ?? null,
    remaining: e.usageRemaining ?? (e.limit !== undefined && e.currentUsage !== undefined ? e.limit - e.currentUsage : null),
  }));
  if (body.creditsUsed !== undefined || body.creditsAvailable !== undefined) {
    const used = body.creditsUsed ?? null;
    const remaining = body.creditsAvailable ?? null;
    return { path, credits_used: used, credits_remaining: remaining, credits_limit: used !== null && remaining !== null ? used + remaining : null, basis: 'creditsUsed/creditsAvailable', entries };
  }
  const pick = entries.find((e) => /credit/i.test(e.limit_type)) ?? entries.find((e) => e.limit_type === 'recordLimit');
  if (!pick) return { path, credits_used: null, credits_remaining: null, credits_limit: null, basis: null, entries };
  return { path, credits_used: pick.used, credits_remaining: pick.remaining, credits_limit: pick.limit, basis: `usage[${pick.limit_type}]`, entries };
}
