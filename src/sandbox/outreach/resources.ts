import type { ResourceDef } from './jsonapi.js';
import { serialize } from './jsonapi.js';
import type { OutreachCall } from './http.js';
import type { SimProfile, SimRole, SimUser } from './seed.js';

/*
 * Outreach's resource types as JSON:API sees them: attributes in the order served, relationships, filters and
 * sort keys. A new resource type is one more ResourceDef here (and a collection in the store, handlers, routes).
 *
 * - ids: the spec types `id` as integer everywhere; the notes and JSON:API say bodies carry strings. We serve
 *   strings (and handlers/users.ts refuses a non-string `data.id` in request bodies).
 * - `active`: the notes list it; the spec's user schema has no `active` at all. We serve it (it is how SCIM
 *   deprovisioning shows), read-only over REST.
 * - `timeZone`, `locale`, `mobilePhoneNumber`, `externalId`, `externalSource`: in the notes, not in the spec
 *   (which has scimExternalId/scimSource). We follow the notes.
 */

/** What every named catalog resource (roles, profiles) filters and sorts by: its id and its name. */
function byIdAndName<T extends { id: string; name: string }>(): Pick<ResourceDef<T, OutreachCall>, 'id' | 'filters' | 'sortable'> {
  return {
    id: (i) => i.id,
    filters: { id: { kind: 'exact', get: (i) => i.id }, name: { kind: 'text', get: (i) => i.name } },
    sortable: { id: (i) => Number(i.id), name: (i) => i.name },
  };
}

export const roleResource: ResourceDef<SimRole, OutreachCall> = {
  type: 'role',
  path: '/roles',
  attributes: { createdAt: (r) => r.createdAt, externalId: () => null, name: (r) => r.name, updatedAt: (r) => r.updatedAt },
  ...byIdAndName<SimRole>(),
};

export const profileResource: ResourceDef<SimProfile, OutreachCall> = {
  type: 'profile',
  path: '/profiles',
  attributes: {
    createdAt: (p) => p.createdAt,
    isAdmin: (p) => p.isAdmin,
    name: (p) => p.name,
    specialId: (p) => p.specialId,
    updatedAt: (p) => p.updatedAt,
  },
  ...byIdAndName<SimProfile>(),
};

export const userResource: ResourceDef<SimUser, OutreachCall> = {
  type: 'user',
  path: '/users',
  id: (u) => String(u.id),
  attributes: {
    createdAt: (u) => u.createdAt,
    currentSignInAt: (u) => u.currentSignInAt,
    email: (u) => u.email,
    externalId: (u) => u.externalId,
    externalSource: (u) => u.externalSource,
    firstName: (u) => u.firstName,
    lastName: (u) => u.lastName,
    lastSignInAt: (u) => u.lastSignInAt,
    locale: (u) => u.locale,
    locked: (u) => u.locked,
    active: (u) => u.active,
    mobilePhoneNumber: (u) => u.mobilePhoneNumber,
    name: (u) => `${u.firstName} ${u.lastName}`,
    phoneNumber: (u) => u.phoneNumber,
    timeZone: (u) => u.timeZone,
    title: (u) => u.title,
    updatedAt: (u) => u.updatedAt,
    username: (u) => u.username,
  },
  relationships: [
    { name: 'role', type: 'role', id: (u) => u.roleId, related: (c, id) => serialize(roleResource, c.env.store.roles.get(id)!, c.env.base) },
    { name: 'profile', type: 'profile', id: (u) => u.profileId, related: (c, id) => serialize(profileResource, c.env.store.profiles.get(id)!, c.env.base) },
  ],
  filters: {
    email: { kind: 'text', get: (u) => u.email },
    username: { kind: 'text', get: (u) => u.username },
    firstName: { kind: 'text', get: (u) => u.firstName },
    lastName: { kind: 'text', get: (u) => u.lastName },
    locked: { kind: 'boolean', get: (u) => u.locked },
    id: { kind: 'integer', get: (u) => u.id },
    updatedAt: { kind: 'time', get: (u) => u.updatedAt },
    createdAt: { kind: 'time', get: (u) => u.createdAt },
    currentSignInAt: { kind: 'time', get: (u) => u.currentSignInAt },
    role: { kind: 'relationship', get: (u) => u.roleId },
    profile: { kind: 'relationship', get: (u) => u.profileId },
  },
  sortable: {
    id: (u) => u.id,
    createdAt: (u) => u.createdAt,
    updatedAt: (u) => u.updatedAt,
    email: (u) => u.email.toLowerCase(),
    firstName: (u) => u.firstName,
    lastName: (u) => u.lastName,
    username: (u) => u.username,
  },
};
