import type { Vendor } from './account.js';

/**
 * Which lifecycle operations each vendor allows, and through which path, as the vendor notes in
 * shared/vendor-docs/ state them. `rest` and `scim` name the API; `ui` means only the vendor's admin console
 * can do it; `none` means no documented way. Plan requirements are the notes' words.
 */
export type Path = 'rest' | 'scim' | 'ui' | 'none';

export const OPERATIONS = ['list_users', 'get_user', 'create_user', 'update_user', 'deactivate_user', 'reactivate_user', 'delete_user', 'list_groups'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface VendorCapabilities {
  operations: Record<Operation, Path[]>;
  scim_plan: string;
  /** What deactivation does to the seat and to owned records, in one line each. */
  caveats: string[];
}

export const CAPABILITIES: Record<Vendor, VendorCapabilities> = {
  outreach: {
    operations: {
      list_users: ['rest', 'scim'],
      get_user: ['rest', 'scim'],
      create_user: ['rest', 'scim'],
      update_user: ['rest', 'scim'],
      // REST "deactivates" by locked: true; SCIM sets active=false.
      deactivate_user: ['rest', 'scim'],
      reactivate_user: ['rest', 'scim'],
      // No hard delete through REST; SCIM DELETE "may not permanently remove user data".
      delete_user: ['scim'],
      // SCIM groups map to Outreach Teams, not roles or profiles.
      list_groups: ['scim'],
    },
    scim_plan: 'Enterprise, with SSO configured as a separate IdP application',
    caveats: [
      'Locking (REST) keeps the licensed seat until Outreach support or SCIM DELETE removes the user.',
      'Sequences, prospects and tasks are not reassigned by locking or deprovisioning.',
      'Creating a user sends no invitation email unless the org is configured to.',
    ],
  },
  salesloft: {
    operations: {
      list_users: ['rest', 'scim'],
      get_user: ['rest', 'scim'],
      // "user creation (inviting new users) is not supported via the REST API"
      create_user: ['scim', 'ui'],
      update_user: ['rest', 'scim'],
      deactivate_user: ['rest', 'scim'],
      reactivate_user: ['rest', 'scim'],
      // SCIM DELETE deactivates rather than deletes.
      delete_user: ['none'],
      list_groups: ['rest', 'scim'],
    },
    scim_plan: 'Enterprise, with SAML SSO active',
    caveats: [
      'Deactivated users are hidden from GET /users unless include_deactivated=true.',
      'Deactivation does not reassign cadences or tasks.',
      'A SCIM-provisioned user stays pending until they accept the invitation email.',
    ],
  },
  apollo: {
    operations: {
      // Teammate list needs a master API key; scoped keys get 403.
      list_users: ['rest', 'scim'],
      get_user: ['scim'],
      create_user: ['scim', 'ui'],
      // Email cannot be changed in place through SCIM.
      update_user: ['scim', 'ui'],
      // No REST endpoint to deactivate a seat.
      deactivate_user: ['scim', 'ui'],
      reactivate_user: ['scim', 'ui'],
      delete_user: ['none'],
      // Apollo supports users but not groups through SCIM.
      list_groups: ['none'],
    },
    scim_plan: 'Organization plan, with SSO configured first (Okta or Entra ID)',
    caveats: [
      'Deactivating a user does not reduce the billed seat count: reduce seats in Settings > Plan Overview (not mid-contract on annual plans).',
      'Deactivating the sole admin requires Apollo support to regain access.',
      'Unlink the mailbox and reassign contacts, accounts, sequences, deals and tasks by hand.',
    ],
  },
  zoominfo: {
    operations: {
      // The REST API has no seat list: seats can only be audited through SCIM.
      list_users: ['scim'],
      get_user: ['scim'],
      create_user: ['scim', 'ui'],
      update_user: ['scim', 'ui'],
      deactivate_user: ['scim', 'ui'],
      reactivate_user: ['scim', 'ui'],
      delete_user: ['scim'],
      list_groups: ['scim'],
    },
    scim_plan: 'Enterprise, with SSO active; the SCIM URL and token come from the ZoomInfo account team',
    caveats: [
      'Data calls (search, enrich, lookup) spend credits for every record returned.',
      'Removing a user from an IdP group may not deprovision them unless group push is configured.',
    ],
  },
};
