import { DAY_MS, PEOPLE_AS_OF_MS } from './people.js';
import { Rng, deriveSeed } from './prng.js';

/*
 * What the vendors' record seeds share (outreach/, salesloft/, apollo/ book.ts): a stream per record type, its
 * ids, plausible dates and company names, and the big-book option. Vendor-neutral: each book decides its own
 * record shapes, owners and sizes.
 */

/** One person given a large book, for benchmarks of a big hand-over. */
export interface BigBook {
  /** The person's email (case-insensitive). */
  email: string;
  /** Records of each type (default DEFAULT_BIG_BOOK). */
  count?: number;
}

export const DEFAULT_BIG_BOOK = 5_000;

/** The big book's size per type, checked. */
export function bigBookCount(b: BigBook): number {
  const n = b.count ?? DEFAULT_BIG_BOOK;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bigBook.count must be a non-negative integer, got ${n}`);
  return n;
}

/**
 * One record type's seed: its own stream (`deriveSeed(seed, label)`, so adding a type moves no other), integer
 * ids from a drawn start (with gaps, as deleted records leave them, unless `gaps` is false), and what was drawn.
 */
export class RecordStream<T> {
  readonly rng: Rng;
  private nextId: number;
  readonly out: T[] = [];

  constructor(
    seed: number,
    label: string,
    firstId: [number, number],
    private readonly gaps = true,
  ) {
    this.rng = new Rng(deriveSeed(seed, label));
    this.nextId = this.rng.int(firstId[0], firstId[1]);
  }

  id(): number {
    const id = this.nextId;
    this.nextId += this.gaps && this.rng.chance(0.1) ? this.rng.int(2, 5) : 1;
    return id;
  }

  /** Where a later stream (a big book) can start its ids, clear of this one's. */
  get after(): number {
    return this.nextId + 1_000;
  }
}

/** A record's creation and last update (ms), both after `fromMs` and before the sandbox's "today". */
export function recordTimes(rng: Rng, fromMs: number): { created: number; updated: number } {
  const span = Math.floor((PEOPLE_AS_OF_MS - fromMs) / DAY_MS);
  const created = fromMs + rng.int(0, span - 1) * DAY_MS + rng.int(0, DAY_MS - 1);
  const updated = Math.min(created + rng.int(0, 120) * DAY_MS + rng.int(0, DAY_MS - 1), PEOPLE_AS_OF_MS - 1);
  return { created, updated };
}

const ORG_A = ['North', 'Blue', 'Bright', 'Iron', 'Silver', 'Quantum', 'Cedar', 'Summit', 'Harbor', 'Nova', 'Atlas', 'Pioneer'];
const ORG_B = ['Labs', 'Systems', 'Analytics', 'Logistics', 'Health', 'Robotics', 'Capital', 'Software'];

/** A customer's company name, e.g. "Cedar Robotics". */
export function companyName(rng: Rng): string {
  return `${rng.pick(ORG_A)} ${rng.pick(ORG_B)}`;
}

/** `Cedar Robotics` -> `cedarrobotics`: the ASCII word lists' domain and email form. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}
