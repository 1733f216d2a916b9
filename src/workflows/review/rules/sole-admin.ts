import { plural } from '../common.js';
import type { ReviewRow } from '../../../domain/review.js';
import { accountKey, type FindingRule } from '../../../domain/review.js';

/**
 * SOLE_ADMIN: an auditable vendor whose admins are known where exactly one `active` account has the admin
 * flag and every other active account says whether it is admin. Severity medium, high when that admin is
 * absent from or terminated in the roster. Undetermined when admins cannot be told apart, when some active
 * accounts do not say, or when no active admin is found at all. The text is the profile's `soleAdmin` when
 * the vendor has one (e.g. recovery only through vendor support).
 */
export const soleAdmin: FindingRule = {
  code: 'SOLE_ADMIN',
  check(v, emit) {
    const label = v.profile.label;
    if (!v.adminKnown) {
      emit.undetermined(`the ${label} listing does not say which users are admins`);
      return;
    }
    const admins: ReviewRow[] = [];
    let unsaid = 0;
    for (const a of v.accounts) {
      if (a.status !== 'active') continue;
      if (a.is_admin === true) admins.push(a);
      else if (a.is_admin === null) unsaid += 1;
    }
    if (admins.length >= 2) return;
    if (admins.length === 0) {
      emit.undetermined(`no active ${label} account is marked admin; the listing may not show admin roles`);
      return;
    }
    if (unsaid > 0) {
      emit.undetermined(`one active admin found, but ${plural(unsaid, 'active account')} do not say whether they are admins`);
      return;
    }
    const admin = admins[0];
    const leaving = admin.roster === 'absent' || admin.roster === 'terminated';
    const text = v.profile.soleAdmin ?? {
      message: `${label} has a single active admin: losing that person leaves nobody able to manage users and settings.`,
      recommended_action: `Give a second trusted user the admin role in ${label} before offboarding anyone with admin rights.`,
    };
    emit.finding({
      key: accountKey(admin),
      severity: leaving ? 'high' : 'medium',
      accounts: [{ row: admin, detail: leaving ? `the only admin is ${admin.roster === 'absent' ? 'absent from' : 'terminated in'} the roster` : 'the only active admin' }],
      message: text.message,
      recommended_action: text.recommended_action,
    });
  },
};
