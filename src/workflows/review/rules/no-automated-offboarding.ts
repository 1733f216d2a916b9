import type { FindingRule } from '../../../domain/review.js';

/**
 * NO_AUTOMATED_OFFBOARDING: every vendor reviewed without a SCIM connection, auditable or not (it needs only
 * to know whether SCIM is configured). How manual offboarding then is, and so the severity, is the vendor's:
 * its profile's `noAutomatedOffboarding` (partly manual where REST can lock or deactivate, fully manual where
 * it cannot). One finding per vendor, about no account.
 */
export const noAutomatedOffboarding: FindingRule = {
  code: 'NO_AUTOMATED_OFFBOARDING',
  needsSeats: false,
  check(v, emit) {
    if (v.scimConfigured) return;
    const { severity, message, recommended_action } = v.profile.noAutomatedOffboarding;
    emit.finding({ key: '', severity, accounts: [], message, recommended_action });
  },
};
