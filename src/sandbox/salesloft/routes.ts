import type { RouteSpec } from '../router.js';
import { authorize, token } from './handlers/oauth.js';
import { groups, pendingInvitations, roles, teamMembers } from './handlers/team.js';
import { getUser, listUsers, me, updateUser, userNotAllowed } from './handlers/users.js';
import type { SalesloftCall } from './http.js';

export interface SalesloftRoute extends RouteSpec {
  /** Under /v2: returns the 200 answer's body (the dispatcher adds the rate-limit headers). Outside: answers itself. */
  handler: (c: SalesloftCall) => unknown;
}

/**
 * Under /v2, with a trailing `.json` dropped first: `/v2/users` (notes) and `/v2/users.json` (spec) are the same
 * route. A path with no route is 404; another method on a known path 405 with `Allow`.
 */
export const API_ROUTES: readonly SalesloftRoute[] = [
  { method: 'GET', path: '/me', handler: me },
  { method: 'GET', path: '/users', handler: listUsers },
  { method: 'GET', path: '/users/:id', handler: getUser },
  { method: 'PUT', path: '/users/:id', handler: updateUser },
  { method: 'PATCH', path: '/users/:id', handler: updateUser },
  { method: '*', path: '/users/:id', handler: userNotAllowed },
  { method: 'GET', path: '/team_members', handler: teamMembers },
  { method: 'GET', path: '/groups/:id?', handler: groups },
  { method: 'GET', path: '/roles', handler: (c) => roles(c, false) },
  { method: 'GET', path: '/custom_roles', handler: (c) => roles(c, true) },
  { method: 'GET', path: '/pending_email_accounts', handler: pendingInvitations },
];

/** Outside /v2: the OAuth endpoints (accounts.salesloft.com in production); anything else is a 404. */
export const ROOT_ROUTES: readonly SalesloftRoute[] = [
  { method: 'POST', path: '/oauth/token', handler: token },
  { method: 'GET', path: '/oauth/authorize', handler: authorize },
];
