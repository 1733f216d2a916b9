import { DAY_MS, LOCALE_BY_ZONE, PEOPLE_AS_OF_MS as AS_OF_MS, PEOPLE_EMAIL_DOMAIN, generatePeople, type Person } from '../people.js';
import type { ScimLink, ScimLinkUser } from '../link.js';
import { ALNUM, HEX, Rng, deriveSeed } from '../prng.js';
import { SEED_PROFILES, SCIM_VENDOR_BEHAVIOUR, type ScimVendor, type SeedProfile } from './profiles.js';
import { SCIM_SCHEMA, clone, type Doc } from './protocol.js';
import { isRecord, iso } from '../values.js';
import { primaryEmail } from './schema.js';

/*
 * The SCIM directory a simulator starts with: its stored records (UserRec, GroupRec), seeded either on its own
 * (buildDirectory) or over a linked REST simulator's seats (buildLinkedDirectory), and the snapshots tests see.
 */

export const DEFAULT_USER_COUNT = 300; // the Outreach simulator's default: same seed, same people

export interface ScimEmail {
  value: string;
  type?: string;
  primary?: boolean;
  display?: string;
}

export interface ScimSimUser {
  id: string;
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  /** The primary email (or the first one). */
  email: string | null;
  emails: ScimEmail[];
  title: string | null;
  department: string | null;
  employeeNumber: string | null;
  active: boolean;
  /** SalesLoft only: the invitation state behind `active: true`; null for other vendors. */
  invitationStatus: 'pending' | 'accepted' | null;
  /** Outreach only: DELETE hid the user from SCIM (404) but the seat's data was kept. */
  deleted: boolean;
  groupIds: string[];
  created: string;
  lastModified: string;
  version: number;
  /** Sandbox bookkeeping, never served: the generated person (null for service accounts and SCIM creates). */
  personKey: string | null;
  seedKind: 'person' | 'service' | 'created';
}

export interface ScimSimGroup {
  id: string;
  displayName: string;
  externalId: string | null;
  memberIds: string[];
  created: string;
  lastModified: string;
  version: number;
  seedKind: 'seed' | 'created';
}

export interface UserRec {
  id: string;
  doc: Doc;
  invitationStatus: 'pending' | 'accepted' | null;
  deleted: boolean;
  created: number;
  lastModified: number;
  version: number;
  personKey: string | null;
  seedKind: ScimSimUser['seedKind'];
  /** Linked only: the REST record's shared fields as last seen, to tell REST-side changes from SCIM's own. */
  seen?: LinkShared;
}

/** The fields a linked SCIM user shares with its REST record. */
export interface LinkShared {
  active: boolean;
  email: string;
  givenName: string | null;
  familyName: string | null;
}

export function linkShared(r: ScimLinkUser): LinkShared {
  return { active: r.active, email: r.email, givenName: r.givenName, familyName: r.familyName };
}

export interface GroupRec {
  id: string;
  doc: Doc;
  memberIds: string[];
  created: number;
  lastModified: number;
  version: number;
  seedKind: ScimSimGroup['seedKind'];
}

/** Okta user ids (`00u...`) derive from the person, so one person carries the same externalId in every vendor. */
function oktaId(seed: number, prefix: '00u' | '00g', key: string): string {
  return prefix + new Rng(deriveSeed(seed, `okta:${prefix}:${key}`)).chars(ALNUM, 17);
}

export function makeIdGen(style: SeedProfile['idStyle'], rng: Rng, first: number): (createdMs: number) => string {
  let next = first;
  return (createdMs) => {
    switch (style) {
      case 'numeric': {
        const id = String(next);
        next += rng.chance(0.15) ? rng.int(2, 6) : 1;
        return id;
      }
      case 'objectid':
        // Mongo-style ObjectId (Apollo's ids): 4-byte creation time, then 8 random bytes.
        return Math.floor(createdMs / 1000).toString(16).padStart(8, '0') + rng.chars(HEX, 16);
      case 'uuid':
        return rng.uuid();
    }
  };
}


export interface Directory {
  users: UserRec[];
  groups: GroupRec[];
  nextUserId: (createdMs: number) => string;
  nextGroupId: (createdMs: number) => string;
}

function userDoc(first: string, last: string, email: string, title: string, timeZone: string, active: boolean): Doc {
  return {
    userName: email,
    name: { formatted: `${first} ${last}`, familyName: last, givenName: first },
    displayName: `${first} ${last}`,
    title,
    locale: LOCALE_BY_ZONE[timeZone] ?? 'en-US',
    timezone: timeZone,
    active,
    emails: [{ value: email, type: 'work', primary: true }],
  };
}

/**
 * The vendor's SCIM directory for a seed: deterministic for (vendor, userCount, seed), independent of the
 * clock. Seats are drawn from `generatePeople(userCount, seed)` (the Outreach simulator's people) by
 * department with vendor-specific rates, only for people still employed when the company adopted the tool.
 * Then: ~45% of the terminated seat holders deactivated (the rest still active, at least one: what an
 * access review must find), ~3% of employees deactivated, one shared/service account without an externalId,
 * SalesLoft invitations pending for recent hires plus ~4% that were never accepted. externalIds are Okta
 * user ids derived from the person (same person, same externalId in every vendor); some seats that predate
 * SCIM were never linked and have none.
 */
export function buildDirectory(vendor: ScimVendor, userCount: number, seed: number): Directory {
  if (!Number.isInteger(userCount) || userCount < 0) throw new RangeError(`userCount must be a non-negative integer, got ${userCount}`);
  const profile = SEED_PROFILES[vendor];
  const behaviour = SCIM_VENDOR_BEHAVIOUR[vendor];
  const rng = new Rng(deriveSeed(seed, `scim:${vendor}`));
  const adoptedMs = Date.parse(`${profile.adoptedOn}T00:00:00Z`);
  const scimSinceMs = Date.parse(`${profile.scimSince}T00:00:00Z`);
  const people = generatePeople(userCount, seed);

  interface Draft {
    person: Person | null;
    doc: Doc;
    createdMs: number;
    lastModifiedMs: number;
    endMs: number;
    invitationStatus: UserRec['invitationStatus'];
    seedKind: UserRec['seedKind'];
    groupNames: string[];
  }
  const drafts: Draft[] = [];

  for (const p of people) {
    // A fixed number of draws per person, so one person's seat does not shift everyone else's.
    const seatRoll = rng.next();
    const dayRoll = rng.next();
    const minuteRoll = rng.next();
    const linkRoll = rng.next();
    const modRoll = rng.next();
    if (seatRoll >= (profile.seatRate[p.department] ?? 0)) continue;
    const startMs = Date.parse(`${p.startDate}T00:00:00Z`);
    const endMs = p.terminatedOn ? Date.parse(`${p.terminatedOn}T00:00:00Z`) : AS_OF_MS;
    const fromMs = Math.max(startMs, adoptedMs);
    if (fromMs + 14 * DAY_MS >= endMs) continue; // gone before they would have had a seat
    const createdMs = Math.min(
      fromMs + Math.floor(dayRoll * 10) * DAY_MS + (13 * 60 + Math.floor(minuteRoll * 9 * 60)) * 60_000,
      endMs - DAY_MS,
    );
    const doc = userDoc(p.firstName, p.lastName, p.email, p.title, p.timeZone, true);
    // Seats created since SCIM carry Okta's id; older ones only when an import linked them.
    if (createdMs >= scimSinceMs || linkRoll < 0.65) {
      doc.externalId = oktaId(seed, '00u', p.key);
      doc[SCIM_SCHEMA.enterpriseUser] = { employeeNumber: p.key, department: p.department };
    }
    drafts.push({
      person: p,
      doc,
      createdMs,
      lastModifiedMs: Math.max(createdMs, Math.min(createdMs + Math.floor(modRoll * 300) * DAY_MS, endMs, AS_OF_MS - DAY_MS)),
      endMs,
      invitationStatus: behaviour.invitations ? 'accepted' : null,
      seedKind: 'person',
      groupNames: profile.groups.filter((g) => g.match(p)).map((g) => g.name),
    });
  }

  const personal = drafts.slice();
  const terminated = rng.shuffle(personal.filter((d) => d.person!.employment === 'terminated'));
  const employed = rng.shuffle(personal.filter((d) => d.person!.employment === 'active'));

  // Leavers: most were deprovisioned, but at least one still holds an active seat.
  const offboarded = terminated.length >= 2 ? Math.max(1, Math.min(terminated.length - 1, Math.round(terminated.length * 0.45))) : 0;
  for (const d of terminated.slice(0, offboarded)) {
    d.doc.active = false;
    d.lastModifiedMs = Math.min(AS_OF_MS, Math.max(d.createdMs, d.endMs + rng.int(0, 5) * DAY_MS + rng.int(14 * 60, 23 * 60) * 60_000));
  }
  // Employees on leave or locked out.
  const onLeave = Math.round(employed.length * 0.03);
  for (const d of employed.slice(0, onLeave)) {
    d.doc.active = false;
    d.lastModifiedMs = Math.max(d.createdMs, AS_OF_MS - rng.int(5, 200) * DAY_MS);
  }
  if (behaviour.invitations) {
    // SalesLoft: invitations of recent hires are still open, plus a few that nobody ever accepted.
    const candidates = employed.slice(onLeave);
    const recent = candidates.filter((d) => d.createdMs >= AS_OF_MS - 45 * DAY_MS);
    const stale = rng.shuffle(candidates.filter((d) => d.createdMs < AS_OF_MS - 45 * DAY_MS));
    const pending = [...recent, ...stale.slice(0, Math.max(recent.length ? 0 : 1, Math.round(candidates.length * 0.04)))];
    for (const d of pending) {
      d.invitationStatus = 'pending';
      d.lastModifiedMs = d.createdMs;
    }
  }

  if (userCount >= 10) {
    const s = profile.service;
    const email = `${s.local}@${PEOPLE_EMAIL_DOMAIN}`;
    const createdMs = adoptedMs + 2 * DAY_MS + 15 * 3_600_000;
    drafts.push({
      person: null,
      doc: userDoc(s.first, s.last, email, s.title, 'America/New_York', true),
      createdMs,
      lastModifiedMs: createdMs,
      endMs: AS_OF_MS,
      invitationStatus: behaviour.invitations ? 'accepted' : null,
      seedKind: 'service',
      groupNames: s.group ? [s.group] : [],
    });
  }

  drafts.sort((a, b) => a.createdMs - b.createdMs || ((a.doc.userName as string) < (b.doc.userName as string) ? -1 : 1));
  const nextUserId = makeIdGen(profile.idStyle, rng, rng.int(profile.firstId[0], profile.firstId[1]));
  const users: UserRec[] = drafts.map((d) => ({
    id: nextUserId(d.createdMs),
    doc: d.doc,
    invitationStatus: d.invitationStatus,
    deleted: false,
    created: d.createdMs,
    lastModified: d.lastModifiedMs,
    version: 1,
    personKey: d.person?.key ?? null,
    seedKind: d.seedKind,
  }));

  const { groups, nextGroupId } = seedGroups(
    vendor,
    seed,
    rng,
    drafts.map((d, j) => ({ id: users[j]!.id, createdMs: d.createdMs, groupNames: d.groupNames })),
  );
  return { users, groups, nextUserId, nextGroupId };
}

/** The vendor's seeded groups over `members` (in directory order), and the id generator for later groups. */
function seedGroups(
  vendor: ScimVendor,
  seed: number,
  rng: Rng,
  members: readonly { id: string; createdMs: number; groupNames: readonly string[] }[],
): { groups: GroupRec[]; nextGroupId: (createdMs: number) => string } {
  const profile = SEED_PROFILES[vendor];
  const adoptedMs = Date.parse(`${profile.adoptedOn}T00:00:00Z`);
  const nextGroupId = makeIdGen(profile.idStyle, rng, rng.int(10, 60));
  const groups: GroupRec[] = profile.groups.map((g, i) => {
    const created = adoptedMs + (20 + i * 3) * DAY_MS + 16 * 3_600_000;
    const inGroup = members.filter((m) => m.groupNames.includes(g.name));
    const lastMember = inGroup.reduce((max, m) => Math.max(max, m.createdMs), created);
    return {
      id: nextGroupId(created),
      doc: { displayName: g.name, externalId: oktaId(seed, '00g', `${vendor}:${g.name}`) },
      memberIds: inGroup.map((m) => m.id),
      created,
      lastModified: Math.min(AS_OF_MS, lastMember),
      version: 1,
      seedKind: 'seed',
    };
  });
  return { groups, nextGroupId };
}

/** A linked seat's SCIM document, from the REST record's shared fields (and the person, for the zone). */
export function linkedDoc(r: ScimLinkUser, person: Person | null): Doc {
  const zone = r.timeZone ?? person?.timeZone ?? null;
  const doc: Doc = { userName: r.email };
  const formatted = [r.givenName, r.familyName].filter((x): x is string => !!x).join(' ');
  if (formatted) {
    doc.name = {
      formatted,
      ...(r.familyName ? { familyName: r.familyName } : {}),
      ...(r.givenName ? { givenName: r.givenName } : {}),
    };
    doc.displayName = formatted;
  }
  if (r.title) doc.title = r.title;
  doc.locale = (zone && LOCALE_BY_ZONE[zone]) ?? 'en-US';
  if (zone) doc.timezone = zone;
  doc.active = r.active;
  doc.emails = [{ value: r.email, type: 'work', primary: true }];
  return doc;
}

/**
 * The SCIM record of a REST seat, at the seed or when the REST side creates one later: a seat the REST API
 * lists has accepted any SalesLoft invitation (only users SCIM creates are pending).
 */
export function linkedRecord(r: ScimLinkUser, doc: Doc, invitations: boolean): UserRec {
  return {
    id: r.id,
    doc,
    invitationStatus: invitations ? 'accepted' : null,
    deleted: false,
    created: r.created,
    lastModified: Math.max(r.created, r.lastModified ?? r.created),
    version: 1,
    personKey: r.personKey,
    seedKind: seedKindOf(r),
    seen: linkShared(r),
  };
}

function seedKindOf(r: ScimLinkUser): ScimSimUser['seedKind'] {
  return r.kind === 'service' ? 'service' : r.kind === 'created' ? 'created' : 'person';
}

/**
 * The directory of a SCIM server linked to a REST simulator: exactly the REST seats, in REST order, with the
 * REST id as SCIM id. SCIM-only data follows the same rules as buildDirectory, applied to the REST seat and
 * to the same person (generatePeople with the REST simulator's seed, so both agree by construction): the
 * externalId (Okta's id of the person) and the enterprise extension for seats created since the vendor's
 * SCIM cut-over or linked by an import (~65% of the older ones); groups by the person's department and title;
 * the shared service account in its group. Outreach's older case-variant seats (`Dana.Lee@` next to
 * `dana.lee@`) are listed too, as the REST API lists them, but carry neither externalId nor groups: the IdP
 * only ever linked the other one. SalesLoft invitations: every seeded seat has accepted (it is in the REST
 * user list); only users SCIM creates are pending.
 */
export function buildLinkedDirectory(vendor: ScimVendor, link: ScimLink, seed: number): Directory {
  const profile = SEED_PROFILES[vendor];
  const behaviour = SCIM_VENDOR_BEHAVIOUR[vendor];
  const rng = new Rng(deriveSeed(seed, `scim-linked:${vendor}`));
  const scimSinceMs = Date.parse(`${profile.scimSince}T00:00:00Z`);
  const seats = link.list();
  // generatePeople is prefix-stable and `emp-00042` is the 42nd person, so the REST simulator's people are
  // the first max-index people of its seed, however many it drew.
  const maxIndex = seats.reduce((max, r) => Math.max(max, Number(/^emp-(\d+)$/.exec(r.personKey ?? '')?.[1] ?? 0)), 0);
  const people = new Map(generatePeople(maxIndex, link.seed).map((p) => [p.key, p]));

  const members: { id: string; createdMs: number; groupNames: string[] }[] = [];
  const users: UserRec[] = seats.map((r) => {
    const linkRoll = rng.next(); // one draw per seat, so one seat's data does not shift the others'
    const person = r.personKey ? (people.get(r.personKey) ?? null) : null;
    const doc = linkedDoc(r, person);
    let groupNames: string[] = [];
    if (r.kind === 'person' && person) {
      if (r.created >= scimSinceMs || linkRoll < 0.65) {
        doc.externalId = oktaId(link.seed, '00u', person.key);
        doc[SCIM_SCHEMA.enterpriseUser] = { employeeNumber: person.key, department: person.department };
      }
      groupNames = profile.groups.filter((g) => g.match(person)).map((g) => g.name);
    } else if (r.kind === 'service' && profile.service.group && r.email.toLowerCase() === `${profile.service.local}@${PEOPLE_EMAIL_DOMAIN}`) {
      groupNames = [profile.service.group];
    }
    members.push({ id: r.id, createdMs: r.created, groupNames });
    return linkedRecord(r, doc, behaviour.invitations);
  });
  const { groups, nextGroupId } = seedGroups(vendor, seed, rng, members);
  return {
    users,
    groups,
    nextUserId: () => {
      throw new Error('a linked SCIM directory takes user ids from the REST simulator');
    },
    nextGroupId,
  };
}

export function snapshotUser(u: UserRec, groups: readonly GroupRec[]): ScimSimUser {
  const d = u.doc;
  const name = isRecord(d.name) ? d.name : {};
  const ent = isRecord(d[SCIM_SCHEMA.enterpriseUser]) ? (d[SCIM_SCHEMA.enterpriseUser] as Doc) : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    id: u.id,
    userName: d.userName as string,
    externalId: str(d.externalId),
    givenName: str(name.givenName),
    familyName: str(name.familyName),
    displayName: str(d.displayName),
    email: primaryEmail(d),
    emails: clone(Array.isArray(d.emails) ? (d.emails as ScimEmail[]) : []),
    title: str(d.title),
    department: str(ent.department),
    employeeNumber: str(ent.employeeNumber),
    active: d.active === true,
    invitationStatus: u.invitationStatus,
    deleted: u.deleted,
    groupIds: groups.filter((g) => g.memberIds.includes(u.id)).map((g) => g.id),
    created: iso(u.created),
    lastModified: iso(u.lastModified),
    version: u.version,
    personKey: u.personKey,
    seedKind: u.seedKind,
  };
}

export function snapshotGroup(g: GroupRec): ScimSimGroup {
  return {
    id: g.id,
    displayName: g.doc.displayName as string,
    externalId: typeof g.doc.externalId === 'string' ? g.doc.externalId : null,
    memberIds: g.memberIds.slice(),
    created: iso(g.created),
    lastModified: iso(g.lastModified),
    version: g.version,
    seedKind: g.seedKind,
  };
}

/** The seeded directory a simulator starts with, without starting one (for tests and the roster). */
export function buildScimDirectory(
  vendor: ScimVendor,
  userCount = DEFAULT_USER_COUNT,
  seed = 42,
): { users: ScimSimUser[]; groups: ScimSimGroup[] } {
  const dir = buildDirectory(vendor, userCount, seed);
  return { users: dir.users.map((u) => snapshotUser(u, dir.groups)), groups: dir.groups.map(snapshotGroup) };
}
