import type { VendorCapabilities } from '../../domain/capabilities.js';

/** What Zoominfo allows through REST, SCIM or only its admin console, as its notes say. */
export const zoominfoCapabilities: VendorCapabilities = {
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
};
