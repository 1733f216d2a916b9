import type { VendorCapabilities } from '../../domain/capabilities.js';

/** What Outreach allows through REST, SCIM or only its admin console, as its notes say. */
export const outreachCapabilities: VendorCapabilities = {
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
};
