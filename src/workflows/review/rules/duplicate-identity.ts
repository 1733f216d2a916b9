import { cmp, identityKey } from '../common.js';
import type { ReviewRow } from '../../../domain/review.js';
import type { FindingRule } from '../../../domain/review.js';

/**
 * DUPLICATE_IDENTITY: within one vendor, after the REST+SCIM merge, two or more accounts that are not
 * `deactivated` and belong to one person. "One person" = the same mailbox: the same email compared
 * case-insensitively once a `+tag` is removed. That covers emails differing only in case, the same email on
 * two account ids, and jane@ next to jane+x@. Names are not used (real companies have namesakes). Severity
 * medium.
 */
export const duplicateIdentity: FindingRule = {
  code: 'DUPLICATE_IDENTITY',
  check(v, emit) {
    const label = v.profile.label;
    const groups = new Map<string, ReviewRow[]>();
    for (const a of v.accounts) {
      if (a.emailLower === null || a.status === 'deactivated') continue;
      const key = identityKey(a.emailLower);
      const g = groups.get(key);
      if (g) g.push(a);
      else groups.set(key, [a]);
    }
    for (const [key, group] of groups) {
      if (group.length < 2) continue;
      group.sort((a, b) => cmp(a.emailLower ?? '', b.emailLower ?? '') || cmp(a.email ?? '', b.email ?? '') || cmp(a.id ?? '', b.id ?? ''));
      const lowers = new Set(group.map((a) => a.emailLower));
      const raws = new Set(group.map((a) => a.email));
      const kinds: string[] = [];
      if (lowers.size > 1) kinds.push('+tag sub-addresses of one mailbox');
      if (raws.size > lowers.size) kinds.push('emails differing only in case');
      if (raws.size < group.length) kinds.push('the same email on several accounts');
      const detailOf = (a: ReviewRow): string => {
        if (a.emailLower !== key) return 'sub-address';
        const sameRaw = group.filter((b) => b.email === a.email).length;
        const sameLower = group.filter((b) => b.emailLower === a.emailLower).length;
        return sameRaw > 1 ? 'same email' : sameLower > 1 ? 'case variant' : 'base address';
      };
      emit.finding({
        key,
        severity: 'medium',
        accounts: group.map((a) => ({ row: a, detail: detailOf(a) })),
        message: `${group.length} live ${label} accounts for one mailbox (${kinds.join('; ')}).`,
        recommended_action: `Keep one ${label} account per person: move what the extra account owns, then deactivate it (an offboarding that finds only one of them leaves the other active).`,
      });
    }
  },
};
