import { withAudit, type Actor, type AuditLog, type ConfirmationDetail } from '../audit/audit-log.js';
import { VendorError } from '../errors.js';
import { publicErrorText } from '../public-error.js';
import type { Change } from '../vendors/adapter.js';

/**
 * The one write path: every destructive change a tool or an offboarding step makes goes through here.
 *
 * prepareChange reads the state (unless the caller just read it) and says whether anything must be sent;
 * the caller then gets the human's approval its own way (a tool per call, an offboarding once per plan);
 * commitChange writes the audit intent line, applies, reads back, verifies and writes the outcome line.
 */

export interface PreparedChange<S> {
  change: Change<S>;
  before: S;
  /** False when the state already is what the change makes: nothing will be sent. */
  needed: boolean;
}

export async function prepareChange<S>(change: Change<S>, signal?: AbortSignal, known?: S): Promise<PreparedChange<S>> {
  const before = known ?? (await change.read(signal));
  return { change, before, needed: !change.satisfied(before) };
}

export interface CommitContext {
  audit: AuditLog;
  /** The tool the write belongs to ("execute_offboarding" for plan steps). */
  tool: string;
  actor: Actor;
  /** How the human approved: elicit, browser, token, … */
  confirmation: string;
  confirmationDetail?: ConfirmationDetail;
  planId?: string;
  /** Arguments for the audit line; only `allow` keys are recorded. */
  args?: Record<string, unknown>;
  allow?: readonly string[];
  signal?: AbortSignal;
}

export interface CommittedChange<S> {
  changed: boolean;
  before: S;
  /** As read back; the expected state (see `unverified`) when reading back failed; undefined if neither. */
  after: S | undefined;
  /** Set when the write was accepted but could not be read back: what to check. */
  unverified: string | undefined;
  /** Caveats the write itself raised (e.g. the read back lags behind). */
  warnings: string[];
  opId: string | null;
  requestId: string | undefined;
  /** How the write was sent, when the change says (SCIM: patch or put). */
  how: string | undefined;
}

/** The result of a change that was not needed: nothing sent, nothing audited. */
export function unchanged<S>(p: PreparedChange<S>): CommittedChange<S> {
  return { changed: false, before: p.before, after: p.before, unverified: undefined, warnings: [], opId: null, requestId: undefined, how: undefined };
}

export async function commitChange<S>(p: PreparedChange<S>, ctx: CommitContext): Promise<CommittedChange<S>> {
  const { change, before } = p;
  if (!p.needed) return unchanged(p);
  let opId: string | null = null;
  let requestId: string | undefined;
  let how: string | undefined;
  const result = await withAudit(
    ctx.audit,
    {
      tool: ctx.tool,
      vendor: change.vendor,
      target: change.target,
      args: { ...ctx.args, change: change.kind, via: change.via },
      allow: [...(ctx.allow ?? []), 'change', 'via'],
      actor: ctx.actor,
      confirmation: ctx.confirmation,
      confirmation_detail: ctx.confirmation === 'browser' || ctx.confirmation === 'app' ? ctx.confirmationDetail : undefined,
      before,
      plan_id: ctx.planId,
    },
    async (audit) => {
      opId = audit.op_id;
      const applied = await change.apply(before, ctx.signal);
      requestId = applied.requestId;
      how = applied.how;
      audit.vendor_request_id = applied.requestId;
      let after = applied.after;
      if (after === undefined) {
        try {
          after = await change.read(ctx.signal);
        } catch (err) {
          // The vendor accepted the write: a failed read-back must not record it as failed.
          const why = publicErrorText(err);
          return {
            after: change.expected?.(before),
            unverified: `${change.summary}: the vendor accepted the change, but reading the user back failed (${why}); check it with find_user.`,
            warnings: [] as string[],
          };
        }
      }
      audit.after = after;
      if (!change.satisfied(after)) {
        const lag = change.lagging?.(after);
        if (lag === undefined) {
          throw new VendorError({
            vendor: change.vendor,
            code: 'invalid_response',
            requestId: applied.requestId,
            message: `${change.summary}: the vendor accepted the change but, read again, does not show it; nothing more was sent. Check the account in the vendor's admin console before retrying.`,
          });
        }
        return { after, unverified: undefined, warnings: [lag] };
      }
      return { after, unverified: undefined, warnings: [] as string[] };
    },
  );
  return { changed: true, before, ...result, opId, requestId, how };
}
