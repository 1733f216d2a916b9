import { Collection } from '../collection.js';
import { buildZoomInfoData, type SimZiCompany, type SimZiContact } from './seed.js';

/*
 * ZoomInfo's state: the companies and contacts of the seed, and the account's counters. Credits are the
 * notes' "Watch out for": every record served costs, whatever the match confidence, re-fetches included.
 */

export type RecordKind = 'contact' | 'company';

/** A record about to be served, as the credit counter prices it. */
export interface ServedRecord {
  kind: RecordKind;
  rec: Record<string, unknown>;
}

/** Fields whose presence in a contact record makes it a contact reveal (priced extra). */
const REVEAL_FIELDS = new Set(['email', 'phone', 'mobilePhone']);

export interface ZoomInfoStoreOptions {
  seed: number;
  acmeContacts: number;
  /** Credits the account starts with. */
  credits: number;
  perRecord: number;
  perContactReveal: number;
}

export class ZoomInfoStore {
  readonly companies: Collection<SimZiCompany, number>;
  readonly contacts: Collection<SimZiContact, number>;
  readonly account: { creditsLimit: number; creditsUsed: number; requestCount: number; uniqueIds: Set<string> };

  constructor(private readonly o: ZoomInfoStoreOptions) {
    const { companies, contacts } = buildZoomInfoData(o.seed, o.acmeContacts);
    this.companies = new Collection((c) => c.id, companies);
    this.contacts = new Collection((c) => c.id, contacts);
    this.account = { creditsLimit: o.credits, creditsUsed: 0, requestCount: 0, uniqueIds: new Set<string>() };
  }

  costOf(kind: RecordKind, rec: Record<string, unknown>): number {
    return this.o.perRecord + (kind === 'contact' && Object.keys(rec).some((k) => REVEAL_FIELDS.has(k) && rec[k] !== '' && rec[k] !== undefined) ? this.o.perContactReveal : 0);
  }

  /** What serving `records` would cost. */
  price(records: ServedRecord[]): number {
    return records.reduce((s, r) => s + this.costOf(r.kind, r.rec), 0);
  }

  remaining(): number {
    return Math.max(0, this.account.creditsLimit - this.account.creditsUsed);
  }

  /** Spends the credits of `records` (and counts them as redeemed); returns what they cost. */
  charge(records: ServedRecord[]): number {
    let spent = 0;
    for (const r of records) {
      spent += this.costOf(r.kind, r.rec);
      if (r.rec.id !== undefined) this.account.uniqueIds.add(`${r.kind}:${String(r.rec.id)}`);
    }
    this.account.creditsUsed += spent;
    return spent;
  }

  /** Leaves `remaining` credits in the account. */
  setCredits(remaining: number): void {
    this.account.creditsLimit = this.account.creditsUsed + Math.max(0, remaining);
  }
}
