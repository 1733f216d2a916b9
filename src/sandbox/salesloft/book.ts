import { DAY_MS } from '../people.js';
import { Rng, deriveSeed } from '../prng.js';
import { RecordStream, bigBookCount, companyName, recordTimes, slug, type BigBook } from '../records.js';
import type { SimSalesloftUser } from './seed.js';

/*
 * What SalesLoft users own, for a seed: people (`owner`), accounts (`owner`, a domain unique on the team),
 * cadences (`owner`, filtered by the owner's guid) and tasks (`user`, the assignee). No HTTP here. Each
 * collection draws from its own stream (`salesloft-<type>`), never from the org's, so the users, roles and
 * groups of a seed are what they were before records existed. A few records belong to the other team (same id
 * space): invisible to the token, 404 by id.
 */

export interface SlRecordBase {
  id: number;
  team_id: number;
  /** Microseconds since the epoch (served with the team's offset, see time.ts). */
  created_us: number;
  updated_us: number;
}

export interface SimPerson extends SlRecordBase {
  first_name: string;
  last_name: string;
  email_address: string;
  title: string;
  company: string;
  /** The owning user (`owner`); null when unowned. */
  owner_id: number | null;
  account_id: number | null;
}

export interface SimSlAccount extends SlRecordBase {
  name: string;
  /** Unique on the team (the spec: '"domain" must be unique on the current team'). */
  domain: string;
  owner_id: number | null;
  archived_at_us: number | null;
}

export interface SimCadence extends SlRecordBase {
  name: string;
  /** The owning user; listings filter it by the owner's guid (`owned_by_guid`), as the spec does. */
  owner_id: number;
  team_cadence: boolean;
  shared: boolean;
  draft: boolean;
  archived_at_us: number | null;
}

export interface SimSlTask extends SlRecordBase {
  subject: string;
  task_type: 'call' | 'email' | 'general';
  current_state: 'scheduled' | 'completed';
  /** The assignee (`user`). The spec has no way to change it. */
  user_id: number;
  person_id: number | null;
  created_by_user_id: number;
  /** ISO date. */
  due_date: string;
  completed_at_us: number | null;
}

export interface SalesloftBook {
  people: SimPerson[];
  accounts: SimSlAccount[];
  cadences: SimCadence[];
  tasks: SimSlTask[];
}

export { DEFAULT_BIG_BOOK, type BigBook } from '../records.js';

const FIRST = ['Ana', 'Ben', 'Chloe', 'Dev', 'Erin', 'Felix', 'Gia', 'Hugo', 'Iris', 'Jon', 'Kara', 'Leo', 'Mina', 'Nico', 'Omar', 'Pia', 'Quinn', 'Rosa'];
const LAST = ['Abbott', 'Bauer', 'Castillo', 'Dalton', 'Eriksen', 'Farrow', 'Gallo', 'Hartley', 'Ibarra', 'Jansen', 'Kowal', 'Moreau', 'Nakamura', 'Oduya'];
const TITLES = ['VP of Sales', 'Director of Marketing', 'Head of Revenue Operations', 'Sales Manager', 'Account Executive', 'CFO'];
const CADENCES = ['Outbound - Enterprise', 'Inbound follow-up', 'Webinar invite', 'Renewal', 'Cold intro', 'Closed lost revive'];
const TASK_TYPES = ['call', 'email', 'general'] as const;
const FIRST_MS = Date.parse('2023-01-02T00:00:00Z');

function times(rng: Rng): { created_us: number; updated_us: number } {
  const t = recordTimes(rng, FIRST_MS);
  return { created_us: t.created * 1000 + rng.int(0, 999), updated_us: t.updated * 1000 + rng.int(0, 999) };
}

function person(d: RecordStream<SimPerson>, team: number, owner: number | null, account: number | null): SimPerson {
  const { rng } = d;
  const first_name = rng.pick(FIRST);
  const last_name = rng.pick(LAST);
  const company = companyName(rng);
  const id = d.id();
  return { id, team_id: team, first_name, last_name, email_address: `${slug(first_name)}.${slug(last_name)}${id}@${slug(company)}.example`, title: rng.pick(TITLES), company, owner_id: owner, account_id: account, ...times(rng) };
}

function account(d: RecordStream<SimSlAccount>, team: number, owner: number | null): SimSlAccount {
  const { rng } = d;
  const name = companyName(rng);
  const id = d.id();
  const t = times(rng);
  return { id, team_id: team, name, domain: `${slug(name)}-${id}.example`, owner_id: owner, archived_at_us: rng.chance(0.05) ? t.updated_us : null, ...t };
}

function cadence(d: RecordStream<SimCadence>, team: number, owner: number): SimCadence {
  const { rng } = d;
  const t = times(rng);
  return { id: d.id(), team_id: team, name: `${rng.pick(CADENCES)} ${rng.int(1, 99)}`, owner_id: owner, team_cadence: rng.chance(0.2), shared: rng.chance(0.5), draft: rng.chance(0.1), archived_at_us: rng.chance(0.1) ? t.updated_us : null, ...t };
}

function task(d: RecordStream<SimSlTask>, team: number, user: number, personId: number | null, scheduledRate: number): SimSlTask {
  const { rng } = d;
  const t = times(rng);
  const scheduled = rng.chance(scheduledRate);
  return {
    id: d.id(),
    team_id: team,
    subject: `${rng.pick(['Call', 'Email', 'Follow up with', 'Prepare for'])} ${rng.pick(FIRST)}`,
    task_type: rng.pick(TASK_TYPES),
    current_state: scheduled ? 'scheduled' : 'completed',
    user_id: user,
    person_id: personId,
    created_by_user_id: user,
    due_date: new Date(Math.floor(t.created_us / 1000) + rng.int(1, 30) * DAY_MS).toISOString().slice(0, 10),
    completed_at_us: scheduled ? null : t.updated_us,
    ...t,
  };
}

/**
 * The book of an org: every user of the token's team (deactivated ones too: what a leaver leaves behind) owns a
 * few people, accounts, cadences and tasks (~60% scheduled); a few users of the other team own records of
 * their own. With `bigBook`, that user also owns `count` records of each type (tasks 90% scheduled), drawn
 * from streams of their own after everything else, so the rest of the book is unchanged.
 */
export function buildSalesloftBook(users: readonly SimSalesloftUser[], teamId: number, otherTeamId: number, seed: number, bigBook?: BigBook): SalesloftBook {
  const mine = users.filter((u) => u.team_id === teamId && u.seedKind === 'person').map((u) => u.id);
  const others = users.filter((u) => u.team_id === otherTeamId).map((u) => u.id);

  const accounts = new RecordStream<SimSlAccount>(seed, 'salesloft-accounts', [20_000, 29_000]);
  const people = new RecordStream<SimPerson>(seed, 'salesloft-people', [1_000_000, 1_090_000]);
  const cadences = new RecordStream<SimCadence>(seed, 'salesloft-cadences', [3_000, 3_900]);
  const tasks = new RecordStream<SimSlTask>(seed, 'salesloft-tasks', [80_000_000, 80_900_000]);
  const draw = (team: number, owners: readonly number[]) => {
    for (const o of owners) {
      const accountIds: number[] = [];
      for (let i = accounts.rng.int(0, 6); i > 0; i--) accountIds.push(accounts.out[accounts.out.push(account(accounts, team, o)) - 1]!.id);
      const personIds: number[] = [];
      for (let i = people.rng.int(0, 40); i > 0; i--) {
        const acc = accountIds.length && people.rng.chance(0.6) ? people.rng.pick(accountIds) : null;
        personIds.push(people.out[people.out.push(person(people, team, o, acc)) - 1]!.id);
      }
      for (let i = cadences.rng.int(0, 3); i > 0; i--) cadences.out.push(cadence(cadences, team, o));
      for (let i = tasks.rng.int(0, 8); i > 0; i--) tasks.out.push(task(tasks, team, o, personIds.length ? tasks.rng.pick(personIds) : null, 0.6));
    }
  };
  draw(teamId, mine);
  draw(otherTeamId, others);

  if (bigBook) {
    const wanted = bigBook.email.trim().toLowerCase();
    const matches = users.filter((u) => u.team_id === teamId && u.email.toLowerCase() === wanted);
    const who = matches.find((u) => u.active) ?? matches[0];
    if (!who) throw new RangeError(`bigBook: no SalesLoft user of the team has the email ${bigBook.email}`);
    const n = bigBookCount(bigBook);
    // Streams of their own, ids after the seeded ones: the rest of the book is the same with or without it.
    const acc = new RecordStream<SimSlAccount>(seed, 'salesloft-bigbook-accounts', [accounts.after, accounts.after], false);
    const ppl = new RecordStream<SimPerson>(seed, 'salesloft-bigbook-people', [people.after, people.after], false);
    const cad = new RecordStream<SimCadence>(seed, 'salesloft-bigbook-cadences', [cadences.after, cadences.after], false);
    const tsk = new RecordStream<SimSlTask>(seed, 'salesloft-bigbook-tasks', [tasks.after, tasks.after], false);
    for (let i = 0; i < n; i++) {
      acc.out.push(account(acc, teamId, who.id));
      ppl.out.push(person(ppl, teamId, who.id, null));
      cad.out.push(cadence(cad, teamId, who.id));
      tsk.out.push(task(tsk, teamId, who.id, null, 0.9));
    }
    accounts.out.push(...acc.out);
    people.out.push(...ppl.out);
    cadences.out.push(...cad.out);
    tasks.out.push(...tsk.out);
  }
  return { people: people.out, accounts: accounts.out, cadences: cadences.out, tasks: tasks.out };
}

/** Whether a user's email client is connected, and from which address; drawn per user, so it costs no book. */
export function emailClientOf(seed: number, u: Pick<SimSalesloftUser, 'id' | 'email' | 'active' | 'seedKind'>): { configured: boolean; address: string | null } {
  // A user provisioned after start has not connected one yet.
  if (u.seedKind === 'created') return { configured: false, address: null };
  const rng = new Rng(deriveSeed(seed, `salesloft-email-client-${u.id}`));
  // Most active users send from SalesLoft; half the deactivated ones still have theirs connected (the finding).
  const configured = rng.chance(u.active ? 0.85 : 0.5);
  return { configured, address: configured ? u.email : null };
}
