import { DAY_MS, parseTime, plural } from '../common.js';
import { accountKey, type FindingRule } from '../../../domain/review.js';

/**
 * STALE_INVITATION: a `pending` account (invited_at, else created_at) or an invitation listed apart
 * (invited_at) sent more than N days before the review (age > N days). Severity low. Invitations or pending
 * accounts without a date are undetermined; so is the whole code when the vendor does not expose
 * invitations (pending accounts are still checked).
 */
export const staleInvitation: FindingRule = {
  code: 'STALE_INVITATION',
  check(v, emit) {
    const label = v.profile.label;
    const staleDays = v.staleInvitationDays;
    if (!v.invitationsListed) emit.undetermined(`${label} does not expose pending invitations to this connection; only accounts in status pending were checked`);
    const reserves = v.profile.invitationHoldsSeat ? 'access and a paid seat' : 'access';
    let undated = 0;
    for (const a of [...v.accounts, ...v.invitations]) {
      if (a.status !== 'pending') continue;
      const sent = parseTime(a.invited_at) ?? (a.kind === 'account' ? parseTime(a.created_at) : null);
      if (sent === null) {
        undated += 1;
        continue;
      }
      if (v.now - sent <= staleDays * DAY_MS) continue;
      const ageDays = Math.floor((v.now - sent) / DAY_MS);
      emit.finding({
        key: accountKey(a),
        severity: 'low',
        accounts: [{ row: a, detail: `invited ${ageDays} days ago` }],
        message: `${label} invitation pending for ${ageDays} days (threshold ${staleDays}).`,
        recommended_action: `Revoke the invitation in ${label} if it is no longer wanted (it still reserves ${reserves}), or resend it.`,
      });
    }
    if (undated > 0) emit.undetermined(`${plural(undated, 'pending invitation')} without a date`);
  },
};
