import type { VendorCapabilities } from '../../domain/capabilities.js';

/** What Salesloft allows through REST, SCIM or only its admin console, as its notes say. */
export const salesloftCapabilities: VendorCapabilities = {
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
};
