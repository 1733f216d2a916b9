import type { VendorCapabilities } from '../../domain/capabilities.js';

/** What Apollo allows through REST, SCIM or only its admin console, as its notes say. */
export const apolloCapabilities: VendorCapabilities = {
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
};
