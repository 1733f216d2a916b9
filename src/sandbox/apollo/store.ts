import type { Clock } from '../../clock.js';
import { Collection, assignChanged } from '../collection.js';
import { scimLink, type ScimLink } from '../link.js';
import { Rng, deriveSeed } from '../prng.js';
import {
  ProspectDatabase,
  buildApolloTeam,
  contactStages,
  hexId,
  seedContacts,
  type ApolloTeam,
  type ProfileName,
  type SimContact,
  type SimProspect,
  type SimTeammate,
} from './seed.js';

/** The contact fields a create (or a run_dedupe overwrite) sets. */
export interface ContactFields {
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  organization_name: string | null;
}

export interface ApolloStoreOptions {
  seed: number;
  userCount: number;
  prospectCount: number;
  contactCount: number;
  leadLimit: number;
  initialCreditsConsumed: number;
}

/**
 * Apollo's state: the team's teammates and saved contacts, the prospect database, and the lead-credit counters.
 * Teammates are never deleted (Apollo has no delete, only deactivate: `deleted: true`) and carry no updated time.
 */
export class ApolloStore {
  readonly team: ApolloTeam;
  readonly teammates: Collection<SimTeammate>;
  /** Every token belongs to the admin, who may authorise OAuth apps (notes). */
  readonly admin: SimTeammate;
  /** Whose the scoped API key is. */
  readonly scopedOwner: SimTeammate;
  readonly prospects: ProspectDatabase;
  readonly contacts: Collection<SimContact>;
  readonly stages: { new: string; working: string };
  readonly leadLimit: number;
  readonly credits: { initial: number; api: number; directDial: number; byOwner: Map<string, number> };
  /** Continues from the contact seed: new contacts' ids. */
  private readonly contactRng: Rng;

  constructor(
    private readonly clock: Clock,
    private readonly o: ApolloStoreOptions,
  ) {
    this.team = buildApolloTeam(o.userCount, o.seed);
    this.teammates = new Collection((t) => t.id, this.team.teammates);
    const admin = this.team.teammates.find((t) => t.role === 'Admin');
    if (!admin) throw new RangeError('userCount 0 leaves the team without an admin; use at least 1');
    this.admin = admin;
    this.scopedOwner = this.team.teammates.find((t) => t.role === 'User' && !t.deleted) ?? admin;
    this.prospects = new ProspectDatabase(o.seed, o.prospectCount);
    this.stages = contactStages(o.seed);
    this.contactRng = new Rng(deriveSeed(o.seed, 'apollo-contacts'));
    this.contacts = new Collection((c) => c.id, seedContacts(this.contactRng, o.contactCount, this.team.teammates, this.prospects, this.stages));
    this.leadLimit = o.leadLimit;
    this.credits = { initial: o.initialCreditsConsumed, api: 0, directDial: 0, byOwner: new Map<string, number>() };
  }

  /** Deactivates or reactivates a teammate (Settings > Users in the Apollo UI). */
  setDeleted(t: SimTeammate, deleted: boolean): void {
    if (assignChanged(t, { deleted })) this.teammates.changed(t);
  }

  createContact(fields: ContactFields, email: string | null, owner: SimTeammate): SimContact {
    const at = new Date(this.clock.now()).toISOString();
    return this.contacts.add({
      id: hexId(this.contactRng),
      ...fields,
      name: [fields.first_name, fields.last_name].filter(Boolean).join(' '),
      email,
      owner_id: owner.id,
      creator_id: owner.id,
      person_id: null,
      source: 'api',
      contact_stage_id: this.stages.new,
      email_status: email ? 'verified' : null,
      created_at: at,
      updated_at: at,
    });
  }

  /** run_dedupe on a match (spec): the existing contact is overwritten in place with the values sent. */
  overwriteContact(existing: SimContact, fields: ContactFields): void {
    for (const [k, v] of Object.entries(fields)) if (v !== null) (existing as unknown as Record<string, unknown>)[k] = v;
    existing.name = [existing.first_name, existing.last_name].filter(Boolean).join(' ');
    existing.updated_at = new Date(this.clock.now()).toISOString();
    this.contacts.changed(existing);
  }

  /**
   * Charges an enrichment of `p` to `owner`: 1 credit per matched person, +1 when a personal email is revealed
   * (the spec says only "potentially consumes credits"; we charge one so the worst case is exercised), +8 for a
   * mobile phone. No match costs nothing. Returns the cost.
   */
  chargeEnrichment(owner: SimTeammate, p: SimProspect | undefined, reveal: { personal: boolean; phone: boolean }): number {
    if (!p) return 0;
    let c = 1;
    if (reveal.personal && p.personal_email) c += 1;
    if (reveal.phone && p.mobile_phone) {
      c += 8;
      this.credits.directDial += 1;
    }
    this.credits.api += c;
    this.credits.byOwner.set(owner.id, (this.credits.byOwner.get(owner.id) ?? 0) + c);
    return c;
  }

  /**
   * The teammates as a linked SCIM server's user store. Mapping (the notes): SCIM `active` is the inverse of the
   * teammate's `deleted`. Apollo "does not offer a permanent user deletion option ... Admins can only deactivate
   * users", deactivated teammates stay in the list with deleted: true, and "Apollo provisions and deprovisions on
   * IdP assignment changes": so SCIM active false (PATCH, PUT or DELETE) is deleted: true here, and SCIM active
   * true reactivates. Teammates have no updated time to move. In-place email changes stay refused by the SCIM
   * simulator ("requires unassigning and re-assigning the user in the IdP").
   */
  linkUsers(): ScimLink {
    return scimLink<SimTeammate>({
      seed: this.o.seed,
      users: this.teammates,
      idOf: (t) => t.id,
      find: (id) => this.teammates.get(id),
      view: (t) => ({
        id: t.id,
        email: t.email,
        givenName: t.first_name || null,
        familyName: t.last_name || null,
        title: t.title,
        timeZone: null,
        active: !t.deleted,
        created: Date.parse(t.created_at),
        lastModified: null,
        personKey: t.personKey,
        kind: t.personKey ? 'person' : 'created',
      }),
      update: (t, c) => {
        const names: Partial<SimTeammate> = {};
        if (c.email !== undefined) names.email = c.email;
        if (c.givenName !== undefined) names.first_name = c.givenName;
        if (c.familyName !== undefined) names.last_name = c.familyName;
        let dirty = assignChanged(t, names);
        if (dirty) t.name = [t.first_name, t.last_name].filter(Boolean).join(' ');
        if (c.active !== undefined && assignChanged(t, { deleted: !c.active })) dirty = true;
        if (dirty) this.teammates.changed(t);
      },
      create: (input) => {
        // A seat assigned in the IdP: a standard user (the permission profile is chosen in Apollo).
        const role: ProfileName = 'User';
        return this.teammates.add({
          id: hexId(new Rng(deriveSeed(this.o.seed, `apollo-scim-created-${this.teammates.size}-${input.email.toLowerCase()}`))),
          team_id: this.team.team_id,
          first_name: input.givenName,
          last_name: input.familyName,
          name: [input.givenName, input.familyName].filter(Boolean).join(' '),
          title: input.title,
          email: input.email,
          created_at: new Date(this.clock.now()).toISOString(),
          deleted: !input.active,
          permission_set_id: this.team.permissionSets[role],
          role,
          personKey: null,
        });
      },
      unknown: (id) => `no Apollo teammate ${id}`,
    });
  }
}
