import type { VendorReviewProfile } from '../../domain/review.js';
import { ZOOMINFO } from './identity.js';

/** What the access review knows about ZoomInfo: no user management in REST, so without SCIM offboarding is fully manual. */
export const zoominfoReview: VendorReviewProfile = {
  label: ZOOMINFO.label,
  rules: [],
  offboardingPath: (scim) => (scim ? 'SCIM active=false, or unassign the user in the identity provider' : 'the ZoomInfo admin portal'),
  noAutomatedOffboarding: {
    severity: 'medium',
    message: 'ZoomInfo offboarding is fully manual: its REST API has no user management; without SCIM an admin must remove users in the ZoomInfo admin portal, and seats cannot even be listed.',
    recommended_action: 'Ask the ZoomInfo account team for the SCIM URL and token (plan requirement: Enterprise, with SSO active). Until then remove leavers in the ZoomInfo admin portal.',
  },
};
