import { outreachCapabilities } from './capabilities.js';
import type { VendorReviewProfile } from '../../domain/review.js';
import { accountKey, type FindingRule } from '../../domain/review.js';
import { OUTREACH } from './identity.js';

/**
 * LOCKED_STILL_BILLED: an Outreach account with `locked: true` and `active` not false (so not deprovisioned
 * through SCIM), unless the listing says it holds no seat (`seat_held: false`). Outreach's REST API can only
 * lock a user, and a locked user keeps the licensed seat. Severity low (cost).
 */
const lockedStillBilled: FindingRule = {
  code: 'LOCKED_STILL_BILLED',
  check(v, emit) {
    for (const a of v.accounts) {
      if (a.locked !== true || a.active === false || a.seat_held === false) continue;
      emit.finding({
        key: accountKey(a),
        severity: 'low',
        accounts: [{ row: a, detail: 'locked; seat still held' }],
        message: 'Outreach user is locked: login is blocked but the licensed seat is still held (sequences, prospects and tasks are kept).',
        recommended_action: v.scimConfigured
          ? 'Run plan_offboarding for them with transfer_to (hands their prospects, accounts, sequences and tasks over) and free_seat: true (SCIM DELETE after the lock, irreversible), which the notes name as freeing the seat.'
          : 'Run plan_offboarding for them with transfer_to to hand their records over; then ask Outreach support to remove the user (or configure SCIM on Enterprise and plan with free_seat: true) to free the seat.',
      });
    }
  },
};

/** What the access review knows about Outreach. */
export const outreachReview: VendorReviewProfile = {
  label: OUTREACH.label,
  rules: [lockedStillBilled],
  offboardingPath: (scim) =>
    scim ? 'REST locked: true keeps the seat; the notes name SCIM DELETE or Outreach support as freeing it' : 'REST locked: true blocks login but keeps the seat',
  noAutomatedOffboarding: {
    severity: 'low',
    message: 'Outreach offboarding is partially manual: without SCIM, REST can only lock users (locked: true), which blocks login but keeps the licensed seat until Outreach support removes the user.',
    recommended_action: `Configure Outreach SCIM so the identity provider deprovisions leavers (plan requirement: ${outreachCapabilities.scim_plan}). Until then lock through REST and ask Outreach support to free the seats.`,
  },
};
