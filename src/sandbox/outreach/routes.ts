import type { RouteSpec } from '../router.js';
import { catalog } from './handlers/catalog.js';
import { authorize, token } from './handlers/oauth.js';
import { createUser, getUser, listUsers, updateUser, userNotAllowed } from './handlers/users.js';
import type { OutreachCall } from './http.js';
import { profileResource, roleResource } from './resources.js';

export interface OutreachRoute extends RouteSpec {
  handler: (c: OutreachCall) => unknown;
}

const roles = catalog(roleResource, 'roles.read', (s) => s.roles);
const profiles = catalog(profileResource, 'profiles.read', (s) => s.profiles);

/**
 * The JSON:API under /api/v2 (authenticated and rate-limited first). A path with no route is 404; another method
 * on a known path is 405 `<METHOD> not allowed on /<collection>` with `Allow`, except on a user, where the id is
 * checked first and DELETE says why it is refused.
 */
export const API_ROUTES: readonly OutreachRoute[] = [
  { method: 'GET', path: '/users', handler: listUsers },
  { method: 'POST', path: '/users', handler: createUser },
  { method: 'GET', path: '/users/:id', handler: getUser },
  { method: 'PATCH', path: '/users/:id', handler: updateUser },
  { method: '*', path: '/users/:id', handler: userNotAllowed },
  { method: 'GET', path: '/roles', handler: roles.list },
  { method: 'GET', path: '/roles/:id', handler: roles.get },
  { method: 'GET', path: '/profiles', handler: profiles.list },
  { method: 'GET', path: '/profiles/:id', handler: profiles.get },
];

/** Outside /api/v2: the OAuth endpoints; anything else is a plain JSON 404. */
export const ROOT_ROUTES: readonly OutreachRoute[] = [
  { method: 'GET', path: '/oauth/authorize', handler: authorize },
  { method: 'POST', path: '/oauth/token', handler: token },
];
