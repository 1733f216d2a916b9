import { APOLLO_NO_GROUPS, SEED_PROFILES } from '../profiles.js';
import { SCIM_SCHEMA, clone, fail, type Doc } from '../protocol.js';
import { reply, type ScimCall, type ScimEnv } from '../resource.js';

/*
 * Discovery (RFC 7644 4): /ServiceProviderConfig, /ResourceTypes and /Schemas, built from the resource types the
 * tenant serves. Like every endpoint here they need the bearer token (the notes: one long-lived SCIM token per
 * tenant), and filtering them is 403.
 */

type Kind = 'ServiceProviderConfig' | 'ResourceTypes' | 'Schemas';

function discoveryMeta(env: ScimEnv, resourceType: string, path: string) {
  const since = `${SEED_PROFILES[env.vendor].scimSince}T00:00:00.000Z`;
  return { resourceType, location: `${env.base}/${path}`, created: since, lastModified: since };
}

function serviceProviderConfig(env: ScimEnv) {
  const { behaviour } = env;
  return {
    schemas: [SCIM_SCHEMA.serviceProviderConfig, SCIM_SCHEMA.sandboxConfig],
    documentationUri: behaviour.documentationUri,
    patch: { supported: env.patchMode === 'ok' },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: env.maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: env.etag },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: `The long-lived SCIM token generated in ${behaviour.label}'s admin settings (not an OAuth access token)`,
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    // Not RFC 7643: /ResourceTypes already omits Group for Apollo; this says it in one place with the reason.
    [SCIM_SCHEMA.sandboxConfig]: {
      vendor: env.vendor,
      groups: { supported: behaviour.groups, ...(behaviour.groups ? { mapsTo: behaviour.groupsAre } : { detail: APOLLO_NO_GROUPS }) },
      userDelete: behaviour.userDelete === 'hide' ? 'deletes from SCIM (data kept, inactive)' : 'deactivates (active=false)',
      emailChangeInPlace: behaviour.emailChangeInPlace,
      invitations: behaviour.invitations,
    },
    meta: discoveryMeta(env, 'ServiceProviderConfig', 'ServiceProviderConfig'),
  };
}

function resourceTypes(env: ScimEnv): Doc[] {
  return env.types.map((t) => ({
    schemas: [SCIM_SCHEMA.resourceType],
    id: t.name,
    name: t.name,
    endpoint: `/${t.endpoint}`,
    description: t.description,
    schema: t.ctx.core.id,
    schemaExtensions: t.ctx.extensions.map((e) => ({ schema: e.id, required: false })),
    meta: discoveryMeta(env, 'ResourceType', `ResourceTypes/${t.name}`),
  }));
}

function schemaDocs(env: ScimEnv): Doc[] {
  return env.types
    .flatMap((t) => [t.ctx.core, ...t.ctx.extensions])
    .map((s) => ({
      schemas: [SCIM_SCHEMA.schema],
      id: s.id,
      name: s.name,
      description: s.description,
      attributes: clone(s.attributes),
      meta: discoveryMeta(env, 'Schema', `Schemas/${s.id}`),
    }));
}

function simpleList(items: Doc[]) {
  return { schemas: [SCIM_SCHEMA.listResponse], totalResults: items.length, startIndex: 1, itemsPerPage: items.length, Resources: items };
}

export function discovery(kind: Kind) {
  return (c: ScimCall) => {
    const { env } = c;
    const id = c.params.id;
    // RFC 7644 4: filtering discovery endpoints is not allowed.
    if (c.url.searchParams.has('filter')) fail(403, `filter is not allowed on /${kind}`);
    if (kind === 'ServiceProviderConfig') {
      if (id !== undefined) fail(404, `Resource ${id} not found`);
      return reply(c, 200, serviceProviderConfig(env));
    }
    const items = kind === 'ResourceTypes' ? resourceTypes(env) : schemaDocs(env);
    if (id === undefined) return reply(c, 200, simpleList(items));
    const hit = items.find((i) => String(i.id).toLowerCase() === id.toLowerCase());
    if (!hit) {
      fail(404, kind === 'ResourceTypes' && id.toLowerCase() === 'group' && !env.behaviour.groups ? APOLLO_NO_GROUPS : `Resource ${id} not found`);
    }
    return reply(c, 200, hit);
  };
}
