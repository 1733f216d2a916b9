import { EXECUTIVE_TITLES, MANAGER_TITLES, type Person } from '../people.js';

/*
 * The per-vendor quirk profiles of the SCIM server: how each vendor's SCIM endpoint deviates from plain
 * RFC 7644 (ScimVendorBehaviour, from its notes), and what its seeded directory looks like (SeedProfile).
 */

export type ScimVendor = 'outreach' | 'salesloft' | 'apollo' | 'zoominfo';
export const SCIM_VENDORS: readonly ScimVendor[] = ['outreach', 'salesloft', 'apollo', 'zoominfo'];

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

export const APOLLO_NO_GROUPS = 'Apollo supports users but not user groups (SCIM /Groups is not available); assign users individually in the IdP';

export interface GroupDef {
  name: string;
  match: (p: Person) => boolean;
}

const EAST_ZONES = new Set(['America/New_York', 'America/Chicago', 'Europe/London', 'Europe/Berlin']);
const isLead = (p: Person) => MANAGER_TITLES.has(p.title) || EXECUTIVE_TITLES.has(p.title);
const isEnterpriseSeller = (p: Person) => p.department === 'Sales' && /Enterprise|Director/.test(p.title);

export interface SeedProfile {
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

export const SEED_PROFILES: Record<ScimVendor, SeedProfile> = {
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
