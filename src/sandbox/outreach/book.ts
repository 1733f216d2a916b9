import { DAY_MS } from '../people.js';
import type { Rng } from '../prng.js';
import { RecordStream, bigBookCount, companyName, recordTimes, slug, type BigBook } from '../records.js';
import { iso } from '../values.js';
import type { SimUser } from './seed.js';

/*
 * What Outreach users own, for a seed: prospects, accounts, sequences, opportunities, tasks, and one mailbox per
 * active user. No HTTP here. Each collection draws from its own stream (`outreach-<type>`), never from the
 * org's, so the users, roles and profiles of a seed are what they were before records existed, and adding a
 * collection does not move another. Ids are integers in an id space per type, from a seed-dependent start.
 */

export interface OwnedRecordBase {
  id: number;
  /** The owner's user id (the `owner` relationship); null when unowned. */
  ownerId: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface SimProspect extends OwnedRecordBase {
  firstName: string;
  lastName: string;
  emails: string[];
  title: string;
  company: string;
}

export interface SimAccount extends OwnedRecordBase {
  name: string;
  domain: string;
  /** The spec: "Only named accounts will show up on the collection index". */
  named: boolean;
}

export interface SimSequence extends OwnedRecordBase {
  name: string;
  enabled: boolean;
  shareType: 'private' | 'read_only' | 'shared';
  sequenceType: 'interval' | 'date';
}

export interface SimOpportunity extends OwnedRecordBase {
  name: string;
  amount: number;
}

export interface SimTask extends OwnedRecordBase {
  action: 'action_item' | 'call' | 'email' | 'in_person';
  /** The spec: "'pending', 'incomplete', or 'complete'"; about a fifth of the open tasks are pending. */
  state: 'pending' | 'incomplete' | 'complete';
  dueAt: string;
  completedAt: string | null;
}

export interface SimMailbox {
  id: number;
  email: string;
  /** The user owning the mailbox (attribute `userId`, relationship `user`). */
  userId: number;
  sendDisabled: boolean;
  syncDisabled: boolean;
  emailProvider: string;
  providerType: string;
  createdAt: string;
  updatedAt: string;
}

export interface OutreachBook {
  prospects: SimProspect[];
  accounts: SimAccount[];
  sequences: SimSequence[];
  opportunities: SimOpportunity[];
  tasks: SimTask[];
  mailboxes: SimMailbox[];
}

export { DEFAULT_BIG_BOOK, type BigBook } from '../records.js';

/** A seat as the book sees it: taken when the store starts, so a later write does not change the seed. */
export type BookUser = Pick<SimUser, 'id' | 'email' | 'active' | 'locked' | 'seedKind'>;

const FIRST = ['Ana', 'Ben', 'Chloe', 'Dev', 'Erin', 'Felix', 'Gia', 'Hugo', 'Iris', 'Jon', 'Kara', 'Leo', 'Mina', 'Nico', 'Omar', 'Pia', 'Quinn', 'Rosa', 'Sam', 'Tara'];
const LAST = ['Abbott', 'Bauer', 'Castillo', 'Dalton', 'Eriksen', 'Farrow', 'Gallo', 'Hartley', 'Ibarra', 'Jansen', 'Kowal', 'Moreau', 'Nakamura', 'Oduya', 'Petrov', 'Romero', 'Tran', 'Varga'];
const TITLES = ['VP of Sales', 'Director of Marketing', 'Head of Revenue Operations', 'Sales Manager', 'Account Executive', 'Engineering Manager', 'CFO'];
const SEQUENCE_NAMES = ['Outbound - Enterprise', 'Inbound follow-up', 'Event invite', 'Renewal nudge', 'Cold intro', 'Re-engage closed lost'];
const ACTIONS = ['action_item', 'call', 'email', 'in_person'] as const;
const SHARE = ['private', 'read_only', 'shared'] as const;
const FIRST_MS = Date.parse('2023-01-02T00:00:00Z');

/** Created and updated times of a record, both before the sandbox's "today". */
function times(rng: Rng): { createdAt: string; updatedAt: string } {
  const t = recordTimes(rng, FIRST_MS);
  return { createdAt: iso(t.created), updatedAt: iso(t.updated) };
}

/** `perOwner` records of one type for each owner. */
function draw<T>(d: RecordStream<T>, owners: readonly number[], perOwner: (rng: Rng) => number, make: (d: RecordStream<T>, ownerId: number) => T): void {
  for (const ownerId of owners) {
    const n = perOwner(d.rng);
    for (let i = 0; i < n; i++) d.out.push(make(d, ownerId));
  }
}

function prospect(d: RecordStream<SimProspect>, ownerId: number): SimProspect {
  const { rng } = d;
  const firstName = rng.pick(FIRST);
  const lastName = rng.pick(LAST);
  const company = companyName(rng);
  const id = d.id();
  return { id, ownerId, firstName, lastName, emails: [`${slug(firstName)}.${slug(lastName)}${id}@${slug(company)}.example`], title: rng.pick(TITLES), company, ...times(rng) };
}

function account(d: RecordStream<SimAccount>, ownerId: number, namedRate: number): SimAccount {
  const { rng } = d;
  const name = companyName(rng);
  const id = d.id();
  // The id in the domain keeps domains unique, as Outreach's account dedupe would.
  return { id, ownerId, name, domain: `${slug(name)}-${id}.example`, named: rng.chance(namedRate), ...times(rng) };
}

function sequence(d: RecordStream<SimSequence>, ownerId: number): SimSequence {
  const { rng } = d;
  return { id: d.id(), ownerId, name: `${rng.pick(SEQUENCE_NAMES)} ${rng.int(1, 99)}`, enabled: rng.chance(0.7), shareType: rng.pick(SHARE), sequenceType: rng.chance(0.8) ? 'interval' : 'date', ...times(rng) };
}

function opportunity(d: RecordStream<SimOpportunity>, ownerId: number): SimOpportunity {
  const { rng } = d;
  return { id: d.id(), ownerId, name: `${companyName(rng)} - ${rng.chance(0.5) ? 'New business' : 'Renewal'}`, amount: rng.int(5, 400) * 1000, ...times(rng) };
}

function task(d: RecordStream<SimTask>, ownerId: number, incompleteRate: number): SimTask {
  const { rng } = d;
  const t = times(rng);
  const incomplete = rng.chance(incompleteRate);
  const due = Date.parse(t.createdAt) + rng.int(1, 30) * DAY_MS;
  return {
    id: d.id(),
    ownerId,
    action: rng.pick(ACTIONS),
    state: incomplete ? (rng.chance(0.2) ? 'pending' : 'incomplete') : 'complete',
    dueAt: iso(due),
    completedAt: incomplete ? null : t.updatedAt,
    ...t,
  };
}

/**
 * The book of an org's seats (`users`, in id order). Person seats (case duplicates included: an old seat still
 * owns what it owned) own a few of each type, locked ones too (what a leaver leaves behind); service accounts
 * own nothing. Accounts: ~85% named. Tasks: ~60% incomplete. Mailboxes: one per user with `active: true`
 * (service accounts send too), its address the user's. With `bigBook`, that person's seat also owns
 * `count` records of each type (accounts 90% named, tasks 90% incomplete), from streams of their own.
 */
export function buildOutreachBook(users: readonly BookUser[], seed: number, bigBook?: BigBook): OutreachBook {
  const owners = users.filter((u) => u.seedKind === 'person' || u.seedKind === 'case-duplicate').map((u) => u.id);

  const prospects = new RecordStream<SimProspect>(seed, 'outreach-prospects', [100_000, 109_000]);
  draw(prospects, owners, (r) => r.int(0, 30), (d, o) => prospect(d, o));
  const accounts = new RecordStream<SimAccount>(seed, 'outreach-accounts', [5_000, 5_900]);
  draw(accounts, owners, (r) => r.int(0, 8), (d, o) => account(d, o, 0.85));
  const sequences = new RecordStream<SimSequence>(seed, 'outreach-sequences', [200, 290]);
  draw(sequences, owners, (r) => r.int(0, 3), (d, o) => sequence(d, o));
  const opportunities = new RecordStream<SimOpportunity>(seed, 'outreach-opportunities', [7_000, 7_900]);
  draw(opportunities, owners, (r) => r.int(0, 4), (d, o) => opportunity(d, o));
  const tasks = new RecordStream<SimTask>(seed, 'outreach-tasks', [300_000, 309_000]);
  draw(tasks, owners, (r) => r.int(0, 10), (d, o) => task(d, o, 0.6));

  const boxes = new RecordStream<SimMailbox>(seed, 'outreach-mailboxes', [50, 90]);
  for (const u of users) {
    if (!u.active) continue;
    const { rng } = boxes;
    const provider = rng.chance(0.6) ? 'google' : 'microsoft';
    const t = times(rng);
    boxes.out.push({
      id: boxes.id(),
      email: u.email,
      userId: u.id,
      sendDisabled: false,
      syncDisabled: rng.chance(0.05),
      emailProvider: provider === 'google' ? 'gmail' : 'office365',
      providerType: provider === 'google' ? 'gmail_api' : 'exchange_online',
      ...t,
    });
  }

  if (bigBook) {
    const wanted = bigBook.email.trim().toLowerCase();
    const matches = users.filter((u) => u.email.toLowerCase() === wanted);
    const who = matches.find((u) => u.active && !u.locked && u.seedKind === 'person') ?? matches[0];
    if (!who) throw new RangeError(`bigBook: no Outreach user has the email ${bigBook.email}`);
    const n = bigBookCount(bigBook);
    // Streams of their own, ids after the seeded ones: the rest of the book is the same with or without it.
    const more = <T>(label: string, after: RecordStream<T>, make: (d: RecordStream<T>, o: number) => T) => {
      const d = new RecordStream<T>(seed, `outreach-bigbook-${label}`, [after.after, after.after], false);
      draw(d, [who.id], () => n, make);
      after.out.push(...d.out);
    };
    more('prospects', prospects, prospect);
    more('accounts', accounts, (d, o) => account(d, o, 0.9));
    more('sequences', sequences, sequence);
    more('opportunities', opportunities, opportunity);
    more('tasks', tasks, (d, o) => task(d, o, 0.9));
  }

  return {
    prospects: prospects.out,
    accounts: accounts.out,
    sequences: sequences.out,
    opportunities: opportunities.out,
    tasks: tasks.out,
    mailboxes: boxes.out,
  };
}

/** The book of a tenant where nobody owns anything yet. */
export function emptyBook(): OutreachBook {
  return { prospects: [], accounts: [], sequences: [], opportunities: [], tasks: [], mailboxes: [] };
}
