import * as z from 'zod';

/*
 * Input types whose JSON Schema stays short. zod writes the whole validating regex of z.email() (~170 bytes)
 * and z.iso.datetime() (~550 bytes) into every tool's input schema, which every model reads on every
 * tools/list: here the same zod check runs on the server, and the schema says only `format`.
 */

const EMAIL = z.email();
const DATETIME = z.iso.datetime({ offset: true });

/** An email address (zod's own check), shown to the model as `{type: string, format: email}`. */
export function emailArg() {
  return z
    .string()
    .max(320)
    .refine((v) => EMAIL.safeParse(v).success, { message: 'Invalid email address' })
    .meta({ format: 'email' });
}

/** An ISO 8601 date-time with offset (zod's own check), shown as `{type: string, format: date-time}`. */
export function dateTimeArg() {
  return z
    .string()
    .refine((v) => DATETIME.safeParse(v).success, { message: 'Invalid ISO 8601 date-time, e.g. "2026-03-01T00:00:00Z"' })
    .meta({ format: 'date-time' });
}
