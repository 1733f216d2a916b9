import type { Clock } from '../../clock.js';
import { Collection, assignChanged } from '../collection.js';
import { scimLink, type ScimLink } from '../link.js';
import { iso } from '../values.js';
import { Rng, deriveSeed } from '../prng.js';
import {
  buildOutreachBook,
  emptyBook,
  type BigBook,
  type BookUser,
  type OwnedRecordBase,
  type SimAccount,
  type SimMailbox,
  type SimOpportunity,
  type SimProspect,
  type SimSequence,
  type SimTask,
} from './book.js';
import { buildOutreachOrg, type SimProfile, type SimRole, type SimUser } from './seed.js';

/** The record types a user owns, each a collection by id. */
export interface OutreachRecords {
  prospects: Collection<SimProspect, number>;
  accounts: Collection<SimAccount, number>;
  sequences: Collection<SimSequence, number>;
  opportunities: Collection<SimOpportunity, number>;
  tasks: Collection<SimTask, number>;
  mailboxes: Collection<SimMailbox, number>;
}

/** The record types a batch action hands over. */
export type BatchTarget = 'prospects' | 'accounts';

/**
 * A batch action (the spec's batch resource): the records it targets, and how it went. `state`: `pending`
 * (waiting for POST /batches/{id}/actions/confirm), `finished`, or `canceled`.
 */
export interface SimBatch {
  id: number;
  /** e.g. `prospectsAssignOwner`. */
  action: string;
  target: BatchTarget;
  ownerId: number;
  /** The targeted ids, each once, in the order sent. */
  ids: number[];
  /** Of those, the ones that do not exist (the batch's failures). */
  missing: number[];
  state: 'pending' | 'finished' | 'canceled';
  /** Made without `actionParams[skipConfirmation]=true`: it waits for a confirm with the right count. */
  confirmationRequired: boolean;
  creatorId: number | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  confirmedAt: string | null;
  finishedAt: string | null;
  canceledAt: string | null;
}

/** What a new user gets from its creator (REST POST or SCIM); the store stamps id and times. */
export type NewUser = Omit<SimUser, 'id' | 'createdAt' | 'updatedAt' | 'currentSignInAt' | 'lastSignInAt' | 'personKey' | 'seedKind'>;

/**
 * Outreach's state: roles, profiles and users (sorted by id; ids only grow). A user changes through
 * update(): updatedAt moves only when something changed (Rails semantics, so change pollers on
 * filter[updatedAt] see no phantom updates), and a linked SCIM server hears of it.
 */
export class OutreachStore {
  readonly users: Collection<SimUser, number>;
  readonly roles: Collection<SimRole, string>;
  readonly profiles: Collection<SimProfile, string>;
  readonly batches = new Collection<SimBatch, number>((b) => b.id);
  /** The seats as the org was seeded: what the records' seed draws from, whatever changed since. */
  private readonly bookUsers: BookUser[];
  private recordsCache: OutreachRecords | undefined;
  private nextBatchId: number;
  /** The highest user id given so far. */
  private maxUserId = 0;

  constructor(
    private readonly clock: Clock,
    private readonly seed: number,
    userCount: number,
    /** null: no books at all (see OutreachSimOptions.books). */
    private readonly bigBook?: BigBook | null,
  ) {
    const org = buildOutreachOrg(userCount, seed);
    this.users = new Collection((u) => u.id, org.users);
    this.roles = new Collection((r) => r.id, org.roles);
    this.profiles = new Collection((p) => p.id, org.profiles);
    this.bookUsers = org.users.map(({ id, email, active, locked, seedKind }) => ({ id, email, active, locked, seedKind }));
    this.nextBatchId = new Rng(deriveSeed(seed, 'outreach-batches')).int(4_000, 4_900);
    // A bigBook naming nobody fails at start, not at the first request.
    if (bigBook) void this.records;
  }

  /**
   * What the users own. Built on first use: a benchmark of 10,000 seats that never asks for records does not
   * pay for them, and the seed is the same whenever it is built (it draws from the seats as seeded).
   */
  get records(): OutreachRecords {
    if (!this.recordsCache) {
      const book = this.bigBook === null ? emptyBook() : buildOutreachBook(this.bookUsers, this.seed, this.bigBook);
      const byId = <T extends { id: number }>(items: T[]) => new Collection<T, number>((r) => r.id, items);
      this.recordsCache = {
        prospects: byId(book.prospects),
        accounts: byId(book.accounts),
        sequences: byId(book.sequences),
        opportunities: byId(book.opportunities),
        tasks: byId(book.tasks),
        mailboxes: byId(book.mailboxes),
      };
    }
    return this.recordsCache;
  }

  /** Licensed seats in use: every user Outreach still has, locked and deprovisioned ones included (the notes). */
  seats(): number {
    return this.users.size;
  }

  /**
   * Hands `record` to `ownerId` (null: unowned); updatedAt moves only when the owner changed. Returns whether
   * it did.
   */
  setOwner<T extends OwnedRecordBase>(collection: Collection<T, number>, record: T, ownerId: number | null): boolean {
    if (record.ownerId === ownerId) return false;
    record.ownerId = ownerId;
    record.updatedAt = iso(this.clock.now());
    collection.changed(record);
    return true;
  }

  /** Why user `id` cannot be handed records (it must exist, unlocked and active), or undefined when it can. */
  ownerProblem(id: number): string | undefined {
    const u = this.users.get(id);
    if (!u) return `user ${id} does not exist`;
    if (u.locked) return `user ${id} cannot own records: the user is locked`;
    if (!u.active) return `user ${id} cannot own records: the user is deprovisioned (active: false)`;
    return undefined;
  }

  createBatch(fields: Pick<SimBatch, 'action' | 'target' | 'ownerId' | 'ids' | 'missing' | 'creatorId' | 'confirmationRequired'>): SimBatch {
    const at = iso(this.clock.now());
    const id = this.nextBatchId;
    this.nextBatchId += 1;
    return this.batches.add({ id, ...fields, state: 'pending', createdAt: at, updatedAt: at, startedAt: null, confirmedAt: null, finishedAt: null, canceledAt: null });
  }

  /** Runs a batch: every target that exists goes to the batch's owner; the missing ones are its failures. */
  runBatch(b: SimBatch): void {
    const at = iso(this.clock.now());
    const hand = <T extends OwnedRecordBase>(collection: Collection<T, number>) => {
      for (const id of b.ids) {
        const r = collection.get(id);
        if (r) this.setOwner(collection, r, b.ownerId);
      }
    };
    if (b.target === 'prospects') hand(this.records.prospects);
    else hand(this.records.accounts);
    b.state = 'finished';
    b.startedAt ??= at;
    b.finishedAt = at;
    b.updatedAt = at;
    this.batches.changed(b);
  }

  createUser(fields: NewUser): SimUser {
    const at = iso(this.clock.now());
    const { roleId, profileId, ...rest } = fields;
    // Ids only grow: a removed user's id is never given again.
    this.maxUserId = Math.max(this.maxUserId, this.users.last()?.id ?? 1000);
    this.maxUserId += 1;
    return this.users.add({
      id: this.maxUserId,
      ...rest,
      createdAt: at,
      updatedAt: at,
      currentSignInAt: null,
      lastSignInAt: null,
      roleId,
      profileId,
      personKey: null,
      seedKind: 'created',
    });
  }

  /** Applies `changes`; true when something changed (then updatedAt is now). */
  update(u: SimUser, changes: Partial<SimUser>): boolean {
    if (!assignChanged(u, changes)) return false;
    u.updatedAt = iso(this.clock.now());
    this.users.changed(u);
    return true;
  }

  /**
   * Removes a user: what a SCIM DELETE does in Outreach (the notes: locked users hold a seat "until fully
   * removed by Outreach support or via SCIM DELETE on Enterprise"). REST no longer knows the user (404) and the
   * seat is free; what the user owned stays, still pointing at the id ("may not permanently remove user data").
   */
  removeUser(u: SimUser): void {
    this.users.delete(u);
  }

  /**
   * The users as a linked SCIM server's user store. Mapping (the notes): SCIM `active` is the user's `active`:
   * "active ... Deprovisioning sets active=false", and SCIM deprovisioning "sets user to inactive". A SCIM DELETE
   * removes the user here too (`remove`, see removeUser): it is the one API that frees a locked user's seat
   * (the notes); the records the user owned stay ("may not permanently remove user data"). `locked` is independent: it is the REST deactivation ("deactivation is a
   * PATCH setting locked: true"), which SCIM does not see, so a locked user is still active: true in SCIM.
   */
  linkUsers(): ScimLink {
    return scimLink<SimUser>({
      seed: this.seed,
      users: this.users,
      idOf: (u) => String(u.id),
      find: (id) => (/^\d+$/.test(id) ? this.users.get(Number(id)) : undefined),
      view: (u) => ({
        id: String(u.id),
        email: u.email,
        givenName: u.firstName || null,
        familyName: u.lastName || null,
        title: u.title,
        timeZone: u.timeZone,
        active: u.active,
        created: Date.parse(u.createdAt),
        lastModified: Date.parse(u.updatedAt),
        personKey: u.personKey,
        kind: u.seedKind === 'case-duplicate' ? 'duplicate' : u.seedKind,
      }),
      update: (u, c) => {
        const changes: Partial<SimUser> = {};
        if (c.active !== undefined) changes.active = c.active;
        if (c.email !== undefined && u.email !== c.email) {
          // SCIM may change the login email, which REST cannot ("Cannot be updated via the API", the spec).
          if (u.username.toLowerCase() === u.email.toLowerCase()) changes.username = c.email;
          changes.email = c.email;
        }
        if (c.givenName !== undefined) changes.firstName = c.givenName;
        if (c.familyName !== undefined) changes.lastName = c.familyName;
        this.update(u, changes);
      },
      create: (input) =>
        this.createUser({
          firstName: input.givenName ?? '',
          lastName: input.familyName ?? '',
          email: input.email,
          username: input.email,
          locked: false,
          active: input.active,
          title: input.title,
          phoneNumber: null,
          mobilePhoneNumber: null,
          timeZone: input.timeZone,
          locale: null,
          // The notes: externalSource is "Set automatically when provisioned via SCIM"; externalId is "Used for
          // SCIM correlation".
          externalId: input.externalId,
          externalSource: 'scim',
          // The notes: "group push maps to Outreach Teams, not to Roles or Profiles".
          roleId: null,
          profileId: null,
        }),
      unknown: (id) => `no Outreach user ${id}`,
      remove: (u) => this.removeUser(u),
    });
  }
}
