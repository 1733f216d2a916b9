import { withAudit, type AuditContext } from '../src/audit/audit-log.js';
import type { VendorId } from '../src/domain/account.js';
import type { ToolContext } from './types.js';

export interface WriteIntent {
  tool: string;
  vendor: VendorId;
  target: { id: string | null; email: string | null };
  /** Tool arguments; only the `allow` keys reach the audit log. */
  args: Record<string, unknown>;
  allow: string[];
  confirmation: string;
  before: unknown;
  planId?: string;
}

/**
 * Runs one vendor write between an audit `intent` line and an `outcome` line (each fsynced before going
 * on), with the tool's actor. `fn` fills in `audit.after` and `audit.vendor_request_id`.
 */
export async function auditedWrite<T>(ctx: ToolContext, w: WriteIntent, fn: (audit: AuditContext) => Promise<T>): Promise<{ value: T; opId: string }> {
  let opId = '';
  const value = await withAudit(
    ctx.deps.audit,
    {
      tool: w.tool,
      vendor: w.vendor,
      target: w.target,
      args: w.args,
      allow: w.allow,
      actor: ctx.actor,
      confirmation: w.confirmation,
      confirmation_detail: w.confirmation === 'browser' || w.confirmation === 'app' ? ctx.confirmationDetail() : undefined,
      before: w.before,
      plan_id: w.planId,
    },
    (audit) => {
      opId = audit.op_id;
      return fn(audit);
    },
  );
  return { value, opId };
}
