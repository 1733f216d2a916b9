import * as z from 'zod';
import { ToolInputError } from '../src/errors.js';
import { emailArg } from './args.js';
import { tokenConfirmArg } from './types.js';

/*
 * How the REST tools of vendors with integer user ids (Outreach, SalesLoft) name one user: exactly one of
 * `id` or `email`. The SCIM tools name users by id or userName instead (tools/scim/shared.ts).
 */

export interface IntegerUserRef {
  /** The input fields `id` and `email`, described with the vendor's name and id example. */
  shape: {
    id: z.ZodOptional<z.ZodString>;
    email: z.ZodOptional<ReturnType<typeof emailArg>>;
  };
  /** The reference the client resolves, or a ToolInputError unless exactly one of id and email was given. */
  ref(args: { id?: string; email?: string }): { id?: string; email?: string };
}

export function integerUserRef(o: {
  vendor: string;
  /** The longest id the vendor issues, in digits. */
  maxDigits: number;
  exampleId: string;
  /** Said after "matched case-insensitively", e.g. which users the match covers. */
  emailScope?: string;
}): IntegerUserRef {
  return {
    shape: {
      id: z
        .string()
        .regex(new RegExp(`^[1-9]\\d{0,${o.maxDigits - 1}}$`), `${o.vendor} user ids are positive integers, e.g. "${o.exampleId}"`)
        .optional()
        .describe(`${o.vendor} user id, e.g. "${o.exampleId}"; or give email`),
      email: emailArg()
        .optional()
        .describe(`Login email (case-insensitive${o.emailScope ?? ''}); or give id`),
    },
    ref(args) {
      if ((args.id === undefined) === (args.email === undefined)) {
        throw new ToolInputError(`Give exactly one of \`id\` (e.g. "${o.exampleId}") or \`email\` (e.g. "jane.doe@acme.example").`);
      }
      return args.id !== undefined ? { id: args.id } : { email: args.email };
    },
  };
}

/** The `confirm` input of a write, for SALES_ACCESS_CONFIRM=token; `target` says what the user types. */
export function confirmTokenShape(target: string) {
  return {
    confirm: tokenConfirmArg(z.string().optional().describe(`Only with SALES_ACCESS_CONFIRM=token: ${target}, once the user approved`)),
  };
}
