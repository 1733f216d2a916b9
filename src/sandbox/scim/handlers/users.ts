import { SCIM_SCHEMA, clone, fail, type Doc } from '../protocol.js';
import { isRecord } from '../../values.js';
import { typeSchemas, meta, type ResourceType, type ScimEnv } from '../resource.js';
import { ENTERPRISE_USER_SCHEMA, SALESLOFT_USER_SCHEMA, USER_SCHEMA, primaryEmail } from '../schema.js';
import type { GroupRec, UserRec } from '../seed.js';
import type { ScimVendorBehaviour } from '../profiles.js';

/*
 * /Users: what differs from the shared protocol (resource.ts). `active` defaults to true on create; a PUT
 * without `active` keeps the current value (an unassigned `active` would leave clients unable to tell a seat's
 * state). userName is unique server-wide and case-insensitive (RFC 7643: caseExact=false). Vendor rules:
 * Apollo refuses an in-place email change; DELETE hides (Outreach) or deactivates (the others), see store.ts.
 */

function serializeUser(env: ScimEnv, u: UserRec, groupsOf?: Map<string, GroupRec[]>): Doc {
  const d = u.doc;
  const schemas: string[] = [SCIM_SCHEMA.user];
  const out: Doc = { schemas, id: u.id };
  if (d.externalId !== undefined) out.externalId = d.externalId;
  for (const a of USER_SCHEMA.attributes) {
    if (a.name === 'groups' || a.returned === 'never') continue;
    if (d[a.name] !== undefined) out[a.name] = clone(d[a.name]);
  }
  if (env.behaviour.groups) {
    const gs = (groupsOf ?? env.store.groupsOfIndex()).get(u.id) ?? [];
    out.groups = gs.map((g) => ({ value: g.id, $ref: `${env.base}/Groups/${g.id}`, display: g.doc.displayName, type: 'direct' }));
  }
  if (isRecord(d[SCIM_SCHEMA.enterpriseUser]) && Object.keys(d[SCIM_SCHEMA.enterpriseUser] as Doc).length) {
    schemas.push(SCIM_SCHEMA.enterpriseUser);
    out[SCIM_SCHEMA.enterpriseUser] = clone(d[SCIM_SCHEMA.enterpriseUser]);
  }
  if (env.behaviour.invitations) {
    // SalesLoft: `active: true` + invitationStatus 'pending' until the invitation email is accepted.
    schemas.push(SCIM_SCHEMA.salesloftUser);
    out[SCIM_SCHEMA.salesloftUser] = { invitationStatus: u.invitationStatus ?? 'accepted' };
  }
  out.meta = meta(env, 'User', u, 'Users');
  return out;
}

function validateUser(env: ScimEnv, doc: Doc, selfId: string | null, before?: Doc): void {
  if (typeof doc.userName !== 'string' || !doc.userName.trim()) fail(400, 'userName is required', 'invalidValue');
  if (typeof doc.active !== 'boolean') fail(400, 'active must be true or false', 'invalidValue');
  for (const name of ['emails', 'phoneNumbers', 'addresses', 'roles']) {
    const list = doc[name];
    if (!Array.isArray(list)) continue;
    if (list.filter((e) => isRecord(e) && e.primary === true).length > 1) fail(400, `at most one of ${name} may be primary`, 'invalidValue');
    if (name === 'emails' && list.some((e) => !isRecord(e) || typeof e.value !== 'string' || !e.value)) {
      fail(400, 'every email needs a value', 'invalidValue');
    }
  }
  // Linked Outreach lists the REST seed's case-variant seats (Dana.Lee@ next to dana.lee@), which predate
  // Outreach's uniqueness check; a write that keeps such a userName as it is must not fail on the old clash.
  if (env.store.linked && before && before.userName === doc.userName) return;
  const lower = doc.userName.toLowerCase();
  const clash = env.store.users.all().find((u) => !u.deleted && u.id !== selfId && (u.doc.userName as string).toLowerCase() === lower);
  // RFC 7643: userName uniqueness is server-wide and caseExact=false, so Dana.Lee@ clashes with dana.lee@.
  if (clash) fail(409, `userName ${doc.userName} is already taken by user ${clash.id}`, 'uniqueness');
}

function vendorUserRules(behaviour: ScimVendorBehaviour, before: Doc, after: Doc): void {
  if (!behaviour.emailChangeInPlace) {
    // Apollo, the notes: "Changing a user's primary email address requires unassigning and re-assigning the
    // user in the IdP; in-place email updates are not supported." userName is the login email there.
    const same = (a: unknown, b: unknown) => String(a ?? '').toLowerCase() === String(b ?? '').toLowerCase();
    if (!same(before.userName, after.userName) || !same(primaryEmail(before), primaryEmail(after))) {
      fail(
        400,
        `${behaviour.label} does not support changing a user's primary email or userName in place: unassign the user from the ${behaviour.label} app in the IdP, change the email, then reassign them`,
        'mutability',
      );
    }
  }
}

/** The User resource type of a tenant (SalesLoft's carries its invitation extension). */
export function userResource(behaviour: ScimVendorBehaviour): ResourceType<UserRec> {
  return {
    name: 'User',
    endpoint: 'Users',
    noun: 'resource',
    description: 'User Account',
    ...typeSchemas({
      core: USER_SCHEMA,
      extensions: behaviour.invitations ? [ENTERPRISE_USER_SCHEMA, SALESLOFT_USER_SCHEMA] : [ENTERPRISE_USER_SCHEMA],
    }),
    listing(env) {
      const idx = env.store.groupsOfIndex();
      return { records: env.store.liveUsers(), toDoc: (u) => serializeUser(env, env.store.hydrate(u), idx) };
    },
    find: (env, id) => env.store.visibleUser(id),
    serialize: (env, u) => serializeUser(env, u),
    create(env, doc) {
      if (doc.active === undefined) doc.active = true;
      validateUser(env, doc, null);
      return env.store.createUser(doc);
    },
    patchable: (u) => clone(u.doc),
    commit(env, u, doc, via) {
      if (via === 'put' && doc.active === undefined) doc.active = u.doc.active;
      validateUser(env, doc, u.id, u.doc);
      vendorUserRules(env.behaviour, u.doc, doc);
      env.store.replaceUser(u, doc);
    },
    remove: (env, u) => env.store.deleteUser(u),
    projectPatchAnswer: false,
  };
}
