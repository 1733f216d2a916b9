import { DAY_MS, PEOPLE_AS_OF_MS as AS_OF_MS } from '../people.js';
import { Rng, deriveSeed } from '../prng.js';
import { bigBookCount, companyName, slug, type BigBook } from '../records.js';
import { contactOf, hexId, type ProspectDatabase, type SimContact, type SimTeammate } from './seed.js';

/*
 * What Apollo teammates own beyond contacts (seed.ts seeds those): accounts (`owner_id`), sequences (Apollo's
 * emailer_campaigns; owner `user_id`), tasks (`user_id`, with `creator_id` and `priority`), deals
 * (opportunities, `owner_id`) and the linked mailboxes (email accounts, `user_id`). No HTTP here. Each
 * collection draws from its own stream (`apollo-<type>`), so the team, the prospects and the contacts of a seed
 * are what they were before these existed.
 */

export interface SimApolloAccount {
  id: string;
  name: string;
  domain: string;
  owner_id: string;
  creator_id: string;
  account_stage_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface SimSequence {
  id: string;
  name: string;
  /** The owner (the spec: sequences use `user_id`, served with its alias `object_owner_id`). */
  user_id: string;
  active: boolean;
  archived: boolean;
  num_steps: number;
  created_at: string;
  updated_at: string;
}

export interface SimApolloTask {
  id: string;
  /** The owner. */
  user_id: string;
  creator_id: string;
  status: 'scheduled' | 'completed';
  priority: 'high' | 'medium' | 'low';
  type: string;
  note: string | null;
  contact_id: string | null;
  due_at: string;
  completed_at: string | null;
  created_at: string;
}

export interface SimDeal {
  id: string;
  name: string;
  owner_id: string;
  amount: number;
  is_closed: boolean;
  is_won: boolean;
  stage_name: string;
  closed_date: string | null;
  created_at: string;
}

export interface SimEmailAccount {
  id: string;
  user_id: string;
  email: string;
  type: 'gmail' | 'outlook';
  active: boolean;
  default: boolean;
  revoked_at: string | null;
  inactive_reason: string | null;
  last_synced_at: string | null;
  created_at: string;
}

export interface ApolloBook {
  accounts: SimApolloAccount[];
  sequences: SimSequence[];
  tasks: SimApolloTask[];
  deals: SimDeal[];
  emailAccounts: SimEmailAccount[];
  /** The big book's contacts (the seeded ones live in the store); empty without one. */
  extraContacts: SimContact[];
}

export { DEFAULT_BIG_BOOK, type BigBook } from '../records.js';

const SEQUENCES = ['Outbound - Enterprise', 'Inbound follow-up', 'Webinar invite', 'Renewal', 'Cold intro', 'Closed lost revive'];
const TASK_TYPES = ['call', 'outreach_manual_email', 'linkedin_step_connect', 'action_item'];
const PRIORITIES = ['high', 'medium', 'low'] as const;
const STAGES = ['Qualify', 'Demo', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost'];
const FIRST_MS = Date.parse('2024-01-08T00:00:00Z');

function when(rng: Rng): number {
  return FIRST_MS + rng.int(0, Math.floor((AS_OF_MS - FIRST_MS) / DAY_MS) - 1) * DAY_MS + rng.int(0, DAY_MS - 1);
}

const iso = (ms: number) => new Date(ms).toISOString();

function account(rng: Rng, owner: string, stage: string): SimApolloAccount {
  const name = companyName(rng);
  const id = hexId(rng);
  const created = when(rng);
  return { id, name, domain: `${slug(name)}-${id.slice(-6)}.example`, owner_id: owner, creator_id: owner, account_stage_id: stage, created_at: iso(created), updated_at: iso(Math.min(created + rng.int(0, 60) * DAY_MS, AS_OF_MS - 1)) };
}

function sequence(rng: Rng, owner: string): SimSequence {
  const created = when(rng);
  return { id: hexId(rng), name: `${rng.pick(SEQUENCES)} ${rng.int(1, 99)}`, user_id: owner, active: rng.chance(0.6), archived: rng.chance(0.1), num_steps: rng.int(1, 8), created_at: iso(created), updated_at: iso(Math.min(created + rng.int(0, 60) * DAY_MS, AS_OF_MS - 1)) };
}

function task(rng: Rng, owner: string, creators: readonly string[], contacts: readonly string[], scheduledRate: number): SimApolloTask {
  const created = when(rng);
  const scheduled = rng.chance(scheduledRate);
  return {
    id: hexId(rng),
    user_id: owner,
    // Often the owner; sometimes a manager or a rule made it.
    creator_id: rng.chance(0.7) ? owner : rng.pick(creators),
    status: scheduled ? 'scheduled' : 'completed',
    priority: rng.pick(PRIORITIES),
    type: rng.pick(TASK_TYPES),
    note: rng.chance(0.3) ? 'Follow up on the proposal' : null,
    contact_id: contacts.length && rng.chance(0.7) ? rng.pick(contacts) : null,
    due_at: iso(created + rng.int(1, 30) * DAY_MS),
    completed_at: scheduled ? null : iso(created + rng.int(1, 20) * DAY_MS),
    created_at: iso(created),
  };
}

function deal(rng: Rng, owner: string): SimDeal {
  const created = when(rng);
  const stage = rng.pick(STAGES);
  const closed = stage.startsWith('Closed');
  return {
    id: hexId(rng),
    name: `${companyName(rng)} - ${rng.chance(0.5) ? 'New business' : 'Expansion'}`,
    owner_id: owner,
    amount: rng.int(5, 300) * 1000,
    is_closed: closed,
    is_won: stage === 'Closed Won',
    stage_name: stage,
    closed_date: closed ? iso(created + rng.int(10, 90) * DAY_MS).slice(0, 10) : null,
    created_at: iso(created),
  };
}

function contact(rng: Rng, owner: string, prospects: ProspectDatabase, stage: string): SimContact {
  const p = prospects.at(rng.int(0, Math.max(0, prospects.count - 1)));
  const created = when(rng);
  return contactOf(p, { id: hexId(rng), owner, source: 'csv_import', stage, created, updated: created });
}

/**
 * The book of a team. Owners: every teammate but Billing and Seat Managers (no prospecting seat), deactivated
 * ones included (the notes: their records "remain in Apollo but require manual reassignment"). Each owns 0-2
 * accounts, 0-1 sequences, 0-4 tasks (~60% scheduled) and 0-1 deals; every teammate has one linked mailbox
 * ("remains linked until manually unlinked by an admin"), a few revoked. With `bigBook`, that teammate also
 * owns `count` contacts, accounts, sequences, tasks (90% scheduled) and deals, from streams of their own.
 */
export function buildApolloBook(
  teammates: readonly SimTeammate[],
  seed: number,
  o: { prospects: ProspectDatabase; contacts: readonly SimContact[]; stages: { new: string; working: string }; bigBook?: BigBook },
): ApolloBook {
  const owners = teammates.filter((t) => t.role !== 'Billing and Seat Manager').map((t) => t.id);
  const active = teammates.filter((t) => !t.deleted).map((t) => t.id);
  const contactsOf = new Map<string, string[]>();
  for (const c of o.contacts) contactsOf.set(c.owner_id, [...(contactsOf.get(c.owner_id) ?? []), c.id]);
  const rng = (label: string) => new Rng(deriveSeed(seed, `apollo-${label}`));

  const accounts: SimApolloAccount[] = [];
  const r1 = rng('accounts');
  for (const owner of owners) for (let i = r1.int(0, 2); i > 0; i--) accounts.push(account(r1, owner, r1.chance(0.5) ? o.stages.new : o.stages.working));
  const sequences: SimSequence[] = [];
  const r2 = rng('sequences');
  for (const owner of owners) if (r2.chance(0.45)) sequences.push(sequence(r2, owner));
  const tasks: SimApolloTask[] = [];
  const r3 = rng('tasks');
  for (const owner of owners) for (let i = r3.int(0, 4); i > 0; i--) tasks.push(task(r3, owner, active, contactsOf.get(owner) ?? [], 0.6));
  const deals: SimDeal[] = [];
  const r4 = rng('deals');
  for (const owner of owners) if (r4.chance(0.5)) deals.push(deal(r4, owner));
  const emailAccounts: SimEmailAccount[] = [];
  const r5 = rng('email-accounts');
  for (const t of teammates) {
    const revoked = r5.chance(0.05);
    const created = Math.max(Date.parse(t.created_at), FIRST_MS) + r5.int(0, 10) * DAY_MS;
    emailAccounts.push({
      id: hexId(r5),
      user_id: t.id,
      email: t.email,
      type: r5.chance(0.6) ? 'gmail' : 'outlook',
      active: !revoked,
      default: true,
      revoked_at: revoked ? iso(created + r5.int(30, 300) * DAY_MS) : null,
      inactive_reason: revoked ? 'The mailbox token was revoked' : null,
      last_synced_at: revoked ? null : iso(AS_OF_MS - r5.int(1, 3600) * 1000),
      created_at: iso(created),
    });
  }

  const extraContacts: SimContact[] = [];
  if (o.bigBook) {
    const wanted = o.bigBook.email.trim().toLowerCase();
    const who = teammates.find((t) => t.email.toLowerCase() === wanted);
    if (!who) throw new RangeError(`bigBook: no Apollo teammate has the email ${o.bigBook.email}`);
    const n = bigBookCount(o.bigBook);
    const b = (label: string) => rng(`bigbook-${label}`);
    const [bc, ba, bs, bt, bd] = ['contacts', 'accounts', 'sequences', 'tasks', 'deals'].map(b) as [Rng, Rng, Rng, Rng, Rng];
    for (let i = 0; i < n; i++) {
      extraContacts.push(contact(bc, who.id, o.prospects, o.stages.new));
      accounts.push(account(ba, who.id, o.stages.new));
      sequences.push(sequence(bs, who.id));
      tasks.push(task(bt, who.id, active, [], 0.9));
      deals.push(deal(bd, who.id));
    }
  }
  return { accounts, sequences, tasks, deals, emailAccounts, extraContacts };
}
