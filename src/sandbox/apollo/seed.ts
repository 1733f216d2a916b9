import { DAY_MS, PEOPLE_AS_OF_MS, generatePeople, type Person } from '../people.js';
import { Rng, deriveSeed } from '../prng.js';

/*
 * Apollo's data for a seed: the team (teammates with their permission profiles), the prospect database
 * (computed per index, 60,000 by default) and the contacts saved in the team's account. No HTTP here.
 */

export const DEFAULT_USER_COUNT = 300;

export interface SimTeammate {
  id: string;
  team_id: string;
  first_name: string | null;
  last_name: string | null;
  name: string;
  title: string | null;
  email: string;
  created_at: string;
  deleted: boolean;
  permission_set_id: string;
  role: string;
  /** Sandbox bookkeeping, never served: the generated person (null for none). */
  personKey: string | null;
}

export interface SimContact {
  id: string;
  first_name: string | null;
  last_name: string | null;
  name: string;
  title: string | null;
  email: string | null;
  organization_name: string | null;
  owner_id: string;
  creator_id: string;
  person_id: string | null;
  source: string;
  contact_stage_id: string;
  email_status: string | null;
  created_at: string;
  updated_at: string;
}

export interface SimProspect {
  id: string;
  first_name: string;
  last_name: string;
  title: string;
  seniority: string;
  organization: { id: string; name: string; domain: string };
  city: string;
  state: string;
  country: string;
  email: string;
  personal_email: string | null;
  mobile_phone: string | null;
  linkedin_url: string;
  last_refreshed_at: string;
}

export const APOLLO_PROFILES = ['Admin', 'User', 'Billing and Seat Manager', 'Call Assistant'] as const;
export type ProfileName = (typeof APOLLO_PROFILES)[number];

const SEAT_RATE: Record<string, number> = {
  Sales: 0.9,
  'Sales Development': 0.95,
  Marketing: 0.6,
  'Revenue Operations': 0.85,
  Executive: 0.5,
  'Customer Success': 0.35,
  'Solutions Engineering': 0.25,
  Finance: 0.2,
};

export function hexId(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += rng.int(0, 0xffff).toString(16).padStart(4, '0');
  return s;
}

export interface ApolloTeam {
  team_id: string;
  permissionSets: Record<ProfileName, string>;
  /** Sorted by created_at. */
  teammates: SimTeammate[];
}

/**
 * The team for a seed: deterministic for (userCount, seed). People come from generatePeople(userCount,
 * seed); about three quarters hold a seat (most of sales and SDRs, fewer elsewhere). Composition: exactly
 * one Admin (an employed RevOps person when there is one), up to two Billing and Seat Managers (Finance),
 * up to two Call Assistants (Customer Success), everyone else User. About 60% of the terminated people
 * with a seat are deactivated (`deleted: true`); the rest still hold an active seat, which is what an
 * access review should find. A few teammates have blank names (`name: ""`), as in the spec's example.
 */
export function buildApolloTeam(userCount = DEFAULT_USER_COUNT, seed = 42): ApolloTeam {
  if (!Number.isInteger(userCount) || userCount < 0) throw new RangeError(`userCount must be a non-negative integer, got ${userCount}`);
  const rng = new Rng(deriveSeed(seed, 'apollo'));
  const team_id = hexId(rng);
  const permissionSets = Object.fromEntries(APOLLO_PROFILES.map((p) => [p, hexId(rng)])) as Record<ProfileName, string>;
  const people = generatePeople(userCount, seed);

  interface Draft {
    person: Person;
    createdMs: number;
    deleted: boolean;
    role: ProfileName;
    blankName: boolean;
  }
  const seated: Draft[] = [];
  for (const p of people) {
    const seat = rng.chance(SEAT_RATE[p.department] ?? 0.1);
    const deactivate = rng.chance(0.6);
    const blank = rng.chance(0.03);
    const offsetDays = rng.int(0, 20);
    const offsetMin = rng.int(13 * 60, 22 * 60);
    if (!seat) continue;
    const createdMs = Date.parse(`${p.startDate}T00:00:00Z`) + offsetDays * DAY_MS + offsetMin * 60_000 + rng.int(0, 59_999);
    seated.push({ person: p, createdMs, deleted: p.employment === 'terminated' && deactivate, role: 'User', blankName: blank });
  }
  if (seated.length === 0 && people.length > 0) {
    const p = people.find((x) => x.employment === 'active') ?? people[0]!;
    seated.push({ person: p, createdMs: Date.parse(`${p.startDate}T12:00:00Z`), deleted: false, role: 'User', blankName: false });
  }
  const employed = seated.filter((d) => d.person.employment === 'active' && !d.deleted);
  const admin =
    employed.find((d) => d.person.department === 'Revenue Operations') ??
    employed.find((d) => d.person.department === 'Executive') ??
    employed[0] ??
    seated[0];
  if (admin) {
    admin.role = 'Admin';
    admin.deleted = false;
    admin.blankName = false;
  }
  for (const d of employed.filter((x) => x !== admin && x.person.department === 'Finance').slice(0, 2)) d.role = 'Billing and Seat Manager';
  for (const d of employed.filter((x) => x !== admin && x.person.department === 'Customer Success').slice(0, 2)) d.role = 'Call Assistant';

  seated.sort((a, b) => a.createdMs - b.createdMs || (a.person.email < b.person.email ? -1 : 1));
  const teammates = seated.map((d): SimTeammate => {
    const p = d.person;
    return {
      id: hexId(rng),
      team_id,
      first_name: d.blankName ? null : p.firstName,
      last_name: d.blankName ? null : p.lastName,
      name: d.blankName ? '' : `${p.firstName} ${p.lastName}`,
      title: d.blankName ? null : p.title,
      email: p.email,
      created_at: new Date(d.createdMs).toISOString(),
      deleted: d.deleted,
      permission_set_id: permissionSets[d.role],
      role: d.role,
      personKey: p.key,
    };
  });
  return { team_id, permissionSets, teammates };
}

// The prospect database: computed per index, so a test can ask for one prospect without building all.

const P_FIRST = ['Ana', 'Ben', 'Chloe', 'Dev', 'Erin', 'Felix', 'Gia', 'Hugo', 'Iris', 'Jon', 'Kara', 'Leo', 'Mina', 'Nico', 'Omar', 'Pia', 'Quinn', 'Rosa', 'Sam', 'Tara', 'Umar', 'Vera', 'Wes', 'Xena', 'Yara', 'Zane'];
const P_LAST = ['Abbott', 'Bauer', 'Castillo', 'Dalton', 'Eriksen', 'Farrow', 'Gallo', 'Hartley', 'Ibarra', 'Jansen', 'Kowal', 'Lindqvist', 'Moreau', 'Nakamura', 'Oduya', 'Petrov', 'Quist', 'Romero', 'Sorensen', 'Tran', 'Ueda', 'Varga', 'Whitaker', 'Xu', 'Yilmaz', 'Zeller'];
const P_TITLES: readonly (readonly [string, string])[] = [
  ['Chief Executive Officer', 'c_suite'], ['Chief Revenue Officer', 'c_suite'], ['VP of Sales', 'vp'], ['VP of Marketing', 'vp'],
  ['Director of Sales', 'director'], ['Director of Marketing', 'director'], ['Head of Revenue Operations', 'head'],
  ['Sales Manager', 'manager'], ['Marketing Manager', 'manager'], ['Engineering Manager', 'manager'],
  ['Account Executive', 'senior'], ['Senior Software Engineer', 'senior'], ['Sales Development Representative', 'entry'],
  ['Marketing Coordinator', 'entry'], ['Software Engineer', 'entry'], ['Customer Success Manager', 'senior'],
];
const P_PLACES: readonly (readonly [string, string, string])[] = [
  ['San Francisco', 'California', 'United States'], ['New York', 'New York', 'United States'], ['Austin', 'Texas', 'United States'],
  ['Chicago', 'Illinois', 'United States'], ['Boston', 'Massachusetts', 'United States'], ['London', 'England', 'United Kingdom'],
  ['Berlin', 'Berlin', 'Germany'], ['Toronto', 'Ontario', 'Canada'], ['Sydney', 'New South Wales', 'Australia'], ['Dublin', 'Leinster', 'Ireland'],
];
const ORG_A = ['North', 'Blue', 'Bright', 'Iron', 'Silver', 'Quantum', 'Cedar', 'Summit', 'Harbor', 'Nova', 'Atlas', 'Pioneer', 'Lumen', 'Vertex', 'Granite', 'Maple', 'Orbit', 'Crimson', 'Delta', 'Echo'];
const ORG_B = ['Labs', 'Systems', 'Analytics', 'Logistics', 'Health', 'Robotics', 'Capital', 'Software', 'Networks', 'Foods'];

/** The prospect word lists are ASCII: a lower-case slug without the Unicode normalisation of emailLocalPart. */
function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** Per-seed constants of the prospect database, computed once. */
function prospectPrefixes(seed: number): { id: string; org: string } {
  return { id: hex8(deriveSeed(seed, 'apollo-prospect-id')), org: hex8(deriveSeed(seed, 'apollo-org')) };
}

function makeProspect(seed: number, index: number, prefix: { id: string; org: string }): SimProspect {
  const rng = new Rng(deriveSeed(seed, `apollo-prospect-${index}`));
  const first = rng.pick(P_FIRST);
  const last = rng.pick(P_LAST);
  const [title, seniority] = rng.pick(P_TITLES);
  const [city, state, country] = rng.pick(P_PLACES);
  const orgIndex = rng.int(0, ORG_A.length * ORG_B.length - 1);
  const orgName = `${ORG_A[orgIndex % ORG_A.length]} ${ORG_B[Math.floor(orgIndex / ORG_A.length)]}`;
  const domain = `${slug(orgName)}.example`;
  const personal = rng.chance(0.4);
  const mobile = rng.chance(0.5);
  const refreshedDaysAgo = rng.int(1, 120);
  const middle = hex8(rng.int(0, 0x7fffffff));
  const local = `${slug(first)}.${slug(last)}${index}`;
  return {
    // The index is the tail of the id, so enrichment by id needs no lookup table.
    id: `${prefix.id}${middle}${hex8(index)}`,
    first_name: first,
    last_name: last,
    title,
    seniority,
    organization: { id: `${prefix.org}${hex8(orgIndex)}${hex8(orgIndex * 7919)}`, name: orgName, domain },
    city,
    state,
    country,
    email: `${local}@${domain}`,
    personal_email: personal ? `${local}@mail.example` : null,
    mobile_phone: mobile ? `+1 555 01${String(index % 100).padStart(2, '0')}` : null,
    linkedin_url: `http://www.linkedin.com/in/${slug(first)}-${slug(last)}-${index}`,
    last_refreshed_at: new Date(PEOPLE_AS_OF_MS - refreshedDaysAgo * DAY_MS).toISOString(),
  };
}

/**
 * The prospect database: each prospect computed from its index on first use (and cached), so a test can ask
 * for one without building all; the whole list and the email index only when a search or a match needs them.
 */
export class ProspectDatabase {
  private readonly prefixes: { id: string; org: string };
  private readonly cache = new Map<number, SimProspect>();
  private list: SimProspect[] | undefined;
  private emails: Map<string, SimProspect> | undefined;
  private lastSearch: { key: string; result: SimProspect[] } | undefined;

  constructor(
    private readonly seed: number,
    readonly count: number,
  ) {
    this.prefixes = prospectPrefixes(seed);
  }

  at(i: number): SimProspect {
    let p = this.cache.get(i);
    if (!p) {
      p = makeProspect(this.seed, i, this.prefixes);
      if (this.cache.size < 200_000) this.cache.set(i, p);
    }
    return p;
  }

  all(): SimProspect[] {
    this.list ??= Array.from({ length: this.count }, (_, i) => this.at(i));
    return this.list;
  }

  byId(id: string): SimProspect | undefined {
    // The index is the tail of the id (makeProspect), so this needs no lookup table.
    if (id.length !== 24 || !id.startsWith(this.prefixes.id)) return undefined;
    const i = parseInt(id.slice(16), 16);
    if (!Number.isInteger(i) || i < 0 || i >= this.count) return undefined;
    const p = this.at(i);
    return p.id === id ? p : undefined;
  }

  /** The prospects `keep` accepts, remembered for the last `key` (a paged search asks again per page). */
  search(key: string, keep: (p: SimProspect) => boolean): SimProspect[] {
    if (this.lastSearch?.key !== key) this.lastSearch = { key, result: this.all().filter(keep) };
    return this.lastSearch.result;
  }

  byEmail(email: string): SimProspect | undefined {
    this.emails ??= new Map(this.all().map((p) => [p.email, p]));
    return this.emails.get(email);
  }
}

/** The contact stages the seed and new contacts use. */
export function contactStages(seed: number): { new: string; working: string } {
  return { new: hexId(new Rng(deriveSeed(seed, 'apollo-stage-new'))), working: hexId(new Rng(deriveSeed(seed, 'apollo-stage-working'))) };
}

/** The contacts saved in the team's account, owned by active teammates; `rng` goes on to make later contacts' ids. */
export function seedContacts(
  rng: Rng,
  count: number,
  teammates: readonly SimTeammate[],
  prospects: ProspectDatabase,
  stages: { new: string; working: string },
): SimContact[] {
  const activeOwners = teammates.filter((t) => !t.deleted && t.role !== 'Billing and Seat Manager');
  const contacts: SimContact[] = [];
  for (let k = 0; k < count; k++) {
    const p = prospects.at(rng.int(0, Math.max(0, prospects.count - 1)));
    const owner = rng.pick(activeOwners.length ? activeOwners : teammates);
    const created = Date.parse('2025-01-06T00:00:00Z') + rng.int(0, 600) * DAY_MS + rng.int(0, DAY_MS - 1);
    const updated = Math.min(created + rng.int(0, 90) * DAY_MS, Date.parse('2026-10-29T00:00:00Z'));
    contacts.push({
      id: hexId(rng),
      first_name: p.first_name,
      last_name: p.last_name,
      name: `${p.first_name} ${p.last_name}`,
      title: p.title,
      email: p.email,
      organization_name: p.organization.name,
      owner_id: owner.id,
      creator_id: owner.id,
      person_id: p.id,
      source: rng.chance(0.5) ? 'crm' : 'csv_import',
      contact_stage_id: rng.chance(0.7) ? stages.new : stages.working,
      email_status: 'verified',
      created_at: new Date(created).toISOString(),
      updated_at: new Date(Math.max(created, updated)).toISOString(),
    });
  }
  return contacts;
}
