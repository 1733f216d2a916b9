import { DAY_MS, EXECUTIVE_TITLES, LOCALE_BY_ZONE, MANAGER_TITLES, PEOPLE_AS_OF_MS as AS_OF_MS, PEOPLE_EMAIL_DOMAIN, generatePeople, type Person } from '../people.js';
import { ALNUM, Rng, deriveSeed } from '../prng.js';
import { iso } from '../values.js';

/*
 * Outreach's org for a seed: roles, profiles and users (seated people, case-variant duplicates, service
 * accounts). No HTTP here.
 */

export const DEFAULT_USER_COUNT = 300;

export interface SimRole {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface SimProfile {
  id: string;
  name: string;
  isAdmin: boolean;
  specialId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SimUser {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  username: string;
  locked: boolean;
  active: boolean;
  title: string | null;
  phoneNumber: string | null;
  mobilePhoneNumber: string | null;
  timeZone: string | null;
  locale: string | null;
  externalId: string | null;
  externalSource: string | null;
  createdAt: string;
  updatedAt: string;
  currentSignInAt: string | null;
  lastSignInAt: string | null;
  roleId: string | null;
  profileId: string | null;
  /** Sandbox bookkeeping, never served: the generated person this seat belongs to (null for bots). */
  personKey: string | null;
  /** Sandbox bookkeeping, never served: why the seed (or a POST) created this user. */
  seedKind: 'person' | 'case-duplicate' | 'service' | 'created';
}

export interface OutreachOrg {
  roles: SimRole[];
  profiles: SimProfile[];
  /** Sorted by id. */
  users: SimUser[];
}

const ROLE_NAMES = ['Admin', 'VP Sales', 'Manager', 'Sales Rep', 'SDR', 'User'] as const;
type RoleName = (typeof ROLE_NAMES)[number];
const PROFILE_DEFS = [
  { name: 'Admin', isAdmin: true, specialId: 'admin' },
  { name: 'Sales Manager', isAdmin: false, specialId: null },
  { name: 'Sales Rep', isAdmin: false, specialId: 'default' },
  { name: 'Read Only', isAdmin: false, specialId: null },
] as const;
type ProfileName = (typeof PROFILE_DEFS)[number]['name'];

/** The org moved to Okta SCIM on this day; seats created since carry externalSource/externalId. */
const SCIM_SINCE_MS = Date.parse('2024-03-04T00:00:00Z');
const ORG_CREATED_MS = Date.parse('2015-01-05T15:00:00Z');

/** Ids with random gaps that start somewhere random: hard-coding "Admin is 1" must break. */
function sparseIds(rng: Rng, n: number): string[] {
  const ids: string[] = [];
  let next = rng.int(3, 40);
  for (let i = 0; i < n; i++) {
    ids.push(String(next));
    next += rng.int(2, 9);
  }
  return ids;
}

function defaultRoleFor(p: Person): RoleName {
  if (EXECUTIVE_TITLES.has(p.title)) return 'VP Sales';
  if (MANAGER_TITLES.has(p.title)) return 'Manager';
  if (p.department === 'Sales Development') return 'SDR';
  if (p.department === 'Sales' || p.department === 'Customer Success' || p.department === 'Solutions Engineering')
    return 'Sales Rep';
  return 'User';
}

function defaultProfileFor(role: RoleName, p: Person): ProfileName {
  if (role === 'VP Sales' || role === 'Manager' || p.department === 'Revenue Operations') return 'Sales Manager';
  if (p.department === 'Finance' || p.department === 'Marketing') return 'Read Only';
  return 'Sales Rep';
}

/** `dana.lee2@acme.example` -> `Dana.Lee2@acme.example`: the legacy, hand-typed variant of an address. */
function titleCaseEmail(email: string): string {
  const at = email.indexOf('@');
  const local = email
    .slice(0, at)
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('.');
  return local + email.slice(at);
}

/**
 * Builds the org for a seed: deterministic for (userCount, seed), independent of the clock, and fast
 * enough for 10,000 users (linear apart from one sort). Composition (rounded from userCount N):
 * 3 service accounts, max(2, N/200) case-duplicate pairs, ~3% admins (role Admin + profile Admin, one of
 * them a terminated person still unlocked), ~8% locked (a third of the terminated people plus some
 * employees), ~4% without a profile (SCIM-provisioned seats: group push maps to Teams, not Profiles),
 * and every other terminated person still unlocked. Small N scales these down.
 */
export function buildOutreachOrg(userCount = DEFAULT_USER_COUNT, seed = 42): OutreachOrg {
  if (!Number.isInteger(userCount) || userCount < 0) {
    throw new RangeError(`userCount must be a non-negative integer, got ${userCount}`);
  }
  const rng = new Rng(deriveSeed(seed, 'outreach'));
  const N = userCount;

  const roleIds = sparseIds(rng, ROLE_NAMES.length);
  const roleOrder = rng.shuffle(ROLE_NAMES);
  const roles: SimRole[] = roleOrder.map((name, i) => ({
    id: roleIds[i]!,
    name,
    createdAt: iso(ORG_CREATED_MS + i * 60_000),
    updatedAt: iso(ORG_CREATED_MS + i * 60_000),
  }));
  const profileIds = sparseIds(rng, PROFILE_DEFS.length);
  const profileOrder = rng.shuffle(PROFILE_DEFS);
  const profiles: SimProfile[] = profileOrder.map((d, i) => ({
    id: profileIds[i]!,
    name: d.name,
    isAdmin: d.isAdmin,
    specialId: d.specialId,
    createdAt: iso(ORG_CREATED_MS + i * 60_000),
    updatedAt: iso(ORG_CREATED_MS + i * 60_000),
  }));
  roles.sort((a, b) => Number(a.id) - Number(b.id));
  profiles.sort((a, b) => Number(a.id) - Number(b.id));
  const roleId = (name: RoleName) => roles.find((r) => r.name === name)!.id;
  const profileId = (name: ProfileName) => profiles.find((p) => p.name === name)!.id;

  const serviceCount = Math.min(3, Math.floor(N / 10));
  const dupPairs = Math.min(Math.max(2, Math.floor(N / 200)), Math.floor(N / 10));
  const people = generatePeople(N - serviceCount - dupPairs, seed);

  type Draft = Omit<SimUser, 'id'> & { createdMs: number; person: Person | null };
  const drafts: Draft[] = [];
  const byPerson: Draft[] = [];

  for (const p of people) {
    const startMs = Date.parse(`${p.startDate}T00:00:00Z`);
    const createdMs = Math.min(
      startMs + rng.int(0, 6) * DAY_MS + rng.int(13 * 60, 22 * 60) * 60_000 + rng.int(0, 59) * 1000,
      AS_OF_MS - DAY_MS,
    );
    const endMs = p.terminatedOn ? Date.parse(`${p.terminatedOn}T00:00:00Z`) : AS_OF_MS;
    const currentSignInMs = Math.max(createdMs, endMs - rng.int(0, 20) * DAY_MS - rng.int(0, 600) * 60_000);
    const lastSignInMs = Math.max(createdMs, currentSignInMs - rng.int(1, 7) * DAY_MS);
    const updatedMs = Math.min(createdMs + rng.int(0, 400) * DAY_MS, currentSignInMs);
    const role = defaultRoleFor(p);
    const scim = createdMs >= SCIM_SINCE_MS;
    const externalId = scim ? `00u${rng.chars(ALNUM, 17)}` : null;
    const d: Draft = {
      firstName: p.firstName,
      lastName: p.lastName,
      email: p.email,
      username: p.email,
      locked: false,
      active: true,
      title: p.title,
      phoneNumber: `+1 555-01${String(rng.int(0, 99)).padStart(2, '0')}`,
      mobilePhoneNumber: rng.chance(0.4) ? `+1 555-02${String(rng.int(0, 99)).padStart(2, '0')}` : null,
      timeZone: p.timeZone,
      locale: LOCALE_BY_ZONE[p.timeZone] ?? 'en-US',
      externalId,
      externalSource: scim ? 'okta' : null,
      createdAt: iso(createdMs),
      updatedAt: iso(Math.max(createdMs, updatedMs)),
      currentSignInAt: iso(currentSignInMs),
      lastSignInAt: iso(lastSignInMs),
      roleId: roleId(role),
      profileId: profileId(defaultProfileFor(role, p)),
      personKey: p.key,
      seedKind: 'person',
      createdMs,
      person: p,
    };
    drafts.push(d);
    byPerson.push(d);
  }

  const taken = new Set<Draft>();
  const takeFrom = (pool: Draft[], n: number): Draft[] => {
    const out: Draft[] = [];
    for (const d of pool) {
      if (out.length >= n) break;
      if (taken.has(d)) continue;
      taken.add(d);
      out.push(d);
    }
    return out;
  };

  const terminated = rng.shuffle(byPerson.filter((d) => d.person!.employment === 'terminated'));
  const employed = byPerson.filter((d) => d.person!.employment === 'active');

  // Admins: one terminated person who still holds Admin (the finding an access review exists for), then
  // RevOps, executives and managers before anyone else. The integration bot is an admin too.
  const adminTarget = Math.round(N * 0.03);
  const adminHumans = Math.max(0, adminTarget - (serviceCount > 0 ? 1 : 0));
  const admins = takeFrom(terminated, Math.min(1, adminHumans));
  const preferred = rng.shuffle(
    employed.filter(
      (d) =>
        d.person!.department === 'Revenue Operations' ||
        EXECUTIVE_TITLES.has(d.person!.title) ||
        MANAGER_TITLES.has(d.person!.title),
    ),
  );
  admins.push(...takeFrom(preferred, adminHumans - admins.length));
  admins.push(...takeFrom(rng.shuffle(employed), adminHumans - admins.length));
  for (const d of admins) {
    d.roleId = roleId('Admin');
    d.profileId = profileId('Admin');
  }

  // Locked: a third of the leavers were offboarded properly (locked, and SCIM turned them inactive);
  // the rest of the locked seats belong to current employees (leave, lock-outs).
  const lockedTarget = Math.round(N * 0.08);
  const lockedLeavers = takeFrom(terminated, Math.min(lockedTarget, Math.round(terminated.length * 0.35)));
  for (const d of lockedLeavers) {
    const endMs = Date.parse(`${d.person!.terminatedOn}T00:00:00Z`);
    d.locked = true;
    d.active = false;
    d.updatedAt = iso(Math.max(d.createdMs, endMs + rng.int(0, 5) * DAY_MS + rng.int(14 * 60, 23 * 60) * 60_000));
  }
  const shuffledEmployed = rng.shuffle(employed);
  const lockedEmployees = takeFrom(shuffledEmployed, lockedTarget - lockedLeavers.length);
  for (const d of lockedEmployees) {
    d.locked = true;
    const lockMs = Math.max(d.createdMs, AS_OF_MS - rng.int(5, 200) * DAY_MS);
    d.updatedAt = iso(lockMs);
    d.currentSignInAt = iso(Math.max(d.createdMs, Math.min(Date.parse(d.currentSignInAt!), lockMs)));
    d.lastSignInAt = iso(Math.min(Date.parse(d.lastSignInAt!), Date.parse(d.currentSignInAt)));
  }

  // Seats with no profile: SCIM-created ones first, because Okta group push maps to Teams, not Profiles.
  const noProfileTarget = Math.round(N * 0.04);
  const scimFirst = [
    ...rng.shuffle(byPerson.filter((d) => d.externalSource !== null)),
    ...rng.shuffle(byPerson.filter((d) => d.externalSource === null)),
  ];
  for (const d of takeFrom(scimFirst, noProfileTarget)) d.profileId = null;

  // Case duplicates: an older hand-typed `Dana.Lee@` seat next to the SCIM-made `dana.lee@` one. Outreach
  // rejects case-insensitive duplicates today; these predate that (or came in through an import).
  for (const d of takeFrom(rng.shuffle(employed), dupPairs)) {
    const createdMs = Math.max(ORG_CREATED_MS, d.createdMs - rng.int(30, 400) * DAY_MS);
    const signInMs = Math.max(createdMs, d.createdMs - rng.int(1, 20) * DAY_MS);
    drafts.push({
      ...d,
      email: titleCaseEmail(d.email),
      username: titleCaseEmail(d.email),
      externalId: null,
      externalSource: null,
      mobilePhoneNumber: null,
      createdAt: iso(createdMs),
      updatedAt: iso(signInMs),
      currentSignInAt: iso(signInMs),
      lastSignInAt: iso(Math.max(createdMs, signInMs - 3 * DAY_MS)),
      seedKind: 'case-duplicate',
      createdMs,
    });
  }

  const SERVICES = [
    { first: 'Integration', last: 'Bot', local: 'integration.bot', title: 'Integration Service Account', role: 'Admin', profile: 'Admin' },
    { first: 'Salesforce', last: 'Sync', local: 'salesforce.sync', title: 'CRM Sync Service Account', role: null, profile: 'Sales Manager' },
    { first: 'Reporting', last: 'API', local: 'reporting.api', title: 'BI Export Service Account', role: null, profile: 'Read Only' },
  ] as const;
  for (const s of SERVICES.slice(0, serviceCount)) {
    const createdMs = ORG_CREATED_MS + rng.int(20, 900) * DAY_MS;
    const signInMs = AS_OF_MS - rng.int(0, 3) * 3_600_000;
    const email = `${s.local}@${PEOPLE_EMAIL_DOMAIN}`;
    drafts.push({
      firstName: s.first,
      lastName: s.last,
      email,
      username: email,
      locked: false,
      active: true,
      title: s.title,
      phoneNumber: null,
      mobilePhoneNumber: null,
      timeZone: 'America/New_York',
      locale: 'en-US',
      externalId: null,
      externalSource: null,
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs),
      currentSignInAt: iso(signInMs),
      lastSignInAt: iso(signInMs - 3_600_000),
      roleId: s.role ? roleId(s.role) : null,
      profileId: profileId(s.profile),
      personKey: null,
      seedKind: 'service',
      createdMs,
      person: null,
    });
  }

  // Ids follow creation order, with gaps (seats Outreach support purged), from a seed-dependent start.
  drafts.sort((a, b) => a.createdMs - b.createdMs || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  let nextId = 1000 + rng.int(0, 800);
  const users: SimUser[] = drafts.map(({ createdMs: _c, person: _p, ...rest }) => {
    const u: SimUser = { id: nextId, ...rest };
    nextId += rng.chance(0.15) ? rng.int(2, 5) : 1;
    return u;
  });
  return { roles, profiles, users };
}
