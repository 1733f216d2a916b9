import type { Change } from '../src/vendors/adapter.js';
import { commitChange, prepareChange, unchanged, type CommittedChange } from '../src/workflows/apply-change.js';
import type { ToolContext } from './types.js';

export interface ChangeToolOptions<S> {
  tool: string;
  /** The state the tool just read to resolve the target (then it is not read again). */
  known?: S;
  /** The `confirm` argument, for SALES_ACCESS_CONFIRM=token. */
  confirmArg: string | undefined;
  /** Exact values the `confirm` argument may name (the target's id, email…). */
  tokenMatches: string[];
  /** Tool arguments; only `allow` keys reach the audit log. */
  args: Record<string, unknown>;
  allow: readonly string[];
}

export type ChangeToolResult<S> = CommittedChange<S> & { confirmation: string };

/**
 * A destructive tool's one write: read (unless known), and when something must change, ask the human through
 * the confirmation gate, then commit through the shared write path (audit, apply, read back, verify).
 * Nothing is asked when the target is already in the requested state.
 */
export async function runChange<S>(ctx: ToolContext, change: Change<S>, o: ChangeToolOptions<S>): Promise<ChangeToolResult<S>> {
  const prepared = await prepareChange(change, ctx.signal, o.known);
  if (!prepared.needed) return { ...unchanged(prepared), confirmation: 'none' };
  const { method } = await ctx.confirm({
    tool: o.tool,
    summary: change.summary,
    targets: [{ vendor: change.vendor, id: change.target.id, email: change.target.email, action: change.action }],
    notes: change.caveats,
    tokenMatches: o.tokenMatches,
    confirmArg: o.confirmArg,
  });
  const committed = await commitChange(prepared, {
    audit: ctx.deps.audit,
    tool: o.tool,
    actor: ctx.actor,
    confirmation: method,
    confirmationDetail: ctx.confirmationDetail(),
    args: o.args,
    allow: o.allow,
    signal: ctx.signal,
  });
  return { ...committed, confirmation: method };
}
