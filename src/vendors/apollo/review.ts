import { apolloCapabilities } from './capabilities.js';
import type { VendorReviewProfile } from '../../domain/review.js';
import { accountKey, type FindingRule } from '../../domain/review.js';
import { APOLLO } from './identity.js';

/**
 * DEACTIVATED_SEAT_NOT_FREED: an Apollo account in status `deactivated`, unless it holds no paid seat
 * (`seat_held: false`, e.g. a free Billing and Seat Manager seat). Apollo keeps billing the seat until the
 * seat count is reduced. Severity low (cost).
 */
const deactivatedSeatNotFreed: FindingRule = {
  code: 'DEACTIVATED_SEAT_NOT_FREED',
  check(v, emit) {
    for (const a of v.accounts) {
      if (a.status !== 'deactivated' || a.seat_held === false) continue;
      emit.finding({
        key: accountKey(a),
        severity: 'low',
        accounts: [{ row: a, detail: 'deactivated; seat still billed until the seat count is reduced' }],
        message: 'Apollo user is deactivated, but deactivation does not reduce the billed seat count.',
        recommended_action:
          'Reduce seats in Settings > Plan Overview (Manage Subscription); annual plans do not allow reductions mid-contract, so plan it for the renewal. Unlink the mailbox and reassign their records.',
      });
    }
  },
};

/**
 * What the access review knows about Apollo: its REST API cannot deactivate (offboarding without SCIM is
 * fully manual), deactivation does not free the seat, an invitation reserves a paid seat, and a lost sole
 * admin can only be restored by Apollo support.
 */
export const apolloReview: VendorReviewProfile = {
  // "Apollo", not VENDOR_NAMES' "Apollo.io": the review's messages have always said so.
  label: APOLLO.label,
  rules: [deactivatedSeatNotFreed],
  offboardingPath: (scim) =>
    scim ? 'SCIM active=false, then reduce seats in Settings > Plan Overview' : 'Settings > Users and Teams > … > Deactivate, then reduce seats in Settings > Plan Overview',
  noAutomatedOffboarding: {
    severity: 'medium',
    message: 'Apollo offboarding is fully manual: its REST API cannot deactivate a user; an admin must use Settings > Users and Teams, then reduce seats in Settings > Plan Overview.',
    recommended_action: `Configure Apollo SCIM (plan requirement: ${apolloCapabilities.scim_plan.replace(/\((.*)\)/, '– $1')}). Until then deactivate leavers in Settings > Users and Teams (… > Deactivate), unlink their mailbox and reassign their records.`,
  },
  soleAdmin: {
    message: 'Apollo has a single active admin: if that admin leaves or is deactivated, regaining admin access needs Apollo support.',
    recommended_action: 'Give a second trusted user the Admin profile in Settings > Users and Teams (Apollo recommends at least 2 admins) before any offboarding.',
  },
  invitationHoldsSeat: true,
};
