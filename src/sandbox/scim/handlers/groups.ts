import { SCIM_SCHEMA, clone, fail, type Doc } from '../protocol.js';
import { isRecord } from '../../values.js';
import { meta, typeSchemas, type ResourceType, type ScimEnv } from '../resource.js';
import { GROUP_SCHEMA } from '../schema.js';
import type { ScimVendorBehaviour } from '../profiles.js';
import type { GroupRec } from '../seed.js';

/*
 * /Groups: what differs from the shared protocol (resource.ts). Members are users only (no nested groups),
 * stored as ids beside the document. `displayName` is unique (case-insensitive) within a tenant: Okta group
 * push finds groups by `displayName eq`, and Outreach team names are unique. Apollo has no /Groups at all
 * (routes.ts).
 */

function serializeGroup(env: ScimEnv, g: GroupRec): Doc {
  const out: Doc = { schemas: [SCIM_SCHEMA.group], id: g.id };
  if (g.doc.externalId !== undefined) out.externalId = g.doc.externalId;
  out.displayName = g.doc.displayName;
  out.members = g.memberIds.map((id) => {
    const u = env.store.users.get(id);
    return { value: id, $ref: `${env.base}/Users/${id}`, display: (u?.doc.displayName as string | undefined) ?? (u?.doc.userName as string | undefined), type: 'User' };
  });
  out.meta = meta(env, 'Group', g, 'Groups');
  return out;
}

/** The member ids of a group document (deduplicated), which leaves the document: they are stored beside it. */
function takeMemberIds(env: ScimEnv, doc: Doc): string[] {
  const list = Array.isArray(doc.members) ? (doc.members as unknown[]) : [];
  const ids: string[] = [];
  for (const m of list) {
    if (!isRecord(m) || typeof m.value !== 'string') fail(400, 'every member needs a value (a user id)', 'invalidValue');
    if (m.type !== undefined && String(m.type).toLowerCase() !== 'user') fail(400, `only users can be members (got type ${String(m.type)}); nested groups are not supported`, 'invalidValue');
    const u = env.store.users.get(m.value);
    if (!u || u.deleted) fail(400, `member ${m.value} is not a user in this ${env.behaviour.label} tenant`, 'invalidValue');
    if (!ids.includes(m.value)) ids.push(m.value);
  }
  delete doc.members;
  return ids;
}

function validateGroup(env: ScimEnv, doc: Doc, selfId: string | null): void {
  if (typeof doc.displayName !== 'string' || !doc.displayName.trim()) fail(400, 'displayName is required', 'invalidValue');
  const lower = doc.displayName.toLowerCase();
  const clash = env.store.groups.all().find((g) => g.id !== selfId && (g.doc.displayName as string).toLowerCase() === lower);
  if (clash) fail(409, `a group named ${doc.displayName} already exists (${clash.id})`, 'uniqueness');
}

export function groupResource(behaviour: ScimVendorBehaviour): ResourceType<GroupRec> {
  return {
    name: 'Group',
    endpoint: 'Groups',
    noun: 'group',
    description: behaviour.groupsAre ? `Group (${behaviour.groupsAre})` : 'Group',
    ...typeSchemas({ core: GROUP_SCHEMA, extensions: [] }),
    listing: (env) => ({ records: env.store.groups.all(), toDoc: (g) => serializeGroup(env, g) }),
    find: (env, id) => env.store.groups.get(id),
    serialize: serializeGroup,
    create(env, doc) {
      validateGroup(env, doc, null);
      return env.store.createGroup(doc, takeMemberIds(env, doc));
    },
    // PATCH works on the members as an attribute of the document, like the IdPs address them.
    patchable: (g) => ({ ...clone(g.doc), members: g.memberIds.map((m) => ({ value: m })) }),
    commit(env, g, doc) {
      validateGroup(env, doc, g.id);
      env.store.replaceGroup(g, doc, takeMemberIds(env, doc));
    },
    remove: (env, g) => void env.store.groups.delete(g),
    projectPatchAnswer: true,
  };
}
