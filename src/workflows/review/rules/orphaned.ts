import { plural } from '../common.js';
import { accountKey, type FindingRule } from '../../../domain/review.js';

/**
 * ORPHANED_ACCOUNT: an account whose status is `active` (can sign in) or `pending` (an invitation that turns
 * into access when accepted), or an invitation listed apart, whose email is absent from the roster (also
 * without a +tag) or terminated in it. Severity high for active, medium for pending. `locked` and
 * `deactivated` accounts cannot sign in and are not orphans (their seats are the vendors' own seat findings).
 * Accounts in status `unknown`, and live accounts without an email, cannot be judged: they are counted as
 * undetermined. Without a roster the whole code is undetermined.
 */
export const orphanedAccount: FindingRule = {
  code: 'ORPHANED_ACCOUNT',
  check(v, emit) {
    const label = v.profile.label;
    if (!v.rosterGiven) {
      emit.undetermined('no roster given: pass `roster` (emails) or `roster_path` (CSV) to find accounts of people who left');
      return;
    }
    let unknownStatus = 0;
    let noEmail = 0;
    let unreadableRoster = 0;
    for (const a of [...v.accounts, ...v.invitations]) {
      const live = a.status === 'active' || a.status === 'pending';
      if (a.emailLower === null) {
        if (live || a.status === 'unknown') noEmail += 1;
        continue;
      }
      // A roster status the review cannot read ("Terminated - Voluntary", "Retired"…) must not hide a leaver.
      if (a.roster === 'unknown' && live) unreadableRoster += 1;
      if (a.roster !== 'absent' && a.roster !== 'terminated') continue;
      if (a.status === 'unknown') {
        unknownStatus += 1;
        continue;
      }
      if (!live) continue;
      const why = a.roster === 'absent' ? 'absent from the roster' : 'terminated in the roster';
      const what = a.kind === 'invitation' ? 'pending invitation' : a.status === 'pending' ? 'pending (invited, not yet accepted) account' : 'active account';
      const activeAccount = a.status === 'active' && a.kind === 'account';
      emit.finding({
        key: accountKey(a),
        severity: activeAccount ? 'high' : 'medium',
        accounts: [{ row: a, detail: why }],
        message: `${label} ${what} of someone ${why}.`,
        recommended_action: activeAccount
          ? `Confirm with HR, then deactivate the ${label} user (${v.profile.offboardingPath(v.scimConfigured)}) and reassign what they own; or add the address to exceptions if it is a service account.`
          : `Revoke the ${label} invitation (or deactivate the pending user) unless the person is a new hire not yet on the roster.`,
      });
    }
    if (unknownStatus > 0) {
      emit.undetermined(
        `${plural(unknownStatus, 'account')} absent from or terminated in the roster ${unknownStatus === 1 ? 'has' : 'have'} status unknown (the listing did not say whether ${unknownStatus === 1 ? 'it is' : 'they are'} active)`,
      );
    }
    if (noEmail > 0) emit.undetermined(`${plural(noEmail, 'account')} without an email cannot be joined to the roster`);
    if (unreadableRoster > 0) {
      emit.undetermined(
        `${plural(unreadableRoster, 'live account')} belong${unreadableRoster === 1 ? 's' : ''} to people whose roster status this review cannot read (see the roster warnings); check them by hand or use statuses such as active / terminated`,
      );
    }
  },
};
