import * as z from 'zod';
import { restOf } from '../../src/deps.js';
import { ToolInputError } from '../../src/errors.js';
import { salesloftAdapter, type SalesloftRest } from '../../src/vendors/salesloft/adapter.js';
import type { SalesloftClient } from '../../src/vendors/salesloft/client.js';
import { SalesloftAccountSchema } from '../../src/vendors/salesloft/map.js';
import type { ToolContext } from '../types.js';
import { confirmTokenShape, integerUserRef } from '../user-ref.js';

export { SalesloftAccountSchema };

/** How a tool names one SalesLoft user: exactly one of id or email. */
export const { shape: userRefShape, ref: userRef } = integerUserRef({
  vendor: 'SalesLoft',
  maxDigits: 18,
  exampleId: '12345',
  emailScope: ', deactivated users included',
});

export const confirmShape = confirmTokenShape("the target user's exact email or id");

export function requireSalesloftRest(ctx: ToolContext): SalesloftRest {
  const r = restOf(ctx.deps, salesloftAdapter);
  if (!r) throw new ToolInputError('SalesLoft is not configured on this server (set SALESLOFT_API_KEY, or SALESLOFT_CLIENT_ID, SALESLOFT_CLIENT_SECRET and SALESLOFT_REFRESH_TOKEN); see list_connections for what is.');
  return r;
}

export function requireSalesloft(ctx: ToolContext): SalesloftClient {
  return requireSalesloftRest(ctx).client;
}

/** What a SalesLoft tool result reports about its cost against the team's shared budget. */
export const costShape = {
  requests: z.number().int().describe('SalesLoft requests this call made, e.g. 3'),
  cost: z
    .number()
    .int()
    .describe('SalesLoft rate-limit cost this call spent (x-ratelimit-endpoint-cost; the team shares 600 per minute with its other integrations), e.g. 3'),
};

/** The fields a SalesLoft write records in the audit log (never a secret). */
export const AUDIT_ARGS = ['id', 'email'];

/** The result of a SalesLoft user write read back through REST. */
export const userWriteOutputShape = {
  changed: z.boolean().describe('False when the user was already in the requested state (nothing was sent)'),
  before: SalesloftAccountSchema.describe('The user as read before the write'),
  after: SalesloftAccountSchema.describe('The user as SalesLoft reports it after the write'),
  confirmation: z.string().describe('How the write was confirmed: elicit, browser, token, or none (nothing was sent)'),
  audit_op_id: z.string().nullable().describe('Audit log operation id; null when nothing was written'),
  caveats: z.array(z.string()).describe('What the admin must still know'),
};
