import type { Collection } from './collection.js';

/*
 * The contract between a vendor's REST simulator and the SCIM server linked to it (one user store behind both
 * APIs, as at the vendor). The REST side implements it over its store (outreach/, salesloft/, apollo/ store.ts,
 * each documenting its vendor's mapping of `active`); the SCIM side (scim/store.ts) reads and writes through
 * it. Neither imports the other.
 */

/**
 * A REST simulator's seat as a linked SCIM server sees it: the fields both APIs share, with `active` already
 * mapped to SCIM's meaning by the vendor's rule (see each REST simulator's `linkUsers()`).
 */
export interface ScimLinkUser {
  /** The REST user's id as a string; the linked SCIM server serves it as the SCIM `id` too. */
  id: string;
  /** The login email: SCIM `userName` and primary work email. */
  email: string;
  givenName: string | null;
  familyName: string | null;
  title: string | null;
  /** IANA zone, or null when the REST API keeps none (Apollo). */
  timeZone: string | null;
  /** SCIM `active`, read from the REST record now. */
  active: boolean;
  /** When the REST seat was created (ms since the epoch). */
  created: number;
  /** When the REST record last changed (ms), or null when the REST API keeps no such time (Apollo). */
  lastModified: number | null;
  /** The generated person behind the seat (people.ts key), or null. */
  personKey: string | null;
  /** How the REST seed (or a write) made the seat; `duplicate` is Outreach's older case-variant seat of a person. */
  kind: 'person' | 'duplicate' | 'service' | 'created';
}

/** Shared fields a SCIM write changes on the REST record; names are only ever set, never cleared. */
export interface ScimLinkChanges {
  active?: boolean;
  email?: string;
  givenName?: string;
  familyName?: string;
}

export interface ScimLinkCreate {
  email: string;
  givenName: string | null;
  familyName: string | null;
  title: string | null;
  timeZone: string | null;
  active: boolean;
  externalId: string | null;
}

/**
 * Lets a SCIM simulator use a REST simulator's users as its user store for the fields both APIs share: the
 * seat set, userName/email, given and family name, and `active`. Everything else a SCIM server keeps (ids
 * aside: the REST id is served as the SCIM id) stays in the SCIM simulator, keyed by the REST id: externalId,
 * the enterprise extension, groups, meta, SalesLoft's invitation state. Made by `outreach.linkUsers()`,
 * `salesloft.linkUsers()` and `apollo.linkUsers()`; ZoomInfo's REST API has no seats, so it has none.
 */
export interface ScimLink {
  /** The seed of the REST simulator's people: SCIM-only data (externalId, department, groups) derives from the same person. */
  seed: number;
  /** Every seat the SCIM tenant covers, in the REST simulator's (creation) order. */
  list(): ScimLinkUser[];
  /** One seat, read now; undefined for an unknown id (or one outside the tenant, e.g. another SalesLoft team). */
  get(id: string): ScimLinkUser | undefined;
  /** Applies a SCIM write to the REST record; the REST record's updated time moves when something changed. */
  update(id: string, changes: ScimLinkChanges): void;
  /** SCIM POST: creates the REST seat and returns it. */
  create(input: ScimLinkCreate): ScimLinkUser;
  /** `listener(id)` after any change or creation of a seat, whoever made it (REST, UI, this link); returns an unsubscribe. */
  onChange(listener: (id: string) => void): () => void;
}

/** What a REST store supplies to expose its user collection as a ScimLink. */
export interface ScimLinkSource<T> {
  seed: number;
  /** The REST users; every change and creation in it is announced to the SCIM side. */
  users: Collection<T, unknown>;
  idOf(user: T): string;
  /** The seats of the SCIM tenant, in order (default: the whole collection). */
  seats?(): readonly T[];
  /** A seat of the tenant by SCIM id, or undefined. */
  find(id: string): T | undefined;
  view(user: T): ScimLinkUser;
  /** Applies a SCIM write to a found seat (announcing it through the collection when something changed). */
  update(user: T, changes: ScimLinkChanges): void;
  create(input: ScimLinkCreate): T;
  /** The RangeError message for an update of an unknown id. */
  unknown(id: string): string;
}

export function scimLink<T>(src: ScimLinkSource<T>): ScimLink {
  const seats = src.seats ?? (() => src.users.all());
  return {
    seed: src.seed,
    list: () => seats().map(src.view),
    get: (id) => {
      const u = src.find(id);
      return u ? src.view(u) : undefined;
    },
    update(id, changes) {
      const u = src.find(id);
      if (!u) throw new RangeError(src.unknown(id));
      src.update(u, changes);
    },
    create: (input) => src.view(src.create(input)),
    onChange: (listener) => src.users.onChange((u) => listener(src.idOf(u))),
  };
}
