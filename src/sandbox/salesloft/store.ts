import type { Clock } from '../../clock.js';
import { Collection, assignChanged } from '../collection.js';
import { scimLink, type ScimLink } from '../link.js';
import { Rng, deriveSeed } from '../prng.js';
import { isTimeZone } from '../values.js';
import { COUNTRY_BY_ZONE, buildSalesloftOrg, type SalesloftOrg, type SimGroup, type SimPendingInvitation, type SimRole, type SimSalesloftUser } from './seed.js';
import { TEAM_ZONE, renderMicros } from './time.js';

/**
 * SalesLoft's state: both teams' users (one id space), roles, groups, pending invitations. Every change to a
 * user goes through touch(): updated_at moves to a microsecond strictly after the previous write's, and the
 * users collection's version moves, so sorted listings cached per version (30,000-user benches) recompute and
 * a linked SCIM server hears of it.
 */
export class SalesloftStore {
  readonly org: SalesloftOrg;
  /** Both teams, sorted by id (ids only grow). */
  readonly users: Collection<SimSalesloftUser, number>;
  readonly roles: Collection<SimRole, string>;
  readonly groups: Collection<SimGroup, number>;
  readonly pending: Collection<SimPendingInvitation, number>;
  private lastWriteUs = 0;
  private readonly sortedCache = new Map<string, { version: number; list: SimSalesloftUser[] }>();

  constructor(
    private readonly clock: Clock,
    private readonly seed: number,
    userCount: number | undefined,
  ) {
    this.org = buildSalesloftOrg(userCount, seed);
    this.users = new Collection((u) => u.id, this.org.users);
    this.roles = new Collection((r) => r.id, this.org.roles);
    this.groups = new Collection((g) => g.id, this.org.groups);
    this.pending = new Collection((p) => p.id, this.org.pending);
  }

  get teamId(): number {
    return this.org.teamId;
  }

  get meId(): number {
    return this.org.meId;
  }

  /** The token's team. */
  teamUsers(): SimSalesloftUser[] {
    return this.users.all().filter((u) => u.team_id === this.org.teamId);
  }

  /** The team's users sorted by `compare`, cached under `cacheKey` until a user changes. */
  sortedTeamUsers(cacheKey: string, compare: (a: SimSalesloftUser, b: SimSalesloftUser) => number): SimSalesloftUser[] {
    const hit = this.sortedCache.get(cacheKey);
    if (hit && hit.version === this.users.version) return hit.list;
    const list = this.teamUsers().sort(compare);
    this.sortedCache.set(cacheKey, { version: this.users.version, list });
    return list;
  }

  /** A user of the token's team by id; another team's user is as missing as an unknown id (team scope). */
  teamUser(id: number): SimSalesloftUser | undefined {
    const u = this.users.get(id);
    return u && u.team_id === this.org.teamId ? u : undefined;
  }

  /** Applies `changes`; a write that changes nothing leaves updated_at alone. */
  update(u: SimSalesloftUser, changes: Partial<SimSalesloftUser>): void {
    if (assignChanged(u, changes)) this.touch(u);
  }

  /**
   * The token's team as a linked SCIM server's user store. Mapping (the notes): SCIM `active` is the user's
   * `active` ("active: Setting to false deactivates the user"; deprovisioning is "PATCH /scim/v2/Users/{id} with
   * active=false; this deactivates the account but does not delete it"), and "User deletion via SCIM deactivates
   * the user rather than permanently deleting the account", so a SCIM DELETE is active: false here too. The SCIM
   * token, like the API key, covers one team: other teams' users are not in the link. Changes go through
   * touch(), so updated_at moves and the cursor poller (updated_at[gt]) finds them.
   */
  linkUsers(): ScimLink {
    return scimLink<SimSalesloftUser>({
      seed: this.seed,
      users: this.users,
      idOf: (u) => String(u.id),
      seats: () => this.teamUsers(),
      find: (id) => (/^\d+$/.test(id) ? this.teamUser(Number(id)) : undefined),
      view: (u) => ({
        id: String(u.id),
        email: u.email,
        givenName: u.first_name || null,
        familyName: u.last_name || null,
        title: u.title,
        timeZone: u.time_zone,
        active: u.active,
        created: Math.floor(u.created_us / 1000),
        lastModified: Math.floor(u.updated_us / 1000),
        personKey: u.personKey,
        kind: u.seedKind === 'created' ? 'created' : 'person',
      }),
      // Not the REST rule against deactivating the token's own user: the IdP may deprovision anyone.
      update: (u, c) => {
        const changes: Partial<SimSalesloftUser> = {};
        if (c.active !== undefined) changes.active = c.active;
        if (c.email !== undefined) changes.email = c.email;
        if (c.givenName !== undefined) changes.first_name = c.givenName;
        if (c.familyName !== undefined) changes.last_name = c.familyName;
        this.update(u, changes);
      },
      create: (input) => {
        // The notes: "For provisioning, SCIM 2.0 ... is the only supported path for user creation".
        const id = (this.users.all().reduce((max, x) => Math.max(max, x.id), 0) || 30_000) + 1;
        const rng = new Rng(deriveSeed(this.seed, `salesloft-scim-created-${id}`));
        const zone = input.timeZone && isTimeZone(input.timeZone) ? input.timeZone : TEAM_ZONE;
        const us = this.nowMicros();
        // ids only grow, so users stays sorted by id
        return this.users.add({
          id,
          guid: rng.uuid(),
          team_id: this.org.teamId,
          first_name: input.givenName ?? '',
          last_name: input.familyName ?? '',
          email: input.email,
          title: input.title,
          active: input.active,
          role_id: 'User',
          group_id: null,
          time_zone: zone,
          work_country: COUNTRY_BY_ZONE[zone] ?? 'US',
          crm_id: null,
          created_us: us,
          updated_us: us,
          created_at: renderMicros(us),
          updated_at: renderMicros(us),
          personKey: null,
          seedKind: 'created',
        });
      },
      unknown: (id) => `no SalesLoft user ${id} on team ${this.org.teamId}`,
    });
  }

  /** A change to `u`: updated_at moves to now (a fresh microsecond), and the change is announced. */
  touch(u: SimSalesloftUser): void {
    u.updated_us = this.nowMicros();
    u.updated_at = renderMicros(u.updated_us);
    this.users.changed(u);
  }

  /** A write's timestamp: the clock's microsecond, strictly after the previous write's. */
  private nowMicros(): number {
    this.lastWriteUs = Math.max(this.clock.now() * 1000, this.lastWriteUs + 1);
    return this.lastWriteUs;
  }
}
