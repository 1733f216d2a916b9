import type { RouteSpec } from '../router.js';
import { discovery } from './handlers/discovery.js';
import { APOLLO_NO_GROUPS } from './profiles.js';
import { fail } from './protocol.js';
import {
  createResource,
  deleteResource,
  getResource,
  itemMethodNotAllowed,
  listResources,
  patchRefused,
  patchResource,
  replaceResource,
  type PatchMode,
  type ResourceType,
  type ScimCall,
} from './resource.js';
import type { GroupRec, UserRec } from './seed.js';
import type { ScimRecord } from './store.js';

export interface ScimRoute extends RouteSpec {
  handler: (c: ScimCall) => unknown;
}

/*
 * Paths are relative to the vendor's SCIM base, with the endpoint segment lower-cased by the dispatcher (SCIM
 * endpoint names are matched case-insensitively here; ids are not). A path with no route is 404; a method a
 * collection path does not take is 405 with `Allow`.
 */

const unsupported = (detail: string) => (): never => fail(501, detail);

/** The routes of one resource type; `.search` and PATCH first, then the item methods, then 405. */
export function resourceRoutes<R extends ScimRecord>(type: ResourceType<R>, patchMode: PatchMode): ScimRoute[] {
  const path = `/${type.endpoint.toLowerCase()}`;
  return [
    { method: 'GET', path, handler: listResources(type) },
    { method: 'POST', path, handler: createResource(type) },
    { method: '*', path: `${path}/.search`, handler: unsupported(`POST /${type.endpoint}/.search is not supported; use GET /${type.endpoint}?filter=`) },
    { method: 'PATCH', path: `${path}/:id`, handler: patchMode === 'ok' ? patchResource(type) : patchRefused(type) },
    { method: 'GET', path: `${path}/:id`, handler: getResource(type) },
    { method: 'PUT', path: `${path}/:id`, handler: replaceResource(type) },
    { method: 'DELETE', path: `${path}/:id`, handler: deleteResource(type) },
    { method: '*', path: `${path}/:id`, handler: itemMethodNotAllowed(type) },
  ];
}

export function scimRoutes(o: { users: ResourceType<UserRec>; groups: ResourceType<GroupRec> | null; patchMode: PatchMode }): ScimRoute[] {
  return [
    ...resourceRoutes(o.users, o.patchMode),
    // Apollo, the notes: "Apollo supports users but not user groups during SSO/SCIM logins."
    ...(o.groups
      ? resourceRoutes(o.groups, o.patchMode)
      : [{ method: '*', path: '/groups/:id?', handler: unsupported(APOLLO_NO_GROUPS) }]),
    { method: 'GET', path: '/serviceproviderconfig/:id?', handler: discovery('ServiceProviderConfig') },
    { method: 'GET', path: '/resourcetypes/:id?', handler: discovery('ResourceTypes') },
    { method: 'GET', path: '/schemas/:id?', handler: discovery('Schemas') },
    { method: '*', path: '/bulk/:id?', handler: unsupported('Bulk operations are not supported (ServiceProviderConfig bulk.supported is false)') },
    { method: '*', path: '/me/:id?', handler: unsupported('/Me is not supported') },
    { method: '*', path: '/.search/:id?', handler: unsupported('POST /.search is not supported; use GET with filter=') },
  ];
}
