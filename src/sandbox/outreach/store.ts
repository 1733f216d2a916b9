import type { Clock } from '../../clock.js';
import { Collection, assignChanged } from '../collection.js';
import { scimLink, type ScimLink } from '../link.js';
import { iso } from '../values.js';
import { buildOutreachOrg, type SimProfile, type SimRole, type SimUser } from './seed.js';

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

  constructor(
    private readonly clock: Clock,
    private readonly seed: number,
    userCount: number,
  ) {
    const org = buildOutreachOrg(userCount, seed);
    this.users = new Collection((u) => u.id, org.users);
    this.roles = new Collection((r) => r.id, org.roles);
    this.profiles = new Collection((p) => p.id, org.profiles);
  }

  createUser(fields: NewUser): SimUser {
    const at = iso(this.clock.now());
    const { roleId, profileId, ...rest } = fields;
    return this.users.add({
      id: (this.users.last()?.id ?? 1000) + 1,
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
   * The users as a linked SCIM server's user store. Mapping (the notes): SCIM `active` is the user's `active`:
   * "active ... Deprovisioning sets active=false", and SCIM deprovisioning "sets user to inactive"; a SCIM DELETE
   * (which hides the user from SCIM) leaves the data here with active false ("hard delete via SCIM DELETE may not
   * permanently remove user data"). `locked` is independent: it is the REST deactivation ("deactivation is a
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
    });
  }
}
