import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../clock.js';
import {
  FaultQueue,
  HttpInputError,
  closeServer,
  newSecret,
  parseAccept,
  parseBearer,
  parseMediaType,
  readBody,
  readJsonBody,
  safeEqual,
  sendJson,
  serveLoopback,
  type ServeOptions,
  type FaultOptions,
} from './http-util.js';
import { PEOPLE_AS_OF, PEOPLE_EMAIL_DOMAIN, generatePeople, type Person } from './people.js';
import { Rng, deriveSeed } from './prng.js';

/*
 * Embedded SCIM 2.0 server (RFC 7643 core schema, RFC 7644 protocol), one instance per vendor, each with
 * the quirks its vendor note documents (/work/shared/vendor-docs/<vendor>-api.txt, "the notes"). Written to
 * satisfy Okta's SCIM 2.0 spec test (shared/conformance/okta-scim) and what Okta and Entra ID actually send
 * (op names in any case, `replace` without a path, `remove` with a value, `members[value eq "..."]`).
 *
 * Choices where the RFCs leave room, or where a vendor deviates, summarised (the code repeats each):
 *
 * - Every endpoint, discovery ones included, needs the bearer token (the notes: one long-lived SCIM token
 *   per tenant). 401 comes with `WWW-Authenticate: Bearer`.
 * - Attribute names are case-insensitive on input (RFC 7643 2.1); stored and served in schema case.
 *   Unknown attributes in POST/PUT bodies and in path-less PATCH values are ignored (IdPs send app-specific
 *   extras such as Okta's `password` and `groups: []`); an unknown PATCH `path` is 400 invalidPath.
 * - readOnly attributes (`id`, `meta`, `groups`, SalesLoft's `invitationStatus`) are ignored in POST/PUT
 *   bodies and path-less PATCH values (Okta sends `id` in group PATCHes); an explicit PATCH path to one is
 *   400 mutability.
 * - `active` defaults to true on create; a PUT without `active` keeps the current value (an unassigned
 *   `active` would leave clients unable to tell a seat's state).
 * - Filters: the whole RFC 7644 3.4.2.2 grammar (eq ne co sw ew gt ge lt le pr, and/or/not, parentheses,
 *   `emails[type eq "work"]` value paths) over every schema attribute, case-insensitive unless the schema
 *   says caseExact (id, externalId, member values). Anything else is 400 invalidFilter with the position.
 * - `sortBy` is ignored (ServiceProviderConfig says sort unsupported); results come in creation order,
 *   the same order for any startIndex/count, as Okta requires.
 * - ETags (opt-in, `etag: true`): weak `W/"<n>"`, `meta.version`, If-Match on PUT/PATCH/DELETE (412 on a
 *   mismatch), If-None-Match on GET (304). With ETags off, If-Match is ignored as RFC 7644 3.14 allows.
 * - PATCH answers 200 with the resource by default (`patchStatus: 204` for the bodiless variant RFC 7644
 *   3.5.2 also allows); every vendor here defaults to 200 because none documents otherwise.
 * - Group `displayName` is unique (case-insensitive) within a tenant: Okta group push finds groups by
 *   `displayName eq`, and Outreach team names are unique.
 * - Linked (`link`, see ScimLink): the vendor's REST simulator is the user store for the seat set, userName,
 *   given/family name and `active`, as at a real vendor with one store behind both APIs; each REST simulator's
 *   linkUsers() documents its vendor's mapping of `active`. The REST id is the SCIM id (the notes' examples:
 *   SalesLoft's SCIM ids are its user ids). Unlinked (the default, and ZoomInfo in the sandbox), the simulator
 *   keeps its own seeded store as before.
 */

export type ScimVendor = 'outreach' | 'salesloft' | 'apollo' | 'zoominfo';
export const SCIM_VENDORS: readonly ScimVendor[] = ['outreach', 'salesloft', 'apollo', 'zoominfo'];

export const SCIM_MEDIA_TYPE = 'application/scim+json';
export const SCIM_SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  /** SalesLoft invitation state; a colleague's SCIM client maps `pending` from exactly this. */
  salesloftUser: 'urn:ietf:params:scim:schemas:extension:salesloft:2.0:User',
  /** Non-standard ServiceProviderConfig extension saying whether /Groups exists (Apollo: no). */
  sandboxConfig: 'urn:ietf:params:scim:schemas:extension:sandbox:2.0:ServiceProviderConfig',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

const DEFAULT_USER_COUNT = 300; // the Outreach simulator's default: same seed, same people
const DEFAULT_MAX_RESULTS = 100;
const DAY_MS = 86_400_000;
const AS_OF_MS = Date.parse(`${PEOPLE_AS_OF}T00:00:00Z`);

// ---------------------------------------------------------------------------------------------------------
// Vendor profiles

/** How a vendor's SCIM endpoint deviates from plain RFC 7644; exported so clients and tests can branch on it. */
export interface ScimVendorBehaviour {
  label: string;
  /** Path of the SCIM base under the simulator's origin. */
  basePath: string;
  /** Whether /Groups exists. */
  groups: boolean;
  /** What DELETE /Users/{id} does: `hide` = 204 and 404 afterwards, data kept; `deactivate` = active false, still served. */
  userDelete: 'hide' | 'deactivate';
  /** Whether userName / the primary email can change in place. */
  emailChangeInPlace: boolean;
  /** Whether a SCIM-created user stays pending until an invitation is accepted. */
  invitations: boolean;
  /** Default PATCH success status. */
  patchStatus: 200 | 204;
  /** What a group is in the vendor's own UI. */
  groupsAre: string | null;
  documentationUri: string;
}

export const SCIM_VENDOR_BEHAVIOUR: Readonly<Record<ScimVendor, ScimVendorBehaviour>> = {
  outreach: {
    label: 'Outreach',
    // The notes: "Endpoint: https://api.outreach.io/scim/v2".
    basePath: '/scim/v2',
    groups: true,
    // The notes: "Deprovisioning sets user to inactive; hard delete via SCIM DELETE may not permanently remove
    // user data". So DELETE answers 204 and the user is gone from SCIM (RFC 7644 3.6), but the seat's data
    // stays behind, inactive (users() reports it with deleted: true).
    userDelete: 'hide',
    emailChangeInPlace: true,
    invitations: false,
    patchStatus: 200,
    // The notes: "Group push maps to Outreach Teams, not Roles or Profiles". A SCIM group is a team; its
    // displayName is the team name, its members the team's users.
    groupsAre: 'Outreach Teams',
    documentationUri: 'https://developers.outreach.io/api/scim/',
  },
  salesloft: {
    label: 'SalesLoft',
    // The notes: "Endpoint: https://api.salesloft.com/scim/v2".
    basePath: '/scim/v2',
    groups: true,
    // The notes: "User deletion via SCIM deactivates the user rather than permanently deleting the account."
    userDelete: 'deactivate',
    emailChangeInPlace: true,
    // The notes: "The user receives an invitation email even when provisioned via SCIM; they must accept it to
    // activate their account. SCIM does not bypass the email verification step."
    invitations: true,
    patchStatus: 200,
    groupsAre: 'SalesLoft groups',
    documentationUri: 'https://developers.salesloft.com/docs/platform/scim/',
  },
  apollo: {
    label: 'Apollo',
    // The notes: "Tenant URL is generated within Apollo ... Exact base URL is provider-specific and displayed
    // in-app." The sandbox uses the plain /scim/v2; clients must take the base URL from configuration.
    basePath: '/scim/v2',
    // The notes: "Apollo supports users but not user groups during SSO/SCIM logins."
    groups: false,
    // The notes (admin console): "Can delete users: No ... Admins can only deactivate users." A SCIM DELETE
    // therefore deactivates, like unassignment in the IdP.
    userDelete: 'deactivate',
    // The notes: "Changing a user's primary email address requires unassigning and re-assigning the user in
    // the IdP; in-place email updates are not supported."
    emailChangeInPlace: false,
    invitations: false,
    patchStatus: 200,
    groupsAre: null,
    documentationUri: 'https://knowledge.apollo.io/hc/en-us/articles/SCIM',
  },
  zoominfo: {
    label: 'ZoomInfo',
    // The notes: "SCIM base URL and bearer token are provided by ZoomInfo account team, not self-serve."
    // Modelled as a tenant-prefixed base, so a client that hard-codes /scim/v2 fails here.
    basePath: '/tenants/acme/scim/v2',
    // The notes: supported operations include "Assign user via group".
    groups: true,
    // The notes: "The IdP sends a SCIM PATCH or DELETE request to ZoomInfo's SCIM endpoint to deactivate the
    // user" and "Verify ... the user's status is set to inactive/deprovisioned": DELETE deactivates.
    userDelete: 'deactivate',
    emailChangeInPlace: true,
    invitations: false,
    patchStatus: 200,
    groupsAre: 'ZoomInfo groups',
    documentationUri: 'https://www.zoominfo.com/about/scim',
  },
};

const APOLLO_NO_GROUPS = 'Apollo supports users but not user groups (SCIM /Groups is not available); assign users individually in the IdP';

interface GroupDef {
  name: string;
  match: (p: Person) => boolean;
}

const MANAGER_TITLES = new Set([
  'Sales Manager', 'SDR Manager', 'Regional Sales Director', 'Director of Customer Success',
  'Director of Solutions Engineering', 'Sales Operations Manager',
]);
const EXECUTIVE_TITLES = new Set(['VP of Sales', 'Chief Revenue Officer', 'VP of Marketing']);
const EAST_ZONES = new Set(['America/New_York', 'America/Chicago', 'Europe/London', 'Europe/Berlin']);
const isLead = (p: Person) => MANAGER_TITLES.has(p.title) || EXECUTIVE_TITLES.has(p.title);
const isEnterpriseSeller = (p: Person) => p.department === 'Sales' && /Enterprise|Director/.test(p.title);

interface SeedProfile {
  /** When the company bought the tool: nobody who left before holds a seat. */
  adoptedOn: string;
  /** When the IdP started provisioning it: seats since then all carry an externalId. */
  scimSince: string;
  /** Chance that a person in a department holds a seat. */
  seatRate: Record<string, number>;
  idStyle: 'numeric' | 'objectid' | 'uuid';
  firstId: [number, number];
  groups: GroupDef[];
  service: { local: string; first: string; last: string; title: string; group: string | null };
}

const SEED_PROFILES: Record<ScimVendor, SeedProfile> = {
  outreach: {
    adoptedOn: '2016-03-01',
    scimSince: '2024-03-04', // the Outreach REST simulator's SCIM cut-over day
    seatRate: {
      Sales: 0.95, 'Sales Development': 0.97, 'Customer Success': 0.85, 'Solutions Engineering': 0.6,
      'Revenue Operations': 0.9, Executive: 0.8, Marketing: 0.15, Finance: 0.05,
    },
    idStyle: 'numeric',
    firstId: [1000, 1800],
    // Outreach Teams.
    groups: [
      { name: 'Enterprise Sales', match: (p) => isEnterpriseSeller(p) },
      { name: 'Commercial Sales - East', match: (p) => p.department === 'Sales' && !isEnterpriseSeller(p) && EAST_ZONES.has(p.timeZone) },
      { name: 'Commercial Sales - West', match: (p) => p.department === 'Sales' && !isEnterpriseSeller(p) && !EAST_ZONES.has(p.timeZone) },
      { name: 'SDR Team', match: (p) => p.department === 'Sales Development' },
      { name: 'Customer Success', match: (p) => p.department === 'Customer Success' },
      { name: 'Sales Leadership', match: isLead },
      { name: 'Revenue Operations', match: (p) => p.department === 'Revenue Operations' },
      { name: 'EMEA Expansion', match: () => false }, // a team nobody was pushed to yet
    ],
    service: { local: 'integration.bot', first: 'Integration', last: 'Bot', title: 'Integration Service Account', group: 'Revenue Operations' },
  },
  salesloft: {
    adoptedOn: '2022-02-07',
    scimSince: '2023-05-15',
    seatRate: {
      Sales: 0.35, 'Sales Development': 0.55, 'Customer Success': 0.3, 'Solutions Engineering': 0.15,
      'Revenue Operations': 0.5, Executive: 0.4, Marketing: 0.05, Finance: 0,
    },
    idStyle: 'numeric',
    firstId: [40_000, 49_000],
    groups: [
      { name: 'SalesLoft - SDRs', match: (p) => p.department === 'Sales Development' },
      { name: 'SalesLoft - Account Executives', match: (p) => p.department === 'Sales' },
      { name: 'SalesLoft - Managers', match: isLead },
      { name: 'SalesLoft - Admins', match: (p) => p.department === 'Revenue Operations' },
    ],
    service: { local: 'salesloft.admin', first: 'SalesLoft', last: 'Admin', title: 'Shared Admin Account', group: 'SalesLoft - Admins' },
  },
  apollo: {
    adoptedOn: '2023-06-05',
    scimSince: '2024-09-02',
    seatRate: {
      Sales: 0.25, 'Sales Development': 0.7, 'Customer Success': 0.05, 'Solutions Engineering': 0,
      'Revenue Operations': 0.5, Executive: 0.2, Marketing: 0.4, Finance: 0,
    },
    idStyle: 'objectid',
    firstId: [0, 0],
    groups: [],
    service: { local: 'prospecting.shared', first: 'Prospecting', last: 'Shared', title: 'Shared Prospecting Seat', group: null },
  },
  zoominfo: {
    adoptedOn: '2021-09-13',
    scimSince: '2023-11-06',
    seatRate: {
      Sales: 0.15, 'Sales Development': 0.3, 'Customer Success': 0.05, 'Solutions Engineering': 0.05,
      'Revenue Operations': 0.4, Executive: 0.25, Marketing: 0.3, Finance: 0.05,
    },
    idStyle: 'uuid',
    firstId: [0, 0],
    groups: [
      { name: 'ZoomInfo SalesOS', match: (p) => ['Sales', 'Sales Development', 'Customer Success', 'Solutions Engineering', 'Executive'].includes(p.department) },
      { name: 'ZoomInfo MarketingOS', match: (p) => p.department === 'Marketing' },
      { name: 'ZoomInfo Admins', match: (p) => p.department === 'Revenue Operations' },
    ],
    service: { local: 'zoominfo.research', first: 'ZoomInfo', last: 'Research', title: 'Shared Research Seat', group: 'ZoomInfo SalesOS' },
  },
};

// ---------------------------------------------------------------------------------------------------------
// Public types

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

/**
 * The listeners behind a REST simulator's `ScimLink.onChange`. Notifying a copy of the set lets a listener
 * unsubscribe while it is being told.
 */
export class LinkListeners {
  private readonly listeners = new Set<(id: string) => void>();

  notify(id: string): void {
    for (const l of [...this.listeners]) l(id);
  }

  /** ScimLink.onChange: returns the unsubscribe. */
  add(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

export interface ScimSimOptions extends ServeOptions {
  vendor: ScimVendor;
  clock?: Clock;
  seed?: number;
  /**
   * Size of the company's people pool the seats are drawn from (default 300, like the Outreach simulator).
   * Ignored with `link`: the seats are then the REST simulator's.
   */
  userCount?: number;
  /**
   * Use a REST simulator's users as the user store (see ScimLink): SCIM lists exactly its seats, and `active`
   * is read from and written to the REST record. Without it the SCIM simulator keeps its own seeded store.
   */
  link?: ScimLink;
  /** The SCIM bearer token; random when omitted. */
  token?: string;
  /** false: PATCH answers 501 and ServiceProviderConfig says patch unsupported (exercises PUT fallbacks). */
  patchSupported?: boolean;
  /** true: PATCH answers 405 with `Allow` (a gateway that does not route PATCH); SPC says unsupported. */
  patchMethodNotAllowed?: boolean;
  /** Success status of PATCH: 200 with the resource (default) or 204 without a body. */
  patchStatus?: 200 | 204;
  /** Serve meta.version and ETag, honour If-Match / If-None-Match. Default false (no vendor documents ETags). */
  etag?: boolean;
  /** Page size cap (ServiceProviderConfig filter.maxResults) and default `count`. Default 100. */
  maxResults?: number;
}

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

export interface ScimFailNextOptions extends FaultOptions {
  /** Adds `Retry-After: <n>`. */
  retryAfterSec?: number;
}

export interface ScimRequestLogEntry {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when the connection was dropped by failNext. */
  status: number;
}

export interface ScimSim {
  vendor: ScimVendor;
  origin: string;
  /** The SCIM base URL: origin + the vendor's base path (`/scim/v2`; ZoomInfo `/tenants/acme/scim/v2`). */
  url: string;
  token: string;
  behaviour: ScimVendorBehaviour;
  /** Snapshot (copies) in creation order; includes Outreach users hidden by DELETE (deleted: true). */
  users(): readonly ScimSimUser[];
  groups(): readonly ScimSimGroup[];
  /** Every request answered so far, in order. Tests may clear it with `requests.length = 0`. */
  readonly requests: ScimRequestLogEntry[];
  /** The next `count` requests (matching opts.path, if given) get `status` or a dropped connection. */
  failNext(count: number, status: number, opts?: ScimFailNextOptions): void;
  /** SalesLoft: the invited user accepted (pending -> accepted). Throws for other vendors or unknown ids. */
  acceptInvitation(id: string): ScimSimUser;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Schemas (RFC 7643 section 7 format; also drives input canonicalisation, filters and PATCH paths)

type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex';

interface AttrDef {
  name: string;
  type: AttrType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: AttrDef[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttrDef[];
}

function attr(name: string, description: string, extra: Partial<AttrDef> = {}): AttrDef {
  return {
    name,
    type: 'string',
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...extra,
  };
}

const multiComplex = (name: string, description: string, types: string[], extra: AttrDef[] = []): AttrDef =>
  attr(name, description, {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attr('value', `The ${name} value.`),
      attr('display', 'A human-readable name, primarily used for display purposes.'),
      attr('type', 'A label indicating the function of the value.', { canonicalValues: types }),
      attr('primary', "Whether this is the primary value; 'true' at most once.", { type: 'boolean' }),
      ...extra,
    ],
  });

const USER_SCHEMA: SchemaDef = {
  id: SCIM_SCHEMA.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('userName', 'Unique identifier for the User, here the login email. Case-insensitive.', { required: true, uniqueness: 'server' }),
    attr('name', "The components of the user's real name.", {
      type: 'complex',
      subAttributes: [
        attr('formatted', 'The full name, formatted for display.'),
        attr('familyName', 'The family name (last name).'),
        attr('givenName', 'The given name (first name).'),
        attr('middleName', 'The middle name(s).'),
        attr('honorificPrefix', 'The honorific prefix(es).'),
        attr('honorificSuffix', 'The honorific suffix(es).'),
      ],
    }),
    attr('displayName', 'The name of the User, suitable for display.'),
    attr('nickName', 'The casual way to address the user.'),
    attr('profileUrl', "A URI of the user's online profile.", { type: 'reference', referenceTypes: ['external'] }),
    attr('title', "The user's title, such as 'Account Executive'."),
    attr('userType', 'The relationship between the organization and the user.'),
    attr('preferredLanguage', 'Preferred written or spoken language.'),
    attr('locale', 'Default location, e.g. en-US.'),
    attr('timezone', "The User's time zone in IANA format, e.g. America/New_York."),
    attr('active', "The User's administrative status.", { type: 'boolean' }),
    attr('password', 'Accepted and discarded: these vendors log in through SSO.', { mutability: 'writeOnly', returned: 'never' }),
    multiComplex('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
    multiComplex('phoneNumbers', 'Phone numbers for the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    attr('addresses', 'A physical mailing address for this User.', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('formatted', 'The full mailing address.'),
        attr('streetAddress', 'The full street address component.'),
        attr('locality', 'The city or locality component.'),
        attr('region', 'The state or region component.'),
        attr('postalCode', 'The zip code or postal code component.'),
        attr('country', 'The country name component.'),
        attr('type', 'A label indicating the function.', { canonicalValues: ['work', 'home', 'other'] }),
        attr('primary', 'Whether this is the primary address.', { type: 'boolean' }),
      ],
    }),
    attr('groups', 'A list of groups to which the user belongs (read-only: change membership through /Groups).', {
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attr('value', "The identifier of the User's group.", { mutability: 'readOnly', caseExact: true }),
        attr('$ref', "The URI of the corresponding 'Group' resource.", { type: 'reference', referenceTypes: ['Group'], mutability: 'readOnly', caseExact: true }),
        attr('display', 'A human-readable name.', { mutability: 'readOnly' }),
        attr('type', "'direct' or 'indirect'.", { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
      ],
    }),
    multiComplex('roles', 'A list of roles for the User.', []),
  ],
};

const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: SCIM_SCHEMA.enterpriseUser,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person by the organization.'),
    attr('costCenter', 'Identifies the name of a cost center.'),
    attr('organization', 'Identifies the name of an organization.'),
    attr('division', 'Identifies the name of a division.'),
    attr('department', 'Identifies the name of a department.'),
    attr('manager', "The User's manager.", {
      type: 'complex',
      subAttributes: [
        attr('value', 'The id of the SCIM resource representing the manager.', { caseExact: true }),
        attr('$ref', 'The URI of the manager resource.', { type: 'reference', referenceTypes: ['User'], caseExact: true }),
        attr('displayName', "The displayName of the User's manager.", { mutability: 'readOnly' }),
      ],
    }),
  ],
};

const SALESLOFT_USER_SCHEMA: SchemaDef = {
  id: SCIM_SCHEMA.salesloftUser,
  name: 'SalesLoftUser',
  description: 'SalesLoft user invitation state',
  attributes: [
    attr('invitationStatus', "'pending' until the user accepts the invitation email SalesLoft sends on SCIM create, then 'accepted'.", {
      mutability: 'readOnly',
      canonicalValues: ['pending', 'accepted'],
    }),
  ],
};

const GROUP_SCHEMA: SchemaDef = {
  id: SCIM_SCHEMA.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    attr('displayName', 'A human-readable name for the Group.', { required: true }),
    attr('members', 'A list of members of the Group.', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('value', 'Identifier of the member of this Group.', { mutability: 'immutable', caseExact: true }),
        attr('$ref', 'The URI of the member resource.', { type: 'reference', referenceTypes: ['User'], mutability: 'immutable', caseExact: true }),
        attr('display', 'A human-readable name of the member (served, ignored on input).', { mutability: 'readOnly' }),
        attr('type', "The type of member: only 'User' here.", { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
      ],
    }),
  ],
};

/** RFC 7643 3.1 common attributes: resolvable in filters and paths, not listed in /Schemas. */
const COMMON_ATTRIBUTES: AttrDef[] = [
  attr('id', 'Unique identifier assigned by the service provider.', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attr('externalId', "The provisioning client's identifier for the resource.", { caseExact: true }),
  attr('meta', 'Resource metadata.', {
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', 'The resource type.', { mutability: 'readOnly', caseExact: true }),
      attr('created', 'When the resource was added.', { type: 'dateTime', mutability: 'readOnly' }),
      attr('lastModified', 'When the resource was last modified.', { type: 'dateTime', mutability: 'readOnly' }),
      attr('location', 'The URI of the resource.', { type: 'reference', mutability: 'readOnly', caseExact: true }),
      attr('version', 'The version (ETag) of the resource.', { mutability: 'readOnly', caseExact: true }),
    ],
  }),
];

interface ResourceCtx {
  core: SchemaDef;
  extensions: SchemaDef[];
}

function findCi<T extends { name: string }>(items: readonly T[] | undefined, name: string): T | undefined {
  const lower = name.toLowerCase();
  return items?.find((i) => i.name.toLowerCase() === lower);
}

function coreAttr(ctx: ResourceCtx, name: string): AttrDef | undefined {
  return findCi(ctx.core.attributes, name) ?? findCi(COMMON_ATTRIBUTES, name);
}

/** Splits a leading schema URN off an attribute path: `urn:...:enterprise:2.0:User:department` -> [ext, 'department']. */
function splitUrn(ctx: ResourceCtx, text: string): { schema: SchemaDef; rest: string } | undefined {
  const lower = text.toLowerCase();
  if (!lower.startsWith('urn:')) return { schema: ctx.core, rest: text };
  const schemas = [ctx.core, ...ctx.extensions].sort((a, b) => b.id.length - a.id.length);
  for (const s of schemas) {
    const prefix = s.id.toLowerCase() + ':';
    if (lower.startsWith(prefix)) return { schema: s, rest: text.slice(prefix.length) };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Errors

type ScimType =
  | 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath'
  | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
    readonly headers: Record<string, string | number> = {},
  ) {
    super(detail);
    this.name = 'ScimError';
  }
}

function fail(status: number, detail: string, scimType?: ScimType, headers?: Record<string, string | number>): never {
  throw new ScimError(status, detail, scimType, headers);
}

/** RFC 7644 3.12: `status` is the HTTP status as a JSON string. */
function errorBody(status: number, detail: string, scimType?: ScimType) {
  return { schemas: [SCIM_SCHEMA.error], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

type Doc = Record<string, unknown>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

// ---------------------------------------------------------------------------------------------------------
// Filters (RFC 7644 3.4.2.2)

type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
type CompValue = string | number | boolean | null;

interface FilterAttr {
  text: string;
  def: AttrDef;
  /** All values of the attribute in `obj`, multi-valued attributes flattened. */
  get: (obj: Doc) => unknown[];
}

type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; expr: FilterNode }
  | { kind: 'pr'; attr: FilterAttr }
  | { kind: 'cmp'; attr: FilterAttr; op: CompareOp; value: CompValue }
  | { kind: 'valuePath'; attr: FilterAttr; filter: FilterNode };

type Tok =
  | { t: 'str'; v: string; pos: number }
  | { t: 'word'; v: string; pos: number }
  | { t: '(' | ')' | '[' | ']'; pos: number };

class FilterSyntaxError extends Error {}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '[' || c === ']') {
      toks.push({ t: c, pos: i });
      i++;
      continue;
    }
    if (c === '"') {
      // JSON string rules (RFC 7644 3.4.2.2: compValue strings are JSON strings): \" and \\ escape.
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new FilterSyntaxError(`unterminated string starting at position ${i}`);
      let v: string;
      try {
        v = JSON.parse(src.slice(i, j + 1)) as string;
      } catch {
        throw new FilterSyntaxError(`invalid escape in the string starting at position ${i} (use \\" for a quote and \\\\ for a backslash)`);
      }
      toks.push({ t: 'str', v, pos: i });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < src.length && !' \t\n\r()[]"'.includes(src[j]!)) j++;
    toks.push({ t: 'word', v: src.slice(i, j), pos: i });
    i = j;
  }
  return toks;
}

type AttrResolver = (text: string) => FilterAttr | undefined;

function parseFilter(src: string, resolve: AttrResolver, describe: () => string): FilterNode {
  if (!src.trim()) throw new FilterSyntaxError('the filter is empty');
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k];
  const isWord = (tok: Tok | undefined, w: string): boolean => tok?.t === 'word' && tok.v.toLowerCase() === w;
  const where = (tok: Tok | undefined) => (tok ? `at position ${tok.pos}` : 'at the end');
  const show = (tok: Tok | undefined) => (!tok ? 'the end of the filter' : tok.t === 'str' ? `"${tok.v}"` : tok.t === 'word' ? `'${tok.v}'` : `'${tok.t}'`);
  const expect = (t: ')' | ']') => {
    const tok = toks[k];
    if (tok?.t !== t) throw new FilterSyntaxError(`expected '${t}' ${where(tok)}, found ${show(tok)}`);
    k++;
  };

  let resolver = resolve;
  let inValuePath = false;

  const parseOr = (): FilterNode => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      k++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): FilterNode => {
    let left = parseUnary();
    while (isWord(peek(), 'and')) {
      k++;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): FilterNode => {
    const tok = peek();
    if (isWord(tok, 'not')) {
      k++;
      if (peek()?.t !== '(') throw new FilterSyntaxError(`'not' must be followed by '(' ${where(peek())}`);
      k++;
      const expr = parseOr();
      expect(')');
      return { kind: 'not', expr };
    }
    if (tok?.t === '(') {
      k++;
      const e = parseOr();
      expect(')');
      return e;
    }
    if (tok?.t !== 'word') throw new FilterSyntaxError(`expected an attribute name ${where(tok)}, found ${show(tok)}`);
    k++;
    const a = resolver(tok.v);
    if (!a) throw new FilterSyntaxError(`unknown attribute '${tok.v}' ${where(tok)}; filterable attributes: ${describe()}`);
    if (peek()?.t === '[') {
      if (inValuePath) throw new FilterSyntaxError(`nested value filters are not supported ${where(peek())}`);
      if (!(a.def.type === 'complex' && a.def.multiValued)) {
        throw new FilterSyntaxError(`'${tok.v}' is not a multi-valued complex attribute, so it cannot take [filter] ${where(peek())}`);
      }
      k++;
      const outer = resolver;
      resolver = subResolver(a.def);
      inValuePath = true;
      const inner = parseOr();
      resolver = outer;
      inValuePath = false;
      expect(']');
      return { kind: 'valuePath', attr: a, filter: inner };
    }
    const opTok = peek();
    if (opTok?.t !== 'word') throw new FilterSyntaxError(`expected an operator after '${tok.v}' ${where(opTok)}, found ${show(opTok)}`);
    const op = opTok.v.toLowerCase();
    k++;
    let target = a;
    if (target.def.type === 'complex') {
      // RFC 7644 3.4.2.2: a complex multi-valued attribute without a sub-attribute compares its `value`.
      const valueSub = findCi(target.def.subAttributes, 'value');
      if (!target.def.multiValued || !valueSub) {
        throw new FilterSyntaxError(`'${tok.v}' is complex; name a sub-attribute (e.g. '${tok.v}.${target.def.subAttributes?.[0]?.name ?? 'value'}')`);
      }
      const get = target.get;
      target = { text: `${tok.v}.value`, def: valueSub, get: (o) => get(o).flatMap((e) => (isRecord(e) && e.value !== undefined ? [e.value] : [])) };
    }
    if (op === 'pr') return { kind: 'pr', attr: target };
    if (!COMPARE_OPS.has(op)) {
      throw new FilterSyntaxError(`unknown operator '${opTok.v}' at position ${opTok.pos}; use eq, ne, co, sw, ew, gt, ge, lt, le or pr`);
    }
    const vTok = peek();
    let value: CompValue;
    if (vTok?.t === 'str') value = vTok.v;
    else if (vTok?.t === 'word' && /^(true|false|null)$/.test(vTok.v)) value = vTok.v === 'null' ? null : vTok.v === 'true';
    else if (vTok?.t === 'word' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(vTok.v)) value = Number(vTok.v);
    else {
      throw new FilterSyntaxError(
        `expected a value after '${tok.v} ${opTok.v}' ${where(vTok)}, found ${show(vTok)}; strings must be in double quotes (e.g. ${tok.v} ${op} "dana.lee@${PEOPLE_EMAIL_DOMAIN}")`,
      );
    }
    k++;
    checkComparison(target, op as CompareOp, value);
    return { kind: 'cmp', attr: target, op: op as CompareOp, value };
  };

  const node = parseOr();
  if (k < toks.length) throw new FilterSyntaxError(`unexpected ${show(toks[k])} ${where(toks[k])}; combine expressions with 'and' or 'or'`);
  return node;
}

function checkComparison(a: FilterAttr, op: CompareOp, value: CompValue): void {
  const t = a.def.type;
  if (value === null) {
    if (op !== 'eq' && op !== 'ne') throw new FilterSyntaxError(`'${op} null' is meaningless; use '${a.text} pr' or 'not (${a.text} pr)'`);
    return;
  }
  if (t === 'boolean') {
    if (typeof value !== 'boolean') throw new FilterSyntaxError(`${a.text} is boolean: compare it with true or false, unquoted`);
    if (op !== 'eq' && op !== 'ne') throw new FilterSyntaxError(`${a.text} is boolean: only eq and ne apply`);
    return;
  }
  if (t === 'integer' || t === 'decimal') {
    if (typeof value !== 'number') throw new FilterSyntaxError(`${a.text} is a number: compare it with an unquoted number`);
    if (op === 'co' || op === 'sw' || op === 'ew') throw new FilterSyntaxError(`${op} does not apply to the number ${a.text}`);
    return;
  }
  if (typeof value !== 'string') throw new FilterSyntaxError(`${a.text} is a ${t}: compare it with a quoted string`);
  if (t === 'dateTime' && Number.isNaN(Date.parse(value))) throw new FilterSyntaxError(`"${value}" is not an xsd:dateTime for ${a.text}`);
}

function subResolver(parent: AttrDef): AttrResolver {
  return (text) => {
    const sub = findCi(parent.subAttributes, text);
    if (!sub) return undefined;
    return { text, def: sub, get: (el) => (el[sub.name] === undefined || el[sub.name] === null ? [] : [el[sub.name]]) };
  };
}

function resourceResolver(ctx: ResourceCtx): AttrResolver {
  return (text) => {
    const split = splitUrn(ctx, text);
    if (!split) return undefined;
    const [name, sub, ...extra] = split.rest.split('.');
    if (extra.length || !name) return undefined;
    const top = split.schema === ctx.core ? coreAttr(ctx, name) : findCi(split.schema.attributes, name);
    if (!top) return undefined;
    const container = (o: Doc): Doc | undefined => (split.schema === ctx.core ? o : isRecord(o[split.schema.id]) ? (o[split.schema.id] as Doc) : undefined);
    const flat = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
    if (sub === undefined) return { text, def: top, get: (o) => flat(container(o)?.[top.name]) };
    const subDef = findCi(top.subAttributes, sub);
    if (!subDef) return undefined;
    return {
      text,
      def: subDef,
      get: (o) => flat(container(o)?.[top.name]).flatMap((e) => (isRecord(e) ? flat(e[subDef.name]) : [])),
    };
  };
}

function describeAttributes(ctx: ResourceCtx): string {
  const names: string[] = [];
  const add = (prefix: string, a: AttrDef) => {
    if (a.returned === 'never') return;
    if (a.type === 'complex') for (const s of a.subAttributes ?? []) names.push(`${prefix}${a.name}.${s.name}`);
    else names.push(`${prefix}${a.name}`);
  };
  for (const a of [...COMMON_ATTRIBUTES, ...ctx.core.attributes]) add('', a);
  for (const e of ctx.extensions) for (const a of e.attributes) add(`${e.id}:`, a);
  return names.join(', ');
}

function evalFilter(node: FilterNode, obj: Doc): boolean {
  switch (node.kind) {
    case 'and':
      return evalFilter(node.left, obj) && evalFilter(node.right, obj);
    case 'or':
      return evalFilter(node.left, obj) || evalFilter(node.right, obj);
    case 'not':
      return !evalFilter(node.expr, obj);
    case 'pr':
      return node.attr.get(obj).some((v) => v !== '' && !(Array.isArray(v) && v.length === 0) && !(isRecord(v) && Object.keys(v).length === 0));
    case 'valuePath':
      return node.attr.get(obj).some((el) => isRecord(el) && evalFilter(node.filter, el));
    case 'cmp': {
      const values = node.attr.get(obj);
      if (node.value === null) return node.op === 'eq' ? values.length === 0 : values.length > 0;
      const hit = (op: CompareOp) => values.some((v) => compare(node.attr.def, v, op, node.value as string | number | boolean));
      // `ne` on a multi-valued or absent attribute: true when no value equals.
      return node.op === 'ne' ? !hit('eq') : hit(node.op);
    }
  }
}

function compare(def: AttrDef, actual: unknown, op: CompareOp, wanted: string | number | boolean): boolean {
  if (typeof wanted === 'boolean') return op === 'eq' ? actual === wanted : actual !== wanted;
  if (typeof wanted === 'number') {
    if (typeof actual !== 'number') return false;
    return ord(actual, wanted, op);
  }
  if (typeof actual !== 'string') return false;
  if (def.type === 'dateTime') return ord(Date.parse(actual), Date.parse(wanted), op);
  const a = def.caseExact ? actual : actual.toLowerCase();
  const w = def.caseExact ? wanted : wanted.toLowerCase();
  switch (op) {
    case 'co':
      return a.includes(w);
    case 'sw':
      return a.startsWith(w);
    case 'ew':
      return a.endsWith(w);
    default:
      return ord(a, w, op);
  }
}

function ord<T extends string | number>(a: T, b: T, op: CompareOp): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Input canonicalisation (case-insensitive names, type checks; readOnly and unknown attributes dropped)

function canonValue(def: AttrDef, v: unknown, where: string, single = false): unknown {
  if (v === null || v === undefined) return undefined;
  if (def.multiValued && !single) {
    if (!Array.isArray(v)) fail(400, `${where} is multi-valued: send an array`, 'invalidValue');
    const out = v.map((x, i) => canonValue(def, x, `${where}[${i}]`, true)).filter((x) => x !== undefined);
    return out;
  }
  switch (def.type) {
    case 'string':
    case 'reference':
      if (typeof v !== 'string') fail(400, `${where} must be a string`, 'invalidValue');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') fail(400, `${where} must be a JSON boolean (true or false, not a string)`, 'invalidValue');
      return v;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) fail(400, `${where} must be an integer`, 'invalidValue');
      return v;
    case 'decimal':
      if (typeof v !== 'number') fail(400, `${where} must be a number`, 'invalidValue');
      return v;
    case 'dateTime':
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) fail(400, `${where} must be an xsd:dateTime string`, 'invalidValue');
      return v;
    case 'complex': {
      if (!isRecord(v)) fail(400, `${where} must be an object with sub-attributes`, 'invalidValue');
      const out: Doc = {};
      for (const [k, x] of Object.entries(v)) {
        const sub = findCi(def.subAttributes, k);
        if (!sub || sub.mutability === 'readOnly') continue;
        const c = canonValue(sub, x, `${where}.${sub.name}`);
        if (c !== undefined) out[sub.name] = c;
      }
      return out;
    }
  }
}

/** POST/PUT body -> stored document (no id/meta/schemas, no readOnly or writeOnly attributes). */
function canonResource(body: Doc, ctx: ResourceCtx): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(body)) {
    const lower = k.toLowerCase();
    if (lower === 'schemas') continue;
    const ext = ctx.extensions.find((e) => e.id.toLowerCase() === lower);
    if (ext) {
      if (v === null || v === undefined) continue;
      if (!isRecord(v)) fail(400, `${ext.id} must be an object`, 'invalidValue');
      const inner: Doc = {};
      for (const [k2, v2] of Object.entries(v)) {
        const a = findCi(ext.attributes, k2);
        if (!a || a.mutability === 'readOnly' || a.mutability === 'writeOnly') continue;
        const c = canonValue(a, v2, `${ext.id}:${a.name}`);
        if (c !== undefined) inner[a.name] = c;
      }
      if (Object.keys(inner).length) out[ext.id] = inner;
      continue;
    }
    const a = coreAttr(ctx, k);
    if (!a || a.mutability === 'readOnly' || a.mutability === 'writeOnly') continue;
    const c = canonValue(a, v, a.name);
    if (c !== undefined) out[a.name] = c;
  }
  return out;
}

function requireSchema(body: Doc, urn: string): void {
  const schemas = Object.entries(body).find(([k]) => k.toLowerCase() === 'schemas')?.[1];
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase())) {
    fail(400, `the body's schemas must include "${urn}"`, 'invalidSyntax');
  }
}

// ---------------------------------------------------------------------------------------------------------
// PATCH (RFC 7644 3.5.2)

interface PatchPath {
  schema: SchemaDef;
  attr: AttrDef;
  filter?: FilterNode;
  sub?: AttrDef;
}

function parsePatchPath(path: string, ctx: ResourceCtx): PatchPath {
  const bad = (why: string): never => fail(400, `invalid PATCH path '${path}': ${why}`, 'invalidPath');
  const split = splitUrn(ctx, path.trim());
  if (!split) bad('unknown schema URN');
  let rest = split!.rest;
  const m = /^[A-Za-z$][\w$-]*/.exec(rest);
  if (!m) bad('expected an attribute name');
  const name = m![0];
  rest = rest.slice(name.length);
  const schema = split!.schema;
  const a = schema === ctx.core ? coreAttr(ctx, name) : findCi(schema.attributes, name);
  if (!a) bad(`unknown attribute '${name}'`);
  const out: PatchPath = { schema, attr: a! };
  if (rest.startsWith('[')) {
    if (!(a!.type === 'complex' && a!.multiValued)) bad(`'${a!.name}' is not multi-valued, so it cannot take a [filter]`);
    let j = 1;
    let inStr = false;
    for (; j < rest.length; j++) {
      const c = rest[j];
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === ']') break;
    }
    if (j >= rest.length) bad("missing ']'");
    try {
      out.filter = parseFilter(rest.slice(1, j), subResolver(a!), () => (a!.subAttributes ?? []).map((s) => s.name).join(', '));
    } catch (err) {
      if (err instanceof FilterSyntaxError) bad(err.message);
      throw err;
    }
    rest = rest.slice(j + 1);
  }
  if (rest.startsWith('.')) {
    const subName = rest.slice(1);
    const sub = findCi(a!.subAttributes, subName);
    if (!sub) bad(`'${a!.name}' has no sub-attribute '${subName}'`);
    out.sub = sub;
    rest = '';
  }
  if (rest !== '') bad(`unexpected '${rest}'`);
  return out;
}

function containerFor(doc: Doc, p: PatchPath, create: boolean): Doc | undefined {
  if (p.schema.id === SCIM_SCHEMA.user || p.schema.id === SCIM_SCHEMA.group) return doc;
  if (!isRecord(doc[p.schema.id])) {
    if (!create) return undefined;
    doc[p.schema.id] = {};
  }
  return doc[p.schema.id] as Doc;
}

/** The attribute/value pairs an `eq` filter pins down, to create the element `add` targets (Entra ID style). */
function elementFromFilter(f: FilterNode): Doc | undefined {
  if (f.kind === 'cmp' && f.op === 'eq' && f.value !== null) return { [f.attr.def.name]: f.value };
  if (f.kind === 'and') {
    const l = elementFromFilter(f.left);
    const r = elementFromFilter(f.right);
    return l && r ? { ...l, ...r } : undefined;
  }
  return undefined;
}

function sameElement(a: unknown, b: unknown, def: AttrDef): boolean {
  if (isRecord(a) && isRecord(b) && a.value !== undefined) {
    const valueDef = findCi(def.subAttributes, 'value');
    if (typeof a.value === 'string' && typeof b.value === 'string' && !valueDef?.caseExact) {
      return a.value.toLowerCase() === b.value.toLowerCase() && (a.type ?? null) === (b.type ?? null);
    }
    return a.value === b.value && (def.name === 'members' || (a.type ?? null) === (b.type ?? null));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RFC 7644 3.5.2: a value newly set primary makes every other value of the attribute non-primary. */
function demoteOtherPrimaries(list: unknown[], keep: Set<unknown>): void {
  if (![...keep].some((e) => isRecord(e) && e.primary === true)) return;
  for (const e of list) if (isRecord(e) && !keep.has(e) && e.primary === true) e.primary = false;
}

function applyPatchOp(doc: Doc, opName: 'add' | 'remove' | 'replace', p: PatchPath, value: unknown, hasValue: boolean): void {
  const { attr: a, sub } = p;
  const isExt = p.schema.id !== SCIM_SCHEMA.user && p.schema.id !== SCIM_SCHEMA.group;
  const where = `${isExt ? p.schema.id + ':' : ''}${a.name}${sub ? '.' + sub.name : ''}`;
  if (a.mutability === 'readOnly' || sub?.mutability === 'readOnly') {
    fail(400, `${where} is read-only and cannot be modified`, 'mutability');
  }
  if (opName !== 'remove' && !hasValue) fail(400, `'${opName}' needs a value`, 'invalidSyntax');
  const c = containerFor(doc, p, opName !== 'remove');
  if (!c) return;

  if (p.filter) {
    const list = Array.isArray(c[a.name]) ? (c[a.name] as unknown[]) : [];
    const matches = list.filter((e): e is Doc => isRecord(e) && evalFilter(p.filter!, e));
    if (opName === 'remove') {
      if (sub) for (const m of matches) delete m[sub.name];
      else c[a.name] = list.filter((e) => !matches.includes(e as Doc));
      if ((c[a.name] as unknown[]).length === 0) delete c[a.name];
      return;
    }
    if (matches.length === 0) {
      // RFC 7644 3.5.2.3: replace with an unmatched value filter is noTarget. `add` creates the element the
      // filter describes, which is what Entra ID expects of `add emails[type eq "work"].value`.
      const seed = opName === 'add' ? elementFromFilter(p.filter) : undefined;
      if (!seed) fail(400, `no ${a.name} value matches the filter in the path`, 'noTarget');
      const el: Doc = sub ? { ...seed, [sub.name]: canonValue(sub, value, where) } : { ...seed, ...(canonValue(a, value, where, true) as Doc) };
      list.push(el);
      c[a.name] = list;
      demoteOtherPrimaries(list, new Set([el]));
      return;
    }
    for (const m of matches) {
      if (sub) {
        const v = canonValue(sub, value, where);
        if (v === undefined) delete m[sub.name];
        else m[sub.name] = v;
      } else Object.assign(m, canonValue(a, value, where, true) as Doc);
    }
    demoteOtherPrimaries(list, new Set(matches));
    return;
  }

  if (sub) {
    if (a.multiValued) {
      // No filter: the sub-attribute of every value (RFC 7644 3.5.2 leaves this to the provider).
      const list = Array.isArray(c[a.name]) ? (c[a.name] as unknown[]) : [];
      for (const e of list) {
        if (!isRecord(e)) continue;
        if (opName === 'remove') delete e[sub.name];
        else e[sub.name] = canonValue(sub, value, where);
      }
      return;
    }
    const cur = isRecord(c[a.name]) ? (c[a.name] as Doc) : {};
    if (opName === 'remove') delete cur[sub.name];
    else {
      const v = canonValue(sub, value, where);
      if (v === undefined) delete cur[sub.name];
      else cur[sub.name] = v;
    }
    if (Object.keys(cur).length) c[a.name] = cur;
    else delete c[a.name];
    return;
  }

  if (opName === 'remove') {
    if (a.multiValued && hasValue && value !== null) {
      // Not RFC 7644 (which wants members[value eq "..."]), but Entra ID and Salesforce send
      // {op: remove, path: members, value: [{value: id}]}; remove exactly those values.
      const drop = (Array.isArray(value) ? value : [value]).map((v, i) => canonValue(a, v, `${where}[${i}]`, true));
      const list = Array.isArray(c[a.name]) ? (c[a.name] as unknown[]) : [];
      c[a.name] = list.filter((e) => !drop.some((d) => sameElement(e, d, a)));
      if ((c[a.name] as unknown[]).length === 0) delete c[a.name];
      return;
    }
    delete c[a.name];
    return;
  }

  if (a.multiValued) {
    // An object where an array belongs: wrap it (Entra ID sends single member objects).
    const items = (Array.isArray(value) ? value : value === null ? [] : [value]).map((v, i) => canonValue(a, v, `${where}[${i}]`, true));
    if (opName === 'replace') {
      c[a.name] = items;
      if (items.length === 0) delete c[a.name];
      return;
    }
    const list = Array.isArray(c[a.name]) ? (c[a.name] as unknown[]) : [];
    const added = new Set<unknown>();
    for (const item of items) {
      const existing = list.find((e) => sameElement(e, item, a));
      if (existing && isRecord(existing) && isRecord(item)) {
        Object.assign(existing, item);
        added.add(existing);
      } else if (!existing) {
        list.push(item);
        added.add(item);
      }
    }
    if (list.length) c[a.name] = list;
    demoteOtherPrimaries(list, added);
    return;
  }

  if (a.type === 'complex') {
    // RFC 7644 3.5.2.1/3: sub-attributes not in the value stay as they are.
    const v = canonValue(a, value, where);
    if (v === undefined) delete c[a.name];
    else c[a.name] = { ...(isRecord(c[a.name]) ? (c[a.name] as Doc) : {}), ...(v as Doc) };
    return;
  }
  const v = canonValue(a, value, where);
  if (v === undefined) delete c[a.name];
  else c[a.name] = v;
}

interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
  hasValue: boolean;
}

function readPatchBody(body: Doc): PatchOperation[] {
  requireSchema(body, SCIM_SCHEMA.patchOp);
  const ops = Object.entries(body).find(([k]) => k.toLowerCase() === 'operations')?.[1];
  if (!Array.isArray(ops) || ops.length === 0) fail(400, 'Operations must be a non-empty array', 'invalidSyntax');
  return ops.map((raw, i) => {
    if (!isRecord(raw)) fail(400, `Operations[${i}] must be an object`, 'invalidSyntax');
    const get = (name: string) => Object.entries(raw).find(([k]) => k.toLowerCase() === name);
    const op = get('op')?.[1];
    // Entra ID sends "Replace" / "Add" / "Remove": op names are case-insensitive.
    const opName = typeof op === 'string' ? op.toLowerCase() : '';
    if (opName !== 'add' && opName !== 'remove' && opName !== 'replace') {
      fail(400, `Operations[${i}].op must be add, remove or replace (got ${JSON.stringify(op)})`, 'invalidSyntax');
    }
    const path = get('path')?.[1];
    if (path !== undefined && path !== null && typeof path !== 'string') fail(400, `Operations[${i}].path must be a string`, 'invalidPath');
    const value = get('value');
    return { op: opName, path: typeof path === 'string' && path.trim() ? path : undefined, value: value?.[1], hasValue: value !== undefined };
  });
}

function applyPatch(doc: Doc, ops: PatchOperation[], ctx: ResourceCtx): void {
  for (const o of ops) {
    if (o.path !== undefined) {
      applyPatchOp(doc, o.op, parsePatchPath(o.path, ctx), o.value, o.hasValue);
      continue;
    }
    // No path: the target is the resource itself; the value is an object of attribute paths and values
    // (Okta and Entra ID: {op: replace, value: {active: false}}, also "name.givenName" or URN-qualified keys).
    if (o.op === 'remove') fail(400, "'remove' needs a path", 'noTarget');
    if (!isRecord(o.value)) fail(400, `'${o.op}' without a path needs an object value`, 'invalidValue');
    for (const [key, v] of Object.entries(o.value)) {
      const lower = key.toLowerCase();
      if (lower === 'schemas' || lower === 'id' || lower === 'meta') continue; // Okta sends the id along
      const ext = ctx.extensions.find((e) => e.id.toLowerCase() === lower);
      if (ext) {
        if (!isRecord(v)) fail(400, `${ext.id} must be an object`, 'invalidValue');
        for (const [k2, v2] of Object.entries(v)) {
          const a = findCi(ext.attributes, k2);
          if (!a || a.mutability === 'readOnly') continue;
          applyPatchOp(doc, o.op, { schema: ext, attr: a }, v2, true);
        }
        continue;
      }
      let p: PatchPath;
      try {
        p = parsePatchPath(key, ctx);
      } catch {
        continue; // unknown attributes in a value object are ignored, as in POST/PUT bodies
      }
      if (p.attr.mutability === 'readOnly' || p.sub?.mutability === 'readOnly' || p.attr.mutability === 'writeOnly') continue;
      applyPatchOp(doc, o.op, p, v, true);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Seed

interface UserRec {
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
interface LinkShared {
  active: boolean;
  email: string;
  givenName: string | null;
  familyName: string | null;
}

function linkShared(r: ScimLinkUser): LinkShared {
  return { active: r.active, email: r.email, givenName: r.givenName, familyName: r.familyName };
}

interface GroupRec {
  id: string;
  doc: Doc;
  memberIds: string[];
  created: number;
  lastModified: number;
  version: number;
  seedKind: ScimSimGroup['seedKind'];
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
function chars(rng: Rng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
  return s;
}

/** Okta user ids (`00u...`) derive from the person, so one person carries the same externalId in every vendor. */
function oktaId(seed: number, prefix: '00u' | '00g', key: string): string {
  return prefix + chars(new Rng(deriveSeed(seed, `okta:${prefix}:${key}`)), ALNUM, 17);
}

function uuid(rng: Rng): string {
  const h = chars(rng, HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function makeIdGen(style: SeedProfile['idStyle'], rng: Rng, first: number): (createdMs: number) => string {
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
        return Math.floor(createdMs / 1000).toString(16).padStart(8, '0') + chars(rng, HEX, 16);
      case 'uuid':
        return uuid(rng);
    }
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const LOCALE_BY_ZONE: Record<string, string> = {
  'Europe/London': 'en-GB',
  'Europe/Berlin': 'de-DE',
  'Asia/Singapore': 'en-SG',
  'Australia/Sydney': 'en-AU',
};

interface Directory {
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
function buildDirectory(vendor: ScimVendor, userCount: number, seed: number): Directory {
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
function linkedDoc(r: ScimLinkUser, person: Person | null): Doc {
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
function buildLinkedDirectory(vendor: ScimVendor, link: ScimLink, seed: number): Directory {
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
    return {
      id: r.id,
      doc,
      invitationStatus: behaviour.invitations ? 'accepted' : null,
      deleted: false,
      created: r.created,
      lastModified: Math.max(r.created, r.lastModified ?? r.created),
      version: 1,
      personKey: r.personKey,
      seedKind: seedKindOf(r),
      seen: linkShared(r),
    };
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

function primaryEmail(doc: Doc): string | null {
  const emails = Array.isArray(doc.emails) ? (doc.emails as Doc[]) : [];
  const e = emails.find((x) => x.primary === true) ?? emails[0];
  return typeof e?.value === 'string' ? e.value : null;
}

function snapshotUser(u: UserRec, groups: readonly GroupRec[]): ScimSimUser {
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

function snapshotGroup(g: GroupRec): ScimSimGroup {
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

// ---------------------------------------------------------------------------------------------------------
// Server

const stripWeak = (tag: string) => tag.trim().replace(/^W\//, '');

export async function startScimSimulator(opts: ScimSimOptions): Promise<ScimSim> {
  const vendor = opts.vendor;
  const behaviour = SCIM_VENDOR_BEHAVIOUR[vendor];
  if (!behaviour) throw new RangeError(`unknown SCIM vendor '${String(vendor)}'`);
  const clock = opts.clock ?? systemClock;
  const seed = opts.seed ?? 42;
  const token = opts.token ?? newSecret(`scim_${vendor}_`);
  const maxResults = opts.maxResults ?? DEFAULT_MAX_RESULTS;
  if (!Number.isInteger(maxResults) || maxResults < 1) throw new RangeError('maxResults must be a positive integer');
  const etag = opts.etag ?? false;
  const patchMode: 'ok' | 'unsupported' | 'notAllowed' = opts.patchMethodNotAllowed
    ? 'notAllowed'
    : opts.patchSupported === false
      ? 'unsupported'
      : 'ok';
  const patchStatus = opts.patchStatus ?? behaviour.patchStatus;

  const link = opts.link;
  const dir = link ? buildLinkedDirectory(vendor, link, seed) : buildDirectory(vendor, opts.userCount ?? DEFAULT_USER_COUNT, seed);
  const users = dir.users;
  const groups = dir.groups;
  const usersById = new Map(users.map((u) => [u.id, u]));
  const groupsById = new Map(groups.map((g) => [g.id, g]));

  const userCtx: ResourceCtx = {
    core: USER_SCHEMA,
    extensions: behaviour.invitations ? [ENTERPRISE_USER_SCHEMA, SALESLOFT_USER_SCHEMA] : [ENTERPRISE_USER_SCHEMA],
  };
  const groupCtx: ResourceCtx = { core: GROUP_SCHEMA, extensions: [] };
  const userResolver = resourceResolver(userCtx);
  const groupResolver = resourceResolver(groupCtx);

  const faults = new FaultQueue<ScimFailNextOptions>();
  const requests: ScimRequestLogEntry[] = [];
  let origin = '';
  let base = '';

  // --- responses ----------------------------------------------------------------------------------------

  const reply = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', status });
    sendJson(res, status, body, headers, SCIM_MEDIA_TYPE);
  };

  const versionTag = (v: number) => `W/"${v}"`;
  const meta = (resourceType: string, r: { id: string; created: number; lastModified: number; version: number }, path: string) => ({
    resourceType,
    created: iso(r.created),
    lastModified: iso(r.lastModified),
    location: `${base}/${path}/${r.id}`,
    ...(etag ? { version: versionTag(r.version) } : {}),
  });
  const touch = (r: { lastModified: number; version: number }) => {
    r.lastModified = clock.now();
    r.version++;
  };

  // --- link to a REST simulator (opts.link) ---------------------------------------------------------------
  //
  // The REST record is the store of the shared fields. Reads: every request (and users()) re-reads the REST
  // record of each user it touches, so `active` is live both ways; a REST-side change of name or email
  // (against what was last seen) is copied into the SCIM document. Writes: a SCIM write that changes a shared
  // field goes to the REST record (link.update) before the response. New REST seats (a REST POST) join the
  // directory through link.onChange. Unlinked, none of this runs.

  /** True while this server writes to the REST simulator, so its own change events are not read back. */
  let pushing = false;
  const fullName = (given: string | null, family: string | null) => [given, family].filter((x): x is string => !!x).join(' ');

  /** Linked: brings the REST record's shared fields into the SCIM document (a live read); no-op unlinked. */
  const hydrate = (u: UserRec): UserRec => {
    if (!link || !u.seen) return u;
    const r = link.get(u.id);
    if (!r) return u;
    const was = u.seen;
    let changed = false;
    if (u.doc.active !== r.active) {
      u.doc.active = r.active;
      changed = true;
    }
    if (r.email !== was.email) {
      if (typeof u.doc.userName === 'string' && u.doc.userName.toLowerCase() === was.email.toLowerCase()) u.doc.userName = r.email;
      const emails = Array.isArray(u.doc.emails) ? (u.doc.emails as Doc[]) : [];
      const primary = emails.find((e) => e.primary === true) ?? emails[0];
      if (primary && typeof primary.value === 'string' && primary.value.toLowerCase() === was.email.toLowerCase()) primary.value = r.email;
      changed = true;
    }
    if (r.givenName !== was.givenName || r.familyName !== was.familyName) {
      const before = fullName(was.givenName, was.familyName);
      const after = fullName(r.givenName, r.familyName);
      const name: Doc = isRecord(u.doc.name) ? { ...(u.doc.name as Doc) } : {};
      if (r.givenName) name.givenName = r.givenName;
      else delete name.givenName;
      if (r.familyName) name.familyName = r.familyName;
      else delete name.familyName;
      if (name.formatted === undefined || name.formatted === before) name.formatted = after;
      if (!name.formatted) delete name.formatted;
      if (Object.keys(name).length) u.doc.name = name;
      else delete u.doc.name;
      if (u.doc.displayName === before) {
        if (after) u.doc.displayName = after;
        else delete u.doc.displayName;
      }
      changed = true;
    }
    u.seen = linkShared(r);
    if (changed) {
      u.lastModified = Math.max(u.lastModified, r.lastModified ?? clock.now());
      u.version++;
    }
    return u;
  };

  /** Linked: sends the shared fields a SCIM write changed to the REST record; no-op unlinked. */
  const pushShared = (u: UserRec) => {
    if (!link || !u.seen) return;
    const d = u.doc;
    const name = isRecord(d.name) ? (d.name as Doc) : {};
    const changes: ScimLinkChanges = {};
    if (d.active !== u.seen.active) changes.active = d.active === true;
    // userName is the login email (the notes' Okta mapping: userName -> email).
    if (typeof d.userName === 'string' && d.userName !== u.seen.email) changes.email = d.userName;
    // Names are set, never cleared: the REST APIs require them (a SCIM remove keeps the REST name).
    if (typeof name.givenName === 'string' && name.givenName && name.givenName !== u.seen.givenName) changes.givenName = name.givenName;
    if (typeof name.familyName === 'string' && name.familyName && name.familyName !== u.seen.familyName) changes.familyName = name.familyName;
    if (Object.keys(changes).length) {
      pushing = true;
      try {
        link.update(u.id, changes);
      } finally {
        pushing = false;
      }
    }
    const r = link.get(u.id);
    if (r) u.seen = linkShared(r);
  };

  /** Linked: a seat the REST side created after start (e.g. an Outreach REST POST) joins the directory. */
  const adopt = (r: ScimLinkUser) => {
    const u: UserRec = {
      id: r.id,
      doc: linkedDoc(r, null),
      invitationStatus: behaviour.invitations ? 'accepted' : null,
      deleted: false,
      created: r.created,
      lastModified: Math.max(r.created, r.lastModified ?? r.created),
      version: 1,
      personKey: r.personKey,
      seedKind: seedKindOf(r),
      seen: linkShared(r),
    };
    users.push(u);
    usersById.set(u.id, u);
  };

  const unlink = link?.onChange((id) => {
    if (pushing) return;
    const u = usersById.get(id);
    if (u) {
      hydrate(u);
      return;
    }
    const r = link.get(id);
    if (r) adopt(r);
  });

  const groupsOfIndex = () => {
    const idx = new Map<string, GroupRec[]>();
    for (const g of groups) for (const m of g.memberIds) idx.set(m, [...(idx.get(m) ?? []), g]);
    return idx;
  };

  const serializeUser = (u: UserRec, groupsOf?: Map<string, GroupRec[]>): Doc => {
    const d = u.doc;
    const schemas: string[] = [SCIM_SCHEMA.user];
    const out: Doc = { schemas, id: u.id };
    if (d.externalId !== undefined) out.externalId = d.externalId;
    for (const a of USER_SCHEMA.attributes) {
      if (a.name === 'groups' || a.returned === 'never') continue;
      if (d[a.name] !== undefined) out[a.name] = clone(d[a.name]);
    }
    if (behaviour.groups) {
      const gs = (groupsOf ?? groupsOfIndex()).get(u.id) ?? [];
      out.groups = gs.map((g) => ({ value: g.id, $ref: `${base}/Groups/${g.id}`, display: g.doc.displayName, type: 'direct' }));
    }
    if (isRecord(d[SCIM_SCHEMA.enterpriseUser]) && Object.keys(d[SCIM_SCHEMA.enterpriseUser] as Doc).length) {
      schemas.push(SCIM_SCHEMA.enterpriseUser);
      out[SCIM_SCHEMA.enterpriseUser] = clone(d[SCIM_SCHEMA.enterpriseUser]);
    }
    if (behaviour.invitations) {
      // SalesLoft: `active: true` + invitationStatus 'pending' until the invitation email is accepted.
      schemas.push(SCIM_SCHEMA.salesloftUser);
      out[SCIM_SCHEMA.salesloftUser] = { invitationStatus: u.invitationStatus ?? 'accepted' };
    }
    out.meta = meta('User', u, 'Users');
    return out;
  };

  const serializeGroup = (g: GroupRec): Doc => {
    const out: Doc = { schemas: [SCIM_SCHEMA.group], id: g.id };
    if (g.doc.externalId !== undefined) out.externalId = g.doc.externalId;
    out.displayName = g.doc.displayName;
    out.members = g.memberIds.map((id) => {
      const u = usersById.get(id);
      return { value: id, $ref: `${base}/Users/${id}`, display: (u?.doc.displayName as string | undefined) ?? (u?.doc.userName as string | undefined), type: 'User' };
    });
    out.meta = meta('Group', g, 'Groups');
    return out;
  };

  /** RFC 7644 3.9 `attributes` / `excludedAttributes` (top-level, sub-attribute and URN-qualified names). */
  const project = (resource: Doc, ctx: ResourceCtx, q: URLSearchParams): Doc => {
    const list = (name: string) =>
      q.get(name)?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
    const include = list('attributes');
    const exclude = list('excludedAttributes');
    if (!include && !exclude) return resource;
    const locate = (text: string) => {
      const split = splitUrn(ctx, text);
      if (!split) return undefined;
      const [name, sub] = split.rest.split('.');
      if (!name) return undefined;
      const a = split.schema === ctx.core ? coreAttr(ctx, name) : findCi(split.schema.attributes, name);
      if (!a) return undefined;
      const s = sub ? findCi(a.subAttributes, sub) : undefined;
      if (sub && !s) return undefined;
      return { ext: split.schema === ctx.core ? null : split.schema.id, a, s };
    };
    if (include) {
      const out: Doc = { schemas: resource.schemas, id: resource.id };
      for (const text of include) {
        const l = locate(text);
        if (!l) continue;
        const src = l.ext ? (resource[l.ext] as Doc | undefined) : resource;
        const v = src?.[l.a.name];
        if (v === undefined) continue;
        const dst = l.ext ? ((out[l.ext] ??= {}) as Doc) : out;
        if (!l.s) dst[l.a.name] = v;
        else if (Array.isArray(v)) dst[l.a.name] = v.map((e) => (isRecord(e) ? { [l.s!.name]: e[l.s!.name] } : e));
        else if (isRecord(v) && v[l.s.name] !== undefined) dst[l.a.name] = { ...((dst[l.a.name] as Doc) ?? {}), [l.s.name]: v[l.s.name] };
      }
      return out;
    }
    const out = clone(resource);
    for (const text of exclude!) {
      const l = locate(text);
      if (!l || l.a.name === 'id') continue;
      const dst = l.ext ? (out[l.ext] as Doc | undefined) : out;
      if (!dst) continue;
      const v = dst[l.a.name];
      if (!l.s) {
        delete dst[l.a.name];
      } else if (Array.isArray(v)) {
        for (const e of v) if (isRecord(e)) delete e[l.s.name];
      } else if (isRecord(v)) {
        delete v[l.s.name];
      }
    }
    return out;
  };

  // --- request plumbing ---------------------------------------------------------------------------------

  const readScimBody = async (req: IncomingMessage): Promise<Doc> => {
    const ct = parseMediaType(req.headers['content-type']);
    if (req.headers['content-type'] !== undefined && (!ct || (ct.type !== SCIM_MEDIA_TYPE && ct.type !== 'application/json'))) {
      await readBody(req).catch(() => undefined);
      fail(415, `Content-Type must be ${SCIM_MEDIA_TYPE} or application/json`);
    }
    let body: unknown;
    try {
      body = await readJsonBody(req);
    } catch (err) {
      if (err instanceof HttpInputError) fail(err.status, err.message, err.status === 400 ? 'invalidSyntax' : undefined);
      throw err;
    }
    if (!isRecord(body)) fail(400, 'the request body must be a JSON object', 'invalidSyntax');
    return body;
  };

  const intParam = (q: URLSearchParams, name: string, dflt: number): number => {
    const raw = q.get(name);
    if (raw === null || raw === '') return dflt;
    if (!/^-?\d+$/.test(raw.trim())) fail(400, `${name} must be an integer, got '${raw}'`, 'invalidValue');
    return Number(raw);
  };

  const parseListFilter = (q: URLSearchParams, resolver: AttrResolver, ctx: ResourceCtx): FilterNode | undefined => {
    const raw = q.get('filter');
    if (raw === null) return undefined;
    try {
      return parseFilter(raw, resolver, () => describeAttributes(ctx));
    } catch (err) {
      if (err instanceof FilterSyntaxError) fail(400, `invalid filter ${JSON.stringify(raw)}: ${err.message}`, 'invalidFilter');
      throw err;
    }
  };

  /**
   * A list response over `records`. Without a filter only the requested page is serialized, so a page
   * costs the same at any directory size; a filter is evaluated on the serialized resources.
   */
  const listResponse = <R>(records: R[], toDoc: (r: R) => Doc, q: URLSearchParams, ctx: ResourceCtx, filter: FilterNode | undefined) => {
    // RFC 7644 3.4.2.4: startIndex < 1 means 1; a negative count means 0; count is capped at maxResults.
    const startIndex = Math.max(1, intParam(q, 'startIndex', 1));
    const count = Math.min(maxResults, Math.max(0, intParam(q, 'count', maxResults)));
    const from = startIndex - 1;
    let total: number;
    let docs: Doc[];
    if (filter) {
      const matched = records.map(toDoc).filter((r) => evalFilter(filter, r));
      total = matched.length;
      docs = matched.slice(from, from + count);
    } else {
      total = records.length;
      docs = records.slice(from, from + count).map(toDoc);
    }
    const page = docs.map((r) => project(r, ctx, q));
    return {
      schemas: [SCIM_SCHEMA.listResponse],
      totalResults: total,
      startIndex,
      itemsPerPage: page.length,
      Resources: page,
    };
  };

  const checkIfMatch = (req: IncomingMessage, r: { id: string; version: number }) => {
    const header = req.headers['if-match'];
    if (!etag || header === undefined) return;
    const tags = header.split(',').map((t) => t.trim());
    if (tags.includes('*')) return;
    if (!tags.some((t) => stripWeak(t) === stripWeak(versionTag(r.version)))) {
      fail(412, `Failed to update: resource ${r.id} changed on the server (If-Match ${header}, current version ${versionTag(r.version)})`);
    }
  };
  const notModified = (req: IncomingMessage, r: { version: number }) => {
    const header = req.headers['if-none-match'];
    if (!etag || header === undefined) return false;
    const tags = header.split(',').map((t) => t.trim());
    return tags.includes('*') || tags.some((t) => stripWeak(t) === stripWeak(versionTag(r.version)));
  };
  const etagHeader = (r: { version: number }): Record<string, string> => (etag ? { ETag: versionTag(r.version) } : {});

  const methodNotAllowed = (method: string, allow: string): never =>
    fail(405, `${method} is not supported here; allowed: ${allow}`, undefined, { Allow: allow });

  // --- users --------------------------------------------------------------------------------------------

  const visibleUser = (id: string): UserRec => {
    const u = usersById.get(id);
    if (!u || u.deleted) fail(404, `Resource ${id} not found`);
    return hydrate(u);
  };

  const validateUser = (doc: Doc, selfId: string | null, before?: Doc) => {
    if (typeof doc.userName !== 'string' || !doc.userName.trim()) fail(400, 'userName is required', 'invalidValue');
    if (typeof doc.active !== 'boolean') fail(400, 'active must be true or false', 'invalidValue');
    for (const name of ['emails', 'phoneNumbers', 'addresses', 'roles']) {
      const list = doc[name];
      if (!Array.isArray(list)) continue;
      if (list.filter((e) => isRecord(e) && e.primary === true).length > 1) fail(400, `at most one of ${name} may be primary`, 'invalidValue');
      if (name === 'emails' && list.some((e) => !isRecord(e) || typeof e.value !== 'string' || !e.value)) {
        fail(400, 'every email needs a value', 'invalidValue');
      }
    }
    // Linked Outreach lists the REST seed's case-variant seats (Dana.Lee@ next to dana.lee@), which predate
    // Outreach's uniqueness check; a write that keeps such a userName as it is must not fail on the old clash.
    if (link && before && before.userName === doc.userName) return;
    const lower = doc.userName.toLowerCase();
    const clash = users.find((u) => !u.deleted && u.id !== selfId && (u.doc.userName as string).toLowerCase() === lower);
    // RFC 7643: userName uniqueness is server-wide and caseExact=false, so Dana.Lee@ clashes with dana.lee@.
    if (clash) fail(409, `userName ${doc.userName} is already taken by user ${clash.id}`, 'uniqueness');
  };

  const vendorUserRules = (before: Doc, after: Doc) => {
    if (!behaviour.emailChangeInPlace) {
      // Apollo, the notes: "Changing a user's primary email address requires unassigning and re-assigning the
      // user in the IdP; in-place email updates are not supported." userName is the login email there.
      const same = (a: unknown, b: unknown) => String(a ?? '').toLowerCase() === String(b ?? '').toLowerCase();
      if (!same(before.userName, after.userName) || !same(primaryEmail(before), primaryEmail(after))) {
        fail(
          400,
          `${behaviour.label} does not support changing a user's primary email or userName in place: unassign the user from the ${behaviour.label} app in the IdP, change the email, then reassign them`,
          'mutability',
        );
      }
    }
  };

  const handleUsers = async (req: IncomingMessage, res: ServerResponse, method: string, id: string | undefined, q: URLSearchParams) => {
    if (id === undefined) {
      if (method === 'GET') {
        const filter = parseListFilter(q, userResolver, userCtx);
        const idx = groupsOfIndex();
        const live = users.filter((u) => !u.deleted);
        return reply(req, res, 200, listResponse(live, (u) => serializeUser(hydrate(u), idx), q, userCtx, filter));
      }
      if (method === 'POST') {
        const body = await readScimBody(req);
        requireSchema(body, SCIM_SCHEMA.user);
        const doc = canonResource(body, userCtx);
        if (doc.active === undefined) doc.active = true;
        validateUser(doc, null);
        const now = clock.now();
        let id: string;
        let seen: LinkShared | undefined;
        if (link) {
          // Linked: the REST simulator creates the seat (and its id), so its REST API lists it too.
          const name = isRecord(doc.name) ? (doc.name as Doc) : {};
          const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
          pushing = true;
          try {
            const r = link.create({
              email: doc.userName as string,
              givenName: str(name.givenName),
              familyName: str(name.familyName),
              title: str(doc.title),
              timeZone: str(doc.timezone),
              active: doc.active === true,
              externalId: str(doc.externalId),
            });
            id = r.id;
            seen = linkShared(r);
          } finally {
            pushing = false;
          }
        } else {
          id = dir.nextUserId(now);
        }
        const u: UserRec = {
          id,
          doc,
          // SalesLoft, the notes: "SalesLoft creates the user and sends an invitation email to complete account
          // setup"; the account is pending until accepted (acceptInvitation()).
          invitationStatus: behaviour.invitations ? 'pending' : null,
          deleted: false,
          created: now,
          lastModified: now,
          version: 1,
          personKey: null,
          seedKind: 'created',
          ...(seen ? { seen } : {}),
        };
        users.push(u);
        usersById.set(u.id, u);
        const out = serializeUser(u);
        return reply(req, res, 201, out, { Location: `${base}/Users/${u.id}`, ...etagHeader(u) });
      }
      return methodNotAllowed(method, 'GET, POST');
    }

    if (id === '.search') fail(501, 'POST /Users/.search is not supported; use GET /Users?filter=');
    if (method === 'PATCH' && patchMode === 'unsupported') {
      fail(501, `${behaviour.label} SCIM does not support PATCH; replace the resource with PUT`);
    }
    if (method === 'PATCH' && patchMode === 'notAllowed') methodNotAllowed('PATCH', 'GET, PUT, DELETE');
    const u = visibleUser(id);

    switch (method) {
      case 'GET':
        if (notModified(req, u)) return reply(req, res, 304, undefined, etagHeader(u));
        return reply(req, res, 200, project(serializeUser(u), userCtx, q), etagHeader(u));
      case 'PUT': {
        checkIfMatch(req, u);
        const body = await readScimBody(req);
        requireSchema(body, SCIM_SCHEMA.user);
        // RFC 7644 3.5.1: id and meta in the body are ignored; readWrite attributes left out are cleared.
        const doc = canonResource(body, userCtx);
        if (doc.active === undefined) doc.active = u.doc.active;
        validateUser(doc, u.id, u.doc);
        vendorUserRules(u.doc, doc);
        if (JSON.stringify(doc) !== JSON.stringify(u.doc)) {
          u.doc = doc;
          touch(u);
          pushShared(u);
        }
        return reply(req, res, 200, serializeUser(u), etagHeader(u));
      }
      case 'PATCH': {
        checkIfMatch(req, u);
        const ops = readPatchBody(await readScimBody(req));
        const doc = clone(u.doc);
        applyPatch(doc, ops, userCtx);
        validateUser(doc, u.id, u.doc);
        vendorUserRules(u.doc, doc);
        // PATCH is atomic (RFC 7644 3.5.2): nothing above touched the stored user (nor the REST record).
        if (JSON.stringify(doc) !== JSON.stringify(u.doc)) {
          u.doc = doc;
          touch(u);
          pushShared(u);
        }
        if (patchStatus === 204) return reply(req, res, 204, undefined, etagHeader(u));
        return reply(req, res, 200, serializeUser(u), etagHeader(u));
      }
      case 'DELETE': {
        checkIfMatch(req, u);
        if (behaviour.userDelete === 'hide') {
          // Outreach: gone from SCIM from now on (404), but "may not permanently remove user data".
          u.deleted = true;
          u.doc.active = false;
          for (const g of groups) {
            if (g.memberIds.includes(u.id)) {
              g.memberIds = g.memberIds.filter((m) => m !== u.id);
              touch(g);
            }
          }
        } else {
          // SalesLoft, Apollo, ZoomInfo: DELETE deactivates; GET keeps serving the user with active false.
          u.doc.active = false;
        }
        touch(u);
        // Linked: the REST record goes inactive too (Outreach active false, SalesLoft active false, Apollo deleted).
        pushShared(u);
        return reply(req, res, 204, undefined);
      }
      default:
        return methodNotAllowed(method, patchMode === 'ok' ? 'GET, PUT, PATCH, DELETE' : 'GET, PUT, DELETE');
    }
  };

  // --- groups -------------------------------------------------------------------------------------------

  const memberIdsFrom = (doc: Doc): string[] => {
    const list = Array.isArray(doc.members) ? (doc.members as unknown[]) : [];
    const ids: string[] = [];
    for (const m of list) {
      if (!isRecord(m) || typeof m.value !== 'string') fail(400, 'every member needs a value (a user id)', 'invalidValue');
      if (m.type !== undefined && String(m.type).toLowerCase() !== 'user') fail(400, `only users can be members (got type ${String(m.type)}); nested groups are not supported`, 'invalidValue');
      const u = usersById.get(m.value);
      if (!u || u.deleted) fail(400, `member ${m.value} is not a user in this ${behaviour.label} tenant`, 'invalidValue');
      if (!ids.includes(m.value)) ids.push(m.value);
    }
    return ids;
  };

  const validateGroup = (doc: Doc, selfId: string | null) => {
    if (typeof doc.displayName !== 'string' || !doc.displayName.trim()) fail(400, 'displayName is required', 'invalidValue');
    const lower = doc.displayName.toLowerCase();
    const clash = groups.find((g) => g.id !== selfId && (g.doc.displayName as string).toLowerCase() === lower);
    if (clash) fail(409, `a group named ${doc.displayName} already exists (${clash.id})`, 'uniqueness');
  };

  const handleGroups = async (req: IncomingMessage, res: ServerResponse, method: string, id: string | undefined, q: URLSearchParams) => {
    if (!behaviour.groups) {
      // Apollo, the notes: "Apollo supports users but not user groups during SSO/SCIM logins."
      fail(501, APOLLO_NO_GROUPS);
    }
    if (id === undefined) {
      if (method === 'GET') {
        const filter = parseListFilter(q, groupResolver, groupCtx);
        return reply(req, res, 200, listResponse(groups, serializeGroup, q, groupCtx, filter));
      }
      if (method === 'POST') {
        const body = await readScimBody(req);
        requireSchema(body, SCIM_SCHEMA.group);
        const doc = canonResource(body, groupCtx);
        validateGroup(doc, null);
        const memberIds = memberIdsFrom(doc);
        delete doc.members;
        const now = clock.now();
        const g: GroupRec = { id: dir.nextGroupId(now), doc, memberIds, created: now, lastModified: now, version: 1, seedKind: 'created' };
        groups.push(g);
        groupsById.set(g.id, g);
        return reply(req, res, 201, serializeGroup(g), { Location: `${base}/Groups/${g.id}`, ...etagHeader(g) });
      }
      return methodNotAllowed(method, 'GET, POST');
    }
    if (id === '.search') fail(501, 'POST /Groups/.search is not supported; use GET /Groups?filter=');
    if (method === 'PATCH' && patchMode === 'unsupported') fail(501, `${behaviour.label} SCIM does not support PATCH; replace the group with PUT`);
    if (method === 'PATCH' && patchMode === 'notAllowed') methodNotAllowed('PATCH', 'GET, PUT, DELETE');
    const g = groupsById.get(id);
    if (!g) fail(404, `Resource ${id} not found`);

    const commit = (doc: Doc) => {
      validateGroup(doc, g.id);
      const memberIds = memberIdsFrom(doc);
      delete doc.members;
      if (JSON.stringify(doc) !== JSON.stringify(g.doc) || JSON.stringify(memberIds) !== JSON.stringify(g.memberIds)) {
        g.doc = doc;
        g.memberIds = memberIds;
        touch(g);
      }
    };

    switch (method) {
      case 'GET':
        if (notModified(req, g)) return reply(req, res, 304, undefined, etagHeader(g));
        return reply(req, res, 200, project(serializeGroup(g), groupCtx, q), etagHeader(g));
      case 'PUT': {
        checkIfMatch(req, g);
        const body = await readScimBody(req);
        requireSchema(body, SCIM_SCHEMA.group);
        commit(canonResource(body, groupCtx));
        return reply(req, res, 200, serializeGroup(g), etagHeader(g));
      }
      case 'PATCH': {
        checkIfMatch(req, g);
        const ops = readPatchBody(await readScimBody(req));
        const doc: Doc = { ...clone(g.doc), members: g.memberIds.map((m) => ({ value: m })) };
        applyPatch(doc, ops, groupCtx);
        commit(doc);
        if (patchStatus === 204) return reply(req, res, 204, undefined, etagHeader(g));
        return reply(req, res, 200, project(serializeGroup(g), groupCtx, q), etagHeader(g));
      }
      case 'DELETE':
        checkIfMatch(req, g);
        groups.splice(groups.indexOf(g), 1);
        groupsById.delete(g.id);
        return reply(req, res, 204, undefined);
      default:
        return methodNotAllowed(method, patchMode === 'ok' ? 'GET, PUT, PATCH, DELETE' : 'GET, PUT, DELETE');
    }
  };

  // --- discovery ----------------------------------------------------------------------------------------

  const discoveryMeta = (resourceType: string, path: string) => ({
    resourceType,
    location: `${base}/${path}`,
    created: `${SEED_PROFILES[vendor].scimSince}T00:00:00.000Z`,
    lastModified: `${SEED_PROFILES[vendor].scimSince}T00:00:00.000Z`,
  });

  const serviceProviderConfig = () => ({
    schemas: [SCIM_SCHEMA.serviceProviderConfig, SCIM_SCHEMA.sandboxConfig],
    documentationUri: behaviour.documentationUri,
    patch: { supported: patchMode === 'ok' },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: etag },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: `The long-lived SCIM token generated in ${behaviour.label}'s admin settings (not an OAuth access token)`,
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    // Not RFC 7643: /ResourceTypes already omits Group for Apollo; this says it in one place with the reason.
    [SCIM_SCHEMA.sandboxConfig]: {
      vendor,
      groups: { supported: behaviour.groups, ...(behaviour.groups ? { mapsTo: behaviour.groupsAre } : { detail: APOLLO_NO_GROUPS }) },
      userDelete: behaviour.userDelete === 'hide' ? 'deletes from SCIM (data kept, inactive)' : 'deactivates (active=false)',
      emailChangeInPlace: behaviour.emailChangeInPlace,
      invitations: behaviour.invitations,
    },
    meta: discoveryMeta('ServiceProviderConfig', 'ServiceProviderConfig'),
  });

  const resourceTypes = (): Doc[] => {
    const out: Doc[] = [
      {
        schemas: [SCIM_SCHEMA.resourceType],
        id: 'User',
        name: 'User',
        endpoint: '/Users',
        description: 'User Account',
        schema: SCIM_SCHEMA.user,
        schemaExtensions: userCtx.extensions.map((e) => ({ schema: e.id, required: false })),
        meta: discoveryMeta('ResourceType', 'ResourceTypes/User'),
      },
    ];
    if (behaviour.groups) {
      out.push({
        schemas: [SCIM_SCHEMA.resourceType],
        id: 'Group',
        name: 'Group',
        endpoint: '/Groups',
        description: behaviour.groupsAre ? `Group (${behaviour.groupsAre})` : 'Group',
        schema: SCIM_SCHEMA.group,
        schemaExtensions: [],
        meta: discoveryMeta('ResourceType', 'ResourceTypes/Group'),
      });
    }
    return out;
  };

  const schemaDocs = (): Doc[] =>
    [USER_SCHEMA, ...userCtx.extensions, ...(behaviour.groups ? [GROUP_SCHEMA] : [])].map((s) => ({
      schemas: [SCIM_SCHEMA.schema],
      id: s.id,
      name: s.name,
      description: s.description,
      attributes: clone(s.attributes),
      meta: discoveryMeta('Schema', `Schemas/${s.id}`),
    }));

  const simpleList = (items: Doc[]) => ({
    schemas: [SCIM_SCHEMA.listResponse],
    totalResults: items.length,
    startIndex: 1,
    itemsPerPage: items.length,
    Resources: items,
  });

  const handleDiscovery = (req: IncomingMessage, res: ServerResponse, method: string, kind: string, id: string | undefined, q: URLSearchParams) => {
    if (method !== 'GET') methodNotAllowed(method, 'GET');
    // RFC 7644 4: filtering discovery endpoints is not allowed.
    if (q.has('filter')) fail(403, `filter is not allowed on /${kind}`);
    if (kind === 'ServiceProviderConfig') {
      if (id !== undefined) fail(404, `Resource ${id} not found`);
      return reply(req, res, 200, serviceProviderConfig());
    }
    const items = kind === 'ResourceTypes' ? resourceTypes() : schemaDocs();
    if (id === undefined) return reply(req, res, 200, simpleList(items));
    const hit = items.find((i) => String(i.id).toLowerCase() === id.toLowerCase());
    if (!hit) {
      fail(404, kind === 'ResourceTypes' && id.toLowerCase() === 'group' && !behaviour.groups ? APOLLO_NO_GROUPS : `Resource ${id} not found`);
    }
    return reply(req, res, 200, hit);
  };

  // --- dispatch -----------------------------------------------------------------------------------------

  const ACCEPTABLE = new Set([SCIM_MEDIA_TYPE, 'application/json', 'application/*', '*/*']);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = (req.method ?? 'GET').toUpperCase();

    const fault = faults.take(req);
    if (fault) {
      if (fault.opts.dropConnection) {
        requests.push({ method, path: req.url ?? '', status: 0 });
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string | number> = {};
      if (fault.opts.retryAfterSec !== undefined) headers['Retry-After'] = fault.opts.retryAfterSec;
      req.resume();
      return reply(req, res, fault.status, errorBody(fault.status, 'injected fault'), headers);
    }

    try {
      const basePath = behaviour.basePath;
      if (url.pathname !== basePath && !url.pathname.startsWith(basePath + '/')) {
        fail(404, `no SCIM endpoint at ${url.pathname}; the ${behaviour.label} SCIM base URL is ${base}`);
      }
      const presented = parseBearer(req.headers.authorization);
      if (!presented || !safeEqual(presented, token)) {
        fail(
          401,
          presented ? 'the bearer token is not valid for this SCIM tenant' : 'authentication required: send Authorization: Bearer <SCIM token>',
          undefined,
          { 'WWW-Authenticate': `Bearer realm="${behaviour.label} SCIM"${presented ? ', error="invalid_token"' : ''}` },
        );
      }
      if (req.headers.accept !== undefined && !parseAccept(req.headers.accept).some((r) => ACCEPTABLE.has(r.type))) {
        fail(406, `Accept must allow ${SCIM_MEDIA_TYPE} or application/json`);
      }
      let segs: string[];
      try {
        segs = url.pathname.slice(basePath.length).split('/').filter(Boolean).map(decodeURIComponent);
      } catch {
        fail(400, 'malformed percent-encoding in the path', 'invalidSyntax');
      }
      if (segs.length === 0) fail(404, `no resource at the SCIM base; try ${base}/Users`);
      const [kindRaw, id, ...extra] = segs;
      if (extra.length) fail(404, `no SCIM endpoint at ${url.pathname}`);
      const kind = kindRaw!.toLowerCase();
      const q = url.searchParams;
      if (kind === 'users') return await handleUsers(req, res, method, id, q);
      if (kind === 'groups') return await handleGroups(req, res, method, id, q);
      if (kind === 'serviceproviderconfig') return handleDiscovery(req, res, method, 'ServiceProviderConfig', id, q);
      if (kind === 'resourcetypes') return handleDiscovery(req, res, method, 'ResourceTypes', id, q);
      if (kind === 'schemas') return handleDiscovery(req, res, method, 'Schemas', id, q);
      if (kind === 'bulk') fail(501, 'Bulk operations are not supported (ServiceProviderConfig bulk.supported is false)');
      if (kind === 'me') fail(501, '/Me is not supported');
      if (kind === '.search') fail(501, 'POST /.search is not supported; use GET with filter=');
      fail(404, `no SCIM endpoint at ${url.pathname}`);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      req.resume(); // drain an unread body so the keep-alive connection stays usable
      if (err instanceof ScimError) return reply(req, res, err.status, errorBody(err.status, err.detail, err.scimType), err.headers);
      if (err instanceof HttpInputError) return reply(req, res, err.status, errorBody(err.status, err.message, err.status === 400 ? 'invalidSyntax' : undefined));
      return reply(req, res, 500, errorBody(500, err instanceof Error ? err.message : String(err)));
    }
  };

  const { server, origin: listening } = await serveLoopback(handle, { latencyMs: opts.latencyMs });
  origin = listening;
  base = origin + behaviour.basePath;

  return {
    vendor,
    origin,
    url: base,
    token,
    behaviour,
    users: () => users.map((u) => snapshotUser(hydrate(u), groups)),
    groups: () => groups.map(snapshotGroup),
    requests,
    failNext(count: number, status: number, o: ScimFailNextOptions = {}) {
      faults.add(count, status, o);
    },
    acceptInvitation(id: string) {
      if (!behaviour.invitations) throw new Error(`${behaviour.label} SCIM has no invitations; acceptInvitation is SalesLoft-only`);
      const u = usersById.get(id);
      if (!u || u.deleted) throw new Error(`no SalesLoft SCIM user ${id}`);
      if (u.invitationStatus !== 'accepted') {
        u.invitationStatus = 'accepted';
        touch(u);
      }
      return snapshotUser(hydrate(u), groups);
    },
    close: () => {
      unlink?.();
      return closeServer(server);
    },
  };
}
