import { salesloftCapabilities } from './capabilities.js';
import type { VendorReviewProfile } from '../../domain/review.js';
import { SALESLOFT } from './identity.js';

/** What the access review knows about SalesLoft: REST can deactivate, so offboarding without SCIM is only partly manual. */
export const salesloftReview: VendorReviewProfile = {
  label: SALESLOFT.label,
  rules: [],
  offboardingPath: (scim) => (scim ? 'SCIM or REST active: false' : 'REST active: false'),
  noAutomatedOffboarding: {
    severity: 'low',
    message: 'SalesLoft offboarding is partially manual: without SCIM, REST can deactivate users (active: false) but nothing is triggered by the identity provider, and users cannot be invited through REST.',
    recommended_action: `Configure SalesLoft SCIM, token in Settings > SCIM (plan requirement: ${salesloftCapabilities.scim_plan}). Until then deactivate leavers through REST and reassign cadences in the UI.`,
  },
};
