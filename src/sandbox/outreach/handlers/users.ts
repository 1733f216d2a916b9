import { isRecord, isTimeZone } from '../../values.js';
import { pathId, requireScope, respond, type OutreachCall } from '../http.js';
import { apiError, fail, failAll, included, listDocument, listOf, readDocument, serialize, type JsonApiError } from '../jsonapi.js';
import { userResource } from '../resources.js';
import type { SimUser } from '../seed.js';
import type { OutreachStore } from '../store.js';

/*
 * /users. Where the notes and the spec disagree:
 *
 * - `active` is read-only over REST: 422 when a PATCH/POST sets it. The notes' own deprovisioning recipe is
 *   `locked: true`.
 * - `email`: the notes say optional on update; the spec says "Cannot be updated via the API". We follow the
 *   spec: a PATCH that changes email is a 422.
 * - Request bodies must carry a string `data.id` (the spec types ids as integers; JSON:API and the notes say
 *   strings), so an adapter that would work only by luck against a lenient server fails here first.
 * - DELETE: the notes list a users.delete scope but also say there is no hard delete over REST, and the spec has
 *   no DELETE on users. 405.
 */

const READ_ONLY_ATTRIBUTES = new Set(['createdAt', 'updatedAt', 'currentSignInAt', 'lastSignInAt', 'name', 'active', 'id']);
type Writable = 'requiredString' | 'optionalString' | 'boolean' | 'timeZone' | 'email';
const WRITABLE_ATTRIBUTES: Record<string, Writable> = {
  firstName: 'requiredString',
  lastName: 'requiredString',
  email: 'email',
  username: 'optionalString',
  title: 'optionalString',
  locked: 'boolean',
  phoneNumber: 'optionalString',
  mobilePhoneNumber: 'optionalString',
  timeZone: 'timeZone',
  locale: 'optionalString',
  externalId: 'optionalString',
  externalSource: 'optionalString',
};
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Validates attributes and relationships; returns the changes to apply. Collects every 422 at once. */
function validateUserWrite(store: OutreachStore, data: Record<string, unknown>, existing: SimUser | undefined): Partial<SimUser> {
  const errors: JsonApiError[] = [];
  const changes: Partial<SimUser> = {};
  const attrs = data.attributes ?? {};
  if (!isRecord(attrs)) fail(400, 'data.attributes must be an object', { pointer: '/data/attributes' });
  for (const [name, value] of Object.entries(attrs)) {
    const pointer = `/data/attributes/${name}`;
    if (READ_ONLY_ATTRIBUTES.has(name)) {
      const why =
        name === 'active'
          ? 'is read-only over REST (SCIM sets it); deactivate with locked: true'
          : 'is read-only';
      errors.push(apiError(422, `${name} ${why}`, { pointer }));
      continue;
    }
    const kind = WRITABLE_ATTRIBUTES[name];
    if (!kind) {
      errors.push(apiError(422, `unknown attribute '${name}' (the sandbox models a subset of the user resource)`, { pointer }));
      continue;
    }
    switch (kind) {
      case 'requiredString':
        if (typeof value !== 'string' || !value.trim()) errors.push(apiError(422, `${name} can't be blank`, { pointer }));
        else (changes as Record<string, unknown>)[name] = value;
        break;
      case 'optionalString':
        if (value !== null && typeof value !== 'string') errors.push(apiError(422, `${name} must be a string or null`, { pointer }));
        else (changes as Record<string, unknown>)[name] = value;
        break;
      case 'boolean':
        if (typeof value !== 'boolean') errors.push(apiError(422, `${name} must be true or false`, { pointer }));
        else (changes as Record<string, unknown>)[name] = value;
        break;
      case 'timeZone':
        if (value !== null && (typeof value !== 'string' || !isTimeZone(value)))
          errors.push(apiError(422, `${name} must be an IANA time zone`, { pointer }));
        else changes.timeZone = value;
        break;
      case 'email':
        if (existing) {
          // The spec: "Cannot be updated via the API" (the notes say optional on update; see top).
          if (value !== existing.email) errors.push(apiError(422, 'email cannot be updated via the API', { pointer }));
        } else if (typeof value !== 'string' || !value.trim()) {
          errors.push(apiError(422, "email can't be blank", { pointer }));
        } else if (!EMAIL_RE.test(value)) {
          errors.push(apiError(422, 'email is invalid', { pointer }));
        } else {
          changes.email = value;
        }
        break;
    }
  }
  if (!existing) {
    for (const name of ['firstName', 'lastName', 'email'] as const) {
      if (!(name in attrs)) errors.push(apiError(422, `${name} can't be blank`, { pointer: `/data/attributes/${name}` }));
    }
    if (changes.email) {
      const lower = changes.email.toLowerCase();
      if (store.users.all().some((u) => u.email.toLowerCase() === lower)) {
        errors.push(apiError(422, 'email has already been taken', { pointer: '/data/attributes/email' }));
      }
    }
  }
  if (typeof changes.username === 'string') {
    const lower = changes.username.toLowerCase();
    if (store.users.all().some((u) => u !== existing && u.username.toLowerCase() === lower)) {
      errors.push(apiError(422, 'username has already been taken', { pointer: '/data/attributes/username' }));
    }
  }

  const rels = data.relationships ?? {};
  if (!isRecord(rels)) fail(400, 'data.relationships must be an object', { pointer: '/data/relationships' });
  for (const [name, rel] of Object.entries(rels)) {
    const pointer = `/data/relationships/${name}`;
    if (name !== 'role' && name !== 'profile') {
      errors.push(apiError(422, `relationship '${name}' is not supported by the sandbox`, { pointer }));
      continue;
    }
    if (!isRecord(rel) || !('data' in rel)) fail(400, `${name} must be a relationship object with data`, { pointer });
    const linkage = rel.data;
    if (linkage === null) {
      changes[name === 'role' ? 'roleId' : 'profileId'] = null;
      continue;
    }
    if (!isRecord(linkage)) fail(400, `${name}.data must be a resource identifier or null`, { pointer: `${pointer}/data` });
    if (typeof linkage.id !== 'string') fail(400, `${name}.data.id must be a string`, { pointer: `${pointer}/data/id` });
    if (linkage.type !== name) {
      errors.push(apiError(422, `${name}.data.type must be '${name}'`, { pointer: `${pointer}/data/type` }));
      continue;
    }
    const exists = name === 'role' ? store.roles.get(linkage.id) !== undefined : store.profiles.get(linkage.id) !== undefined;
    if (!exists) {
      errors.push(apiError(422, `${name} ${linkage.id} does not exist`, { pointer: `${pointer}/data/id` }));
      continue;
    }
    changes[name === 'role' ? 'roleId' : 'profileId'] = linkage.id;
  }
  if (errors.length) failAll(422, errors);
  return changes;
}

export function listUsers(c: OutreachCall): void {
  requireScope(c, 'users.read');
  respond(c, 200, listDocument(c, userResource, c.env.store.users.all(), c.url.searchParams, c.env.base));
}

export function getUser(c: OutreachCall): void {
  const id = pathId(c);
  requireScope(c, 'users.read');
  const u = c.env.store.users.get(id);
  if (!u) fail(404, `user ${id} not found`);
  const doc: Record<string, unknown> = { data: serialize(userResource, u, c.env.base) };
  for (const key of c.url.searchParams.keys()) {
    if (key !== 'include' && !key.startsWith('fields[')) fail(400, `unsupported query parameter '${key}'`, { parameter: key });
  }
  const inc = c.url.searchParams.get('include');
  if (inc) {
    const names = listOf(inc);
    const bad = names.find((n) => n !== 'role' && n !== 'profile');
    if (bad) fail(400, `cannot include '${bad}' on user`, { parameter: 'include' });
    doc.included = included(c, userResource, [u], names);
  }
  respond(c, 200, doc);
}

export async function createUser(c: OutreachCall): Promise<void> {
  requireScope(c, 'users.write');
  const { store } = c.env;
  const data = await readDocument(c.req);
  if (data.type === undefined) fail(400, 'data.type is required', { pointer: '/data/type' });
  if (data.type !== 'user') fail(409, `data.type must be 'user'`, { pointer: '/data/type' });
  // JSON:API: 403 for a client-generated id the server does not support.
  if (data.id !== undefined) fail(403, 'client-generated ids are not supported', { pointer: '/data/id' });
  const changes = validateUserWrite(store, data, undefined);
  const u = store.createUser({
    firstName: changes.firstName!,
    lastName: changes.lastName!,
    email: changes.email!,
    username: changes.username ?? changes.email!,
    // Created users are active and unlocked; no invitation email is sent (the notes).
    locked: changes.locked ?? false,
    active: true,
    title: changes.title ?? null,
    phoneNumber: changes.phoneNumber ?? null,
    mobilePhoneNumber: changes.mobilePhoneNumber ?? null,
    timeZone: changes.timeZone ?? null,
    locale: changes.locale ?? null,
    externalId: changes.externalId ?? null,
    externalSource: changes.externalSource ?? null,
    roleId: changes.roleId ?? null,
    profileId: changes.profileId ?? null,
  });
  respond(c, 201, { data: serialize(userResource, u, c.env.base) }, { Location: `${c.env.base}/users/${u.id}` });
}

export async function updateUser(c: OutreachCall): Promise<void> {
  const id = pathId(c);
  requireScope(c, 'users.write');
  const { store } = c.env;
  const data = await readDocument(c.req);
  const u = store.users.get(id);
  if (!u) fail(404, `user ${id} not found`);
  // JSON:API: type and id are required in the body; a mismatch with the endpoint is a 409.
  if (data.type === undefined) fail(400, 'data.type is required', { pointer: '/data/type' });
  if (data.id === undefined) fail(400, 'data.id is required and must equal the id in the path', { pointer: '/data/id' });
  // The spec types this id as integer; JSON:API and the notes say string. Strings only, see top.
  if (typeof data.id !== 'string') fail(400, 'data.id must be a string', { pointer: '/data/id' });
  if (data.type !== 'user') fail(409, `data.type must be 'user'`, { pointer: '/data/type' });
  if (data.id !== String(id)) fail(409, `data.id '${data.id}' does not match the path id ${id}`, { pointer: '/data/id' });
  // Rails semantics: a PATCH that changes nothing leaves updatedAt alone, so change pollers
  // (filter[updatedAt]) do not see phantom updates.
  store.update(u, validateUserWrite(store, data, u));
  respond(c, 200, { data: serialize(userResource, u, c.env.base) });
}

/** No hard delete through REST (the notes); the spec has no DELETE on users either. */
export function userNotAllowed(c: OutreachCall): never {
  pathId(c);
  fail(405, c.method === 'DELETE' ? 'users cannot be deleted via the REST API; PATCH locked: true instead' : `${c.method} not allowed`, undefined, {
    Allow: 'GET, PATCH',
  });
}
