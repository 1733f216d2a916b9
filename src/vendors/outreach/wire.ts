import * as z from 'zod';

/**
 * Outreach's JSON:API payloads (https://developers.outreach.io/api/reference/tag/User/), read leniently:
 * unknown attributes pass through, and every attribute may be absent because sparse fieldsets and partial
 * responses (the PATCH example in the notes returns only the changed attribute) omit them.
 */

const relationship = z
  .object({ data: z.object({ type: z.string(), id: z.coerce.string() }).nullable().optional() })
  .passthrough()
  .optional();

export const UserAttributes = z
  .object({
    firstName: z.string().nullish(),
    lastName: z.string().nullish(),
    email: z.string().nullish(),
    username: z.string().nullish(),
    locked: z.boolean().nullish(),
    active: z.boolean().nullish(),
    title: z.string().nullish(),
    createdAt: z.string().nullish(),
    updatedAt: z.string().nullish(),
    externalId: z.string().nullish(),
    externalSource: z.string().nullish(),
  })
  .passthrough();

export const UserResource = z.object({
  type: z.literal('user'),
  // Watch out for (notes, Get User): ids are integers in paths but strings in JSON:API bodies.
  id: z.coerce.string(),
  attributes: UserAttributes.default({}),
  relationships: z.object({ role: relationship, profile: relationship }).passthrough().optional(),
});
export type UserResource = z.infer<typeof UserResource>;

const listMeta = z.object({ count: z.number().int().nonnegative().optional() }).passthrough().optional();

export const UserDocument = z.object({ data: UserResource });
export const UserListDocument = z.object({ data: z.array(UserResource), meta: listMeta });

const NamedResource = z.object({
  type: z.string(),
  id: z.coerce.string(),
  attributes: z.object({ name: z.string().nullish() }).passthrough().default({}),
});
export type NamedResource = z.infer<typeof NamedResource>;
export const NamedListDocument = z.object({ data: z.array(NamedResource), meta: listMeta });

/** A JSON:API error document, as Outreach returns it. */
export const ErrorDocument = z.object({
  errors: z.array(
    z
      .object({
        id: z.string().optional(),
        title: z.string().optional(),
        detail: z.string().optional(),
        source: z.object({ pointer: z.string().optional(), parameter: z.string().optional() }).passthrough().optional(),
      })
      .passthrough(),
  ),
});
