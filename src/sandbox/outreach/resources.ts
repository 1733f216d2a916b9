import type { ResourceDef } from './jsonapi.js';
import { serialize } from './jsonapi.js';
import type { OutreachCall } from './http.js';
import type { OwnedRecordBase, SimAccount, SimMailbox, SimOpportunity, SimProspect, SimSequence, SimTask } from './book.js';
import type { SimProfile, SimRole, SimUser } from './seed.js';
import type { SimBatch } from './store.js';

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

// ---------------------------------------------------------------------------------------------------------
// What users own (book.ts), their mailboxes, and the batches that hand records over.

/** The related user of an owner (or mailbox user) relationship; undefined once SCIM DELETE removed the user. */
function relatedUser(c: OutreachCall, id: string) {
  const u = c.env.store.users.get(Number(id));
  return u ? serialize(userResource, u, c.env.base) : undefined;
}

/**
 * The `owner` relationship every owned type has. The spec: "You can use only the attribute id to filter
 * prospects by owner (e.g. filter[owner][id]=X)" (sequences and tasks also name email and firstName; only id is
 * modelled, the one the notes and clients use).
 */
function owned<T extends OwnedRecordBase>(): Pick<ResourceDef<T, OutreachCall>, 'id' | 'relationships'> & {
  filters: ResourceDef<T, OutreachCall>['filters'];
  sortable: ResourceDef<T, OutreachCall>['sortable'];
} {
  return {
    id: (r) => String(r.id),
    relationships: [{ name: 'owner', type: 'user', id: (r) => (r.ownerId === null ? null : String(r.ownerId)), related: relatedUser }],
    filters: {
      id: { kind: 'integer', get: (r) => r.id },
      owner: { kind: 'relationship', get: (r) => (r.ownerId === null ? null : String(r.ownerId)) },
      createdAt: { kind: 'time', get: (r) => r.createdAt },
      updatedAt: { kind: 'time', get: (r) => r.updatedAt },
    },
    sortable: { id: (r) => r.id, createdAt: (r) => r.createdAt, updatedAt: (r) => r.updatedAt },
  };
}

export const prospectResource: ResourceDef<SimProspect, OutreachCall> = {
  type: 'prospect',
  path: '/prospects',
  attributes: {
    company: (p) => p.company,
    createdAt: (p) => p.createdAt,
    emails: (p) => p.emails,
    firstName: (p) => p.firstName,
    lastName: (p) => p.lastName,
    name: (p) => `${p.firstName} ${p.lastName}`,
    title: (p) => p.title,
    updatedAt: (p) => p.updatedAt,
  },
  ...owned<SimProspect>(),
};

const accountBase = owned<SimAccount>();
export const accountResource: ResourceDef<SimAccount, OutreachCall> = {
  type: 'account',
  path: '/accounts',
  attributes: {
    createdAt: (a) => a.createdAt,
    domain: (a) => a.domain,
    name: (a) => a.name,
    named: (a) => a.named,
    updatedAt: (a) => a.updatedAt,
  },
  ...accountBase,
  filters: {
    ...accountBase.filters,
    named: { kind: 'boolean', get: (a) => a.named },
    name: { kind: 'text', get: (a) => a.name },
    domain: { kind: 'text', get: (a) => a.domain },
  },
};

const sequenceBase = owned<SimSequence>();
export const sequenceResource: ResourceDef<SimSequence, OutreachCall> = {
  type: 'sequence',
  path: '/sequences',
  attributes: {
    createdAt: (s) => s.createdAt,
    enabled: (s) => s.enabled,
    name: (s) => s.name,
    sequenceType: (s) => s.sequenceType,
    shareType: (s) => s.shareType,
    updatedAt: (s) => s.updatedAt,
  },
  ...sequenceBase,
  filters: {
    ...sequenceBase.filters,
    name: { kind: 'text', get: (s) => s.name },
    shareType: { kind: 'text', get: (s) => s.shareType },
    enabled: { kind: 'boolean', get: (s) => s.enabled },
  },
};

const opportunityBase = owned<SimOpportunity>();
export const opportunityResource: ResourceDef<SimOpportunity, OutreachCall> = {
  type: 'opportunity',
  path: '/opportunities',
  attributes: {
    amount: (o) => o.amount,
    createdAt: (o) => o.createdAt,
    name: (o) => o.name,
    updatedAt: (o) => o.updatedAt,
  },
  ...opportunityBase,
  filters: { ...opportunityBase.filters, name: { kind: 'text', get: (o) => o.name } },
};

const taskBase = owned<SimTask>();
export const taskResource: ResourceDef<SimTask, OutreachCall> = {
  type: 'task',
  path: '/tasks',
  attributes: {
    action: (t) => t.action,
    completed: (t) => t.state === 'complete',
    completedAt: (t) => t.completedAt,
    createdAt: (t) => t.createdAt,
    dueAt: (t) => t.dueAt,
    state: (t) => t.state,
    updatedAt: (t) => t.updatedAt,
  },
  ...taskBase,
  filters: {
    ...taskBase.filters,
    // The spec: "Can be 'pending', 'incomplete', or 'complete'".
    state: { kind: 'exact', get: (t) => t.state },
    completed: { kind: 'boolean', get: (t) => t.state === 'complete' },
    dueAt: { kind: 'time', get: (t) => t.dueAt },
  },
  sortable: { ...taskBase.sortable, dueAt: (t) => t.dueAt },
};

/** The spec: "The user owning this mailbox. You can use only the attribute id to filter mailboxes by user". */
export const mailboxResource: ResourceDef<SimMailbox, OutreachCall> = {
  type: 'mailbox',
  path: '/mailboxes',
  id: (m) => String(m.id),
  attributes: {
    createdAt: (m) => m.createdAt,
    email: (m) => m.email,
    emailProvider: (m) => m.emailProvider,
    providerType: (m) => m.providerType,
    sendDisabled: (m) => m.sendDisabled,
    syncDisabled: (m) => m.syncDisabled,
    updatedAt: (m) => m.updatedAt,
    userId: (m) => m.userId,
  },
  relationships: [{ name: 'user', type: 'user', id: (m) => String(m.userId), related: relatedUser }],
  filters: {
    id: { kind: 'integer', get: (m) => m.id },
    user: { kind: 'relationship', get: (m) => String(m.userId) },
    userId: { kind: 'integer', get: (m) => m.userId },
    email: { kind: 'text', get: (m) => m.email },
    updatedAt: { kind: 'time', get: (m) => m.updatedAt },
  },
  sortable: { id: (m) => m.id, email: (m) => m.email, userId: (m) => m.userId, updatedAt: (m) => m.updatedAt },
};

/**
 * The spec's batch: `total` items, `confirmCount` of them to change (those that exist), `pending` until it runs,
 * `failures` once it ran (targets that do not exist), and a `summary` naming them.
 */
export const batchResource: ResourceDef<SimBatch, OutreachCall> = {
  type: 'batch',
  path: '/batches',
  id: (b) => String(b.id),
  attributes: {
    action: (b) => b.action,
    canceledAt: (b) => b.canceledAt,
    confirmCount: (b) => b.ids.length - b.missing.length,
    confirmedAt: (b) => b.confirmedAt,
    confirmedCountRequired: (b) => b.confirmationRequired,
    createdAt: (b) => b.createdAt,
    failures: (b) => (b.state === 'finished' ? b.missing.length : 0),
    finishedAt: (b) => b.finishedAt,
    payload: (b) => ({ ids: b.ids, ownerId: b.ownerId }),
    pending: (b) => (b.state === 'pending' ? b.ids.length : 0),
    startedAt: (b) => b.startedAt,
    state: (b) => b.state,
    summary: (b) =>
      b.state === 'finished'
        ? { succeeded: b.ids.length - b.missing.length, failed: b.missing.length, failures: b.missing.map((id) => ({ id, detail: `${b.target.slice(0, -1)} ${id} not found` })) }
        : null,
    total: (b) => b.ids.length,
    updatedAt: (b) => b.updatedAt,
  },
  relationships: [{ name: 'creator', type: 'user', id: (b) => (b.creatorId === null ? null : String(b.creatorId)), related: relatedUser }],
  filters: {
    id: { kind: 'integer', get: (b) => b.id },
    state: { kind: 'exact', get: (b) => b.state },
    action: { kind: 'exact', get: (b) => b.action },
  },
  sortable: { id: (b) => b.id, createdAt: (b) => b.createdAt, state: (b) => b.state },
};
