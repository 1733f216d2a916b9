import * as z from 'zod';

/**
 * The output field of every tool that makes side lookups (names, invitations, usage counters, SCIM
 * capabilities): when one fails the result stays whole and this says what it lacks and how to fix it. The
 * tool runtime fills it (src/side-lookup.ts); a handler need not set it.
 */
export const warningsShape = {
  warnings: z
    .array(z.string())
    .optional()
    .describe('Lookups beside the data asked for that failed (role or group names, invitations, usage counters…): what this result lacks and how to fix it (the scope to add, the plan needed); empty when none'),
};
