import { DAY_MS, EXECUTIVE_TITLES, MANAGER_TITLES, PEOPLE_AS_OF_MS as AS_OF_MS, generatePeople, type Person } from '../people.js';
import { ALNUM, Rng, deriveSeed } from '../prng.js';
import { renderMicros } from './time.js';

/*
 * SalesLoft's org for a seed: the token's team (a seated subset of the sandbox's people), another team in the
 * same id space, roles, a group hierarchy, pending invitations. No HTTP here.
 */

const DEFAULT_PEOPLE = 300;

export interface SimSalesloftUser {
  id: number;
  guid: string;
  team_id: number;
  first_name: string;
  last_name: string;
  email: string;
  title: string | null;
  active: boolean;
  /** "Admin", "User" or a custom role id. */
  role_id: string;
  group_id: number | null;
  time_zone: string;
  work_country: string;
  crm_id: string | null;
  /** Microseconds since the epoch. */
  created_us: number;
  updated_us: number;
  /** As served, e.g. "2026-03-04T10:22:10.123456-05:00". */
  created_at: string;
  updated_at: string;
  /** Sandbox bookkeeping, never served: the generated person this seat belongs to. */
  personKey: string | null;
  /**
   * Sandbox bookkeeping: `other-team` users live in another team and must be invisible to the token;
   * `created` ones were provisioned through a linked SCIM simulator after start.
   */
  seedKind: 'person' | 'other-team' | 'created';
}

export interface SimRole {
  id: string;
  name: string;
  custom: boolean;
}

export interface SimGroup {
  id: number;
  name: string;
  parent_id: number | null;
}

export interface SimPendingInvitation {
  id: number;
  email: string;
  created_us: number;
}

export interface SalesloftOrg {
  teamId: number;
  otherTeamId: number;
  meId: number;
  roles: SimRole[];
  groups: SimGroup[];
  /** Both teams, sorted by id. */
  users: SimSalesloftUser[];
  pending: SimPendingInvitation[];
}

const GTM = new Set(['Sales', 'Sales Development', 'Customer Success', 'Revenue Operations', 'Executive', 'Solutions Engineering']);
export const COUNTRY_BY_ZONE: Record<string, string> = {
  'Europe/London': 'GB',
  'Europe/Berlin': 'DE',
  'Asia/Singapore': 'SG',
  'Australia/Sydney': 'AU',
};

function seatChance(p: Person): number {
  if (GTM.has(p.department)) return 0.95;
  if (p.department === 'Marketing') return 0.3;
  return 0.1;
}

/**
 * The org for a seed: deterministic for (userCount, seed), independent of the clock. The token's team holds
 * `userCount` users (default: the seated subset of the sandbox's 300 people; ~85%); about 60% of the leavers
 * are deactivated and the rest still active (the audit finding); ~3% are Admins (one of them a leaver still
 * active); every user's updated_at has microseconds; a few groups of users share one updated_at, one of them
 * straddling position 100 of the updated_at order. Another team (~3%, at least 3 users, domain
 * globex.example) shares the id space.
 */
export function buildSalesloftOrg(userCount?: number, seed = 42): SalesloftOrg {
  if (userCount !== undefined && (!Number.isInteger(userCount) || userCount < 0)) {
    throw new RangeError(`userCount must be a non-negative integer, got ${userCount}`);
  }
  const rng = new Rng(deriveSeed(seed, 'salesloft'));
  const teamId = 1000 + rng.int(0, 8999);
  const otherTeamId = teamId + rng.int(1, 500);

  // Seats: walk the people in order; each decision uses its own derived stream, so the first n people get the
  // same answer whatever the total (generatePeople is prefix-stable).
  const seatedOf = (people: Person[]) =>
    people.filter((p) => new Rng(deriveSeed(seed, `salesloft-seat-${p.key}`)).next() < seatChance(p));
  let people: Person[];
  let seated: Person[];
  if (userCount === undefined) {
    people = generatePeople(DEFAULT_PEOPLE, seed);
    seated = seatedOf(people);
  } else {
    let n = Math.ceil(userCount / 0.8) + 10;
    for (;;) {
      people = generatePeople(n, seed);
      seated = seatedOf(people);
      if (seated.length >= userCount) break;
      n *= 2;
    }
    seated = seated.slice(0, userCount);
  }
  const seatedKeys = new Set(seated.map((p) => p.key));

  // Roles: the two built-ins and custom roles with seed-dependent numeric ids.
  let roleIdNext = rng.int(10, 90);
  const custom = ['Sales Manager', 'SDR', 'Read Only'].map((name) => {
    const r: SimRole = { id: String(roleIdNext), name, custom: true };
    roleIdNext += rng.int(1, 7);
    return r;
  });
  const roles: SimRole[] = [{ id: 'Admin', name: 'Admin', custom: false }, { id: 'User', name: 'User', custom: false }, ...custom];
  const roleIdOf = (name: string) => roles.find((r) => r.name === name)!.id;

  // Groups: a hierarchy (parent_id), ids with gaps.
  let gid = 200 + rng.int(0, 300);
  const groups: SimGroup[] = [];
  const group = (name: string, parent: SimGroup | null) => {
    const g: SimGroup = { id: gid, name, parent_id: parent?.id ?? null };
    gid += rng.int(1, 6);
    groups.push(g);
    return g;
  };
  const revenue = group('Revenue', null);
  const sales = group('Sales', revenue);
  const salesAmericas = group('Sales - Americas', sales);
  const salesEmea = group('Sales - EMEA', sales);
  const salesApac = group('Sales - APAC', sales);
  const sdr = group('Sales Development', revenue);
  const cs = group('Customer Success', revenue);
  const revops = group('Revenue Operations', revenue);
  const marketing = group('Marketing', null);
  const groupFor = (p: Person): SimGroup | null => {
    switch (p.department) {
      case 'Sales':
      case 'Solutions Engineering':
      case 'Executive':
        if (p.timeZone.startsWith('Europe/')) return salesEmea;
        if (p.timeZone.startsWith('Asia/') || p.timeZone.startsWith('Australia/')) return salesApac;
        return salesAmericas;
      case 'Sales Development':
        return sdr;
      case 'Customer Success':
        return cs;
      case 'Revenue Operations':
        return revops;
      case 'Marketing':
        return marketing;
      default:
        return null;
    }
  };

  interface Draft extends Omit<SimSalesloftUser, 'id' | 'created_at' | 'updated_at'> {
    person: Person;
  }
  const drafts: Draft[] = [];
  const makeDraft = (p: Person, team: number, email: string, kind: SimSalesloftUser['seedKind']): Draft => {
    const startMs = Date.parse(`${p.startDate}T00:00:00Z`);
    const createdMs = Math.min(startMs + rng.int(0, 5) * DAY_MS + rng.int(13 * 60, 22 * 60) * 60_000 + rng.int(0, 59) * 1000, AS_OF_MS - DAY_MS);
    const endMs = p.terminatedOn ? Date.parse(`${p.terminatedOn}T00:00:00Z`) : AS_OF_MS;
    const updatedMs = Math.max(createdMs, Math.min(createdMs + rng.int(0, 500) * DAY_MS + rng.int(0, 86_399) * 1000, endMs));
    let roleName = 'User';
    if (MANAGER_TITLES.has(p.title) || EXECUTIVE_TITLES.has(p.title)) roleName = 'Sales Manager';
    else if (p.department === 'Sales Development') roleName = 'SDR';
    else if (p.department === 'Finance' || p.department === 'Marketing') roleName = rng.chance(0.5) ? 'Read Only' : 'User';
    const g = groupFor(p);
    return {
      guid: rng.uuid(),
      team_id: team,
      first_name: p.firstName,
      last_name: p.lastName,
      email,
      title: p.title,
      active: true,
      role_id: roleIdOf(roleName),
      group_id: rng.chance(0.05) ? null : (g?.id ?? null),
      time_zone: p.timeZone,
      work_country: COUNTRY_BY_ZONE[p.timeZone] ?? 'US',
      crm_id: rng.chance(0.8) ? `005${rng.chars(ALNUM, 15)}` : null,
      created_us: createdMs * 1000 + rng.int(0, 999_999),
      updated_us: updatedMs * 1000 + rng.int(0, 999_999),
      personKey: kind === 'person' ? p.key : null,
      seedKind: kind,
      person: p,
    };
  };

  const team: Draft[] = seated.map((p) => makeDraft(p, teamId, p.email, 'person'));
  drafts.push(...team);

  // Leavers: ~60% deactivated (updated at the offboarding), the rest still active.
  const leavers = rng.shuffle(team.filter((d) => d.person.employment === 'terminated'));
  const deactivateN = Math.round(leavers.length * 0.6);
  const stillActiveLeavers = leavers.slice(deactivateN);
  for (const d of leavers.slice(0, deactivateN)) {
    d.active = false;
    const endMs = Date.parse(`${d.person.terminatedOn}T00:00:00Z`);
    d.updated_us = Math.max(d.created_us, (endMs + rng.int(0, 4) * DAY_MS + rng.int(14 * 3600, 23 * 3600) * 1000) * 1000 + rng.int(0, 999_999));
  }
  // Admins: ~3%: one leaver still active (the finding), then RevOps, executives and managers.
  const adminTarget = Math.max(team.length > 0 ? 1 : 0, Math.round(team.length * 0.03));
  const admins: Draft[] = [];
  if (stillActiveLeavers.length > 0 && adminTarget > 1) admins.push(stillActiveLeavers[0]!);
  const employed = team.filter((d) => d.person.employment === 'active');
  const preferred = rng.shuffle(employed.filter((d) => d.person.department === 'Revenue Operations' || EXECUTIVE_TITLES.has(d.person.title) || MANAGER_TITLES.has(d.person.title)));
  for (const d of [...preferred, ...rng.shuffle(employed)]) {
    if (admins.length >= adminTarget) break;
    if (!admins.includes(d)) admins.push(d);
  }
  for (const d of admins) d.role_id = 'Admin';
  // The token's owner: the first employed admin (RevOps if any).
  const me = admins.find((d) => d.person.employment === 'active' && d.active) ?? team.find((d) => d.active);

  // The other team: a subsidiary on its own SalesLoft team, same id space, invisible to the token.
  const otherCount = team.length === 0 ? 0 : Math.max(3, Math.round(team.length * 0.03));
  for (const p of generatePeople(otherCount, seed + 7919)) {
    drafts.push(makeDraft(p, otherTeamId, p.email.replace(/@.*$/, '@globex.example'), 'other-team'));
  }

  // Ids follow creation order, with gaps, from a seed-dependent start.
  drafts.sort((a, b) => a.created_us - b.created_us || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  let nextId = 30_000 + rng.int(0, 9_000);
  const ids = new Map<Draft, number>();
  for (const d of drafts) {
    ids.set(d, nextId);
    nextId += rng.chance(0.2) ? rng.int(2, 6) : 1;
  }

  // Ties: bulk changes leave several users on one microsecond. One group straddles position 100 of the team's
  // updated_at order (so the first boundary of a 100-per-page cursor walk meets it); a few more sit well
  // inside pages.
  const byUpdated = [...team].sort((a, b) => a.updated_us - b.updated_us || ids.get(a)! - ids.get(b)!);
  const tie = (from: number, size: number) => {
    if (from < 0 || from + size > byUpdated.length) return;
    const t = byUpdated[from]!.updated_us;
    for (let i = from + 1; i < from + size; i++) byUpdated[i]!.updated_us = t;
  };
  if (byUpdated.length >= 110) tie(98, 4);
  const extraTies = Math.min(5, Math.floor(byUpdated.length / 50));
  for (let k = 0; k < extraTies; k++) {
    const base = Math.floor(((k + 1) * byUpdated.length) / (extraTies + 1));
    const from = base - (base % 100) + 20 + rng.int(0, 50);
    tie(Math.min(from, byUpdated.length - 3), rng.int(2, 3));
  }

  const users: SimSalesloftUser[] = drafts.map((d) => {
    const { person: _p, ...rest } = d;
    return { id: ids.get(d)!, ...rest, created_at: renderMicros(d.created_us), updated_at: renderMicros(d.updated_us) };
  });
  users.sort((a, b) => a.id - b.id);

  // Pending invitations: people without a seat who started recently, plus a few outside addresses.
  const pendingCount = team.length === 0 ? 0 : Math.max(2, Math.round(team.length * 0.01));
  let pid = 500 + rng.int(0, 400);
  const pending: SimPendingInvitation[] = [];
  const unseated = people.filter((p) => !seatedKeys.has(p.key) && p.employment === 'active').reverse();
  for (const p of unseated.slice(0, pendingCount)) {
    pending.push({ id: pid, email: p.email, created_us: (AS_OF_MS - rng.int(1, 20) * DAY_MS) * 1000 + rng.int(0, 999_999) });
    pid += rng.int(1, 4);
  }

  return { teamId, otherTeamId, meId: me ? ids.get(me)! : 0, roles, groups, users, pending };
}
