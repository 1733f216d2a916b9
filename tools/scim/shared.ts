import * as z from 'zod';
import { ToolInputError } from '../../src/errors.js';
import type { VendorAdapter } from '../../src/vendors/adapter.js';
import { scimEnvNames } from '../../src/vendors/connection.js';
import type { ScimClient } from '../../src/vendors/scim/client.js';
import { ScimAccountSchema, ScimGroupSchema, scimToAccount, type ScimAccount } from '../../src/vendors/scim/map.js';
import type { ScimUser } from '../../src/vendors/scim/wire.js';
import type { AuditContext } from '../../src/audit/audit-log.js';
import { auditedWrite } from '../audited-write.js';
import type { ToolContext, VendorIds } from '../types.js';
import { confirmTokenShape } from '../user-ref.js';

export { ScimAccountSchema, ScimGroupSchema, scimToAccount };

/** The `connection` argument: which vendor's SCIM connection, among the registered vendors. */
export function connectionShape(vendorIds: VendorIds) {
  return {
    connection: z
      .enum(vendorIds)
      .describe('The vendor whose SCIM connection to use'),
  };
}

/** The vendor adapter behind `connection` (its label and SCIM notes). */
export function scimAdapter(ctx: ToolContext, connection: string): VendorAdapter {
  const adapter = ctx.deps.registry.find((a) => a.id === connection);
  if (!adapter) throw new ToolInputError(`\`connection\`: no vendor "${connection}". Known: ${ctx.deps.registry.map((a) => a.id).join(', ')}.`);
  return adapter;
}

/** The SCIM client of `connection`, or an error naming the variables to set. */
export function requireScim(ctx: ToolContext, connection: string): ScimClient {
  const adapter = scimAdapter(ctx, connection);
  const client = ctx.deps.vendors.find((c) => c.adapter === adapter)?.scim;
  if (client) return client;
  const env = scimEnvNames(adapter);
  const url = adapter.scim.defaultUrl ? `${env.url} (default ${adapter.scim.defaultUrl})` : `${env.url} (the tenant URL shown in the vendor's SSO/SCIM settings)`;
  throw new ToolInputError(
    `The ${adapter.label} SCIM connection is not configured on this server: set ${env.token} and ${url}, then restart it. list_connections shows what is configured.`,
  );
}

/** How a tool names one SCIM user: exactly one of id or user_name. */
export const userRefShape = {
  id: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('SCIM user id; or give user_name'),
  user_name: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe('SCIM userName, usually the email (case-insensitive); or give id'),
};

export function userRef(args: { id?: string; user_name?: string }): { id?: string; userName?: string } {
  if ((args.id === undefined) === (args.user_name === undefined)) {
    throw new ToolInputError('Give exactly one of `id` (the SCIM user id) or `user_name` (e.g. "jane.doe@acme.example").');
  }
  return args.id !== undefined ? { id: args.id } : { userName: args.user_name };
}

export const confirmShape = confirmTokenShape("the target's exact id or userName");

/** Tool arguments a SCIM write records in the audit log (never a secret). */
export const AUDIT_ARGS = ['connection', 'id', 'user_name', 'email', 'given_name', 'family_name', 'display_name', 'title', 'external_id', 'active', 'group_id', 'add', 'remove'];

export function describeUser(a: ScimAccount): string {
  return `${a.user_name ?? a.email ?? '(no userName)'} (id ${a.id})`;
}

export function tokenMatches(a: ScimAccount): string[] {
  return [a.id, ...(a.user_name ? [a.user_name] : []), ...(a.email && a.email !== a.user_name ? [a.email] : [])];
}

export function toAccount(client: ScimClient, user: ScimUser): ScimAccount {
  return scimToAccount(client.vendor, user);
}

/**
 * One approved write to a SCIM user: the human approves `action` on `before` (with SALES_ACCESS_CONFIRM=token
 * by typing its id or userName), then `write` runs between the audit intent and outcome lines.
 */
export async function confirmedUserWrite<T>(
  ctx: ToolContext,
  w: {
    tool: string;
    connection: string;
    before: ScimAccount;
    /** What the approval asks about, naming the user. */
    summary: string;
    action: string;
    notes: string[];
    confirmArg: string | undefined;
    /** Tool arguments; only AUDIT_ARGS reach the audit log. */
    args: Record<string, unknown>;
  },
  write: (audit: AuditContext) => Promise<T>,
): Promise<{ value: T; opId: string; confirmation: string }> {
  const { before } = w;
  const { method: confirmation } = await ctx.confirm({
    tool: w.tool,
    summary: w.summary,
    targets: [{ vendor: w.connection, id: before.id, email: before.email, action: w.action }],
    notes: w.notes,
    tokenMatches: tokenMatches(before),
    confirmArg: w.confirmArg,
  });
  const { value, opId } = await auditedWrite(
    ctx,
    { tool: w.tool, vendor: w.connection, target: { id: before.id, email: before.email }, args: w.args, allow: AUDIT_ARGS, confirmation, before },
    write,
  );
  return { value, opId, confirmation };
}

/** The `connection` field of every SCIM tool result. */
export const connectionOutputShape = {
  connection: z.string().describe('The SCIM connection used, e.g. "salesloft"'),
};

export const userWriteOutputShape = {
  ...connectionOutputShape,
  changed: z.boolean().describe('False when the user already had the requested state (nothing was sent)'),
  method: z.enum(['patch', 'put', 'none']).describe('How the change was sent: patch (PatchOp), put (whole resource, when the server has no PATCH) or none'),
  before: ScimAccountSchema.describe('The user as read before the write'),
  after: ScimAccountSchema.describe('The user as the server reports it after the write (re-read)'),
  confirmation: z.string().describe('How the write was confirmed: elicit, browser, token, or none (nothing was sent)'),
  audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
};

/** Paging inputs shared by the list tools. */
export const pagingShape = {
  start_index: z.number().int().min(1).default(1).describe('1-based SCIM startIndex, e.g. 101 for the second page of 100'),
  count: z.number().int().min(1).max(1000).default(100).describe('Results per page (the server may cap it)'),
  all: z.boolean().default(false).describe('true: every page instead of one'),
};

/** The start index of the page after one that began at `startIndex` and held `returned` items, or null. */
export function nextStartIndex(startIndex: number, returned: number, total: number | undefined, count: number): number | null {
  if (returned === 0) return null;
  const next = startIndex + returned;
  if (total !== undefined) return next <= total ? next : null;
  return returned < count ? null : next;
}
