import { Rng, deriveSeed } from './prng.js';

/**
 * The sandbox company's people: the HR truth that every vendor simulator and the sample roster draw from,
 * so an access review in the sandbox can join vendor accounts back to people. Vendor-neutral on purpose:
 * vendor quirks (case variants, service accounts, locked flags) belong in each simulator, not here.
 */
export interface Person {
  /** Stable HR key, e.g. `emp-00042`; the same index always gets the same key. */
  key: string;
  firstName: string;
  lastName: string;
  /** Lower-case, unique within one generated list. */
  email: string;
  department: string;
  title: string;
  /** ISO date (YYYY-MM-DD). */
  startDate: string;
  employment: 'active' | 'terminated';
  /** ISO date, set only when terminated. */
  terminatedOn: string | null;
  /** IANA zone of the person's office. */
  timeZone: string;
}

export const PEOPLE_EMAIL_DOMAIN = 'acme.example';

/**
 * Every generated date lies on or before this day. Fixed rather than "today" so the same seed gives the
 * same people on any day; it sits just before ManualClock's default start so tests see a settled past.
 */
export const PEOPLE_AS_OF = '2026-10-30';

const FIRST_NAMES = [
  'Dana', 'Alex', 'Jordan', 'Priya', 'Wei', 'Maria', 'James', 'Aisha', 'Carlos', 'Emily',
  'Hiroshi', 'Fatima', 'Liam', 'Olivia', 'Noah', 'Sofia', 'Mateo', 'Chloe', 'Ethan', 'Grace',
  'Kwame', 'Ingrid', 'Rahul', 'Elena', 'Samuel', 'Yuki', 'Omar', 'Hannah', 'Diego', 'Zoe',
  'Benjamin', 'Leah', 'Tariq', 'Nora', 'Lucas', 'Amara', 'Daniel', 'Mei', 'Patrick', 'Isabel',
  'Kofi', 'Sarah', 'Andre', 'Julia', 'Viktor', 'Ava', 'Ryan', 'Nadia', 'Marcus', 'Claire',
  'Tomas', 'Rosa', 'Kevin', 'Lina', 'Chris', 'Megan', 'Arjun', 'Eva', 'Sean', 'Taylor',
] as const;

const LAST_NAMES = [
  'Lee', 'Smith', 'Patel', 'Garcia', 'Chen', 'Johnson', 'Nguyen', 'Williams', 'Kim', 'Brown',
  'Martinez', 'Okafor', 'Jones', 'Rossi', 'Müller', 'Tanaka', 'Davis', 'Singh', 'Lopez', 'Wilson',
  "O'Brien", 'Anderson', 'Schmidt', 'Silva', 'Taylor', 'Cohen', 'Moore', 'Haddad', 'Clark', 'Ivanova',
  'Walker', 'Mensah', 'Hall', 'Novak', 'Young', 'Fischer', 'King', 'Sato', 'Wright', 'Ramirez',
  'Scott', 'Kowalski', 'Green', 'Andersen', 'Baker', 'Dubois', 'Adams', 'Khan', 'Nelson', 'Costa',
  'Hill', 'Van Dyke', 'Campbell', 'Park', 'Mitchell', 'Ali', 'Roberts', 'Bianchi', 'Carter', 'Reyes',
] as const;

/** Go-to-market heavy, because the people who hold sales-tool seats are the ones that matter here. */
const DEPARTMENTS: readonly (readonly [string, number, readonly (readonly [string, number])[]])[] = [
  ['Sales', 38, [
    ['Account Executive', 40], ['Senior Account Executive', 25], ['Enterprise Account Executive', 15],
    ['Sales Manager', 12], ['Regional Sales Director', 8],
  ]],
  ['Sales Development', 24, [
    ['Sales Development Representative', 70], ['Senior Sales Development Representative', 20],
    ['SDR Manager', 10],
  ]],
  ['Customer Success', 14, [
    ['Customer Success Manager', 60], ['Account Manager', 30], ['Director of Customer Success', 10],
  ]],
  ['Marketing', 10, [
    ['Demand Generation Manager', 35], ['Marketing Operations Manager', 25], ['Field Marketing Manager', 25],
    ['Product Marketing Manager', 15],
  ]],
  ['Revenue Operations', 6, [
    ['Revenue Operations Analyst', 50], ['Sales Operations Manager', 30], ['CRM Administrator', 20],
  ]],
  ['Solutions Engineering', 3, [['Solutions Engineer', 80], ['Director of Solutions Engineering', 20]]],
  ['Finance', 3, [['Deal Desk Analyst', 60], ['Financial Analyst', 40]]],
  ['Executive', 2, [['VP of Sales', 50], ['Chief Revenue Officer', 20], ['VP of Marketing', 30]]],
];

const TIME_ZONES: readonly (readonly [string, number])[] = [
  ['America/New_York', 35], ['America/Chicago', 15], ['America/Denver', 8], ['America/Los_Angeles', 22],
  ['Europe/London', 10], ['Europe/Berlin', 5], ['Asia/Singapore', 3], ['Australia/Sydney', 2],
];

/** The titles that make someone a people manager, and the executives: several vendors seed roles from these. */
export const MANAGER_TITLES: ReadonlySet<string> = new Set([
  'Sales Manager', 'SDR Manager', 'Regional Sales Director', 'Director of Customer Success',
  'Director of Solutions Engineering', 'Sales Operations Manager',
]);
export const EXECUTIVE_TITLES: ReadonlySet<string> = new Set(['VP of Sales', 'Chief Revenue Officer', 'VP of Marketing']);

/** The locale of an office's zone (en-US for the American ones and any other). */
export const LOCALE_BY_ZONE: Readonly<Record<string, string>> = {
  'Europe/London': 'en-GB',
  'Europe/Berlin': 'de-DE',
  'Asia/Singapore': 'en-SG',
  'Australia/Sydney': 'en-AU',
};

const TERMINATED_RATE = 0.11;
export const DAY_MS = 86_400_000;
const FIRST_START_MS = Date.parse('2015-01-05T00:00:00Z');
const LAST_START_MS = Date.parse('2026-09-28T00:00:00Z');
/** PEOPLE_AS_OF at midnight UTC: the simulators' seeds date nothing after it. */
export const PEOPLE_AS_OF_MS = Date.parse(`${PEOPLE_AS_OF}T00:00:00Z`);
const AS_OF_MS = PEOPLE_AS_OF_MS;
/** Terminations before this are long gone from every tool; the interesting ones are recent. */
const FIRST_TERMINATION_MS = Date.parse('2023-01-02T00:00:00Z');

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `O'Brien` -> `obrien`, `Van Dyke` -> `vandyke`, `Müller` -> `muller`. */
export function emailLocalPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/**
 * Deterministic people for `seed`. Prefix-stable: `generatePeople(n, s)` is the first n entries of
 * `generatePeople(m, s)` for any m >= n, so a simulator seeded with 300 seats and a roster of 320
 * people agree on who everyone is. Namesakes are kept (real companies have two Dana Lees); only the
 * email is disambiguated with a digit.
 */
export function generatePeople(count: number, seed = 42): Person[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const rng = new Rng(deriveSeed(seed, 'people'));
  const taken = new Map<string, number>();
  const people: Person[] = [];
  const startSpanDays = Math.floor((LAST_START_MS - FIRST_START_MS) / DAY_MS);

  for (let i = 0; i < count; i++) {
    const firstName = rng.pick(FIRST_NAMES);
    const lastName = rng.pick(LAST_NAMES);
    const [department, , titles] = rng.weighted(DEPARTMENTS.map((d) => [d, d[1]] as const));
    const title = rng.weighted(titles);
    const timeZone = rng.weighted(TIME_ZONES);
    // sqrt skews start dates towards recent years: a growing company hires more each year.
    const startMs = FIRST_START_MS + Math.floor(startSpanDays * Math.sqrt(rng.next())) * DAY_MS;
    const terminatedRoll = rng.next();
    const terminationRoll = rng.next();

    let terminatedOn: string | null = null;
    const earliestEnd = Math.max(startMs + 45 * DAY_MS, FIRST_TERMINATION_MS);
    if (terminatedRoll < TERMINATED_RATE && earliestEnd < AS_OF_MS) {
      const spanDays = Math.floor((AS_OF_MS - earliestEnd) / DAY_MS);
      terminatedOn = isoDate(earliestEnd + Math.floor(spanDays * terminationRoll) * DAY_MS);
    }

    const base = `${emailLocalPart(firstName)}.${emailLocalPart(lastName)}`;
    const n = (taken.get(base) ?? 0) + 1;
    taken.set(base, n);
    const local = n === 1 ? base : `${base}${n}`;

    people.push({
      key: `emp-${String(i + 1).padStart(5, '0')}`,
      firstName,
      lastName,
      email: `${local}@${PEOPLE_EMAIL_DOMAIN}`,
      department,
      title,
      startDate: isoDate(startMs),
      employment: terminatedOn ? 'terminated' : 'active',
      terminatedOn,
      timeZone,
    });
  }
  return people;
}
