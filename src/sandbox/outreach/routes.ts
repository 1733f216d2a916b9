import type { RouteSpec } from '../router.js';
import { assignOwner, cancelBatch, confirmBatch, getBatch, listBatches } from './handlers/batches.js';
import { catalog } from './handlers/catalog.js';
import { authorize, token } from './handlers/oauth.js';
import { createUser, getUser, listUsers, updateUser, userNotAllowed } from './handlers/users.js';
import { deleteMailbox, getMailbox, listMailboxes, ownedReads, ownerPatch, reassignTaskOwner } from './handlers/records.js';
import type { OutreachCall } from './http.js';
import { accountResource, opportunityResource, profileResource, prospectResource, roleResource, sequenceResource, taskResource } from './resources.js';

export interface OutreachRoute extends RouteSpec {
  handler: (c: OutreachCall) => unknown;
}

const roles = catalog(roleResource, 'roles.read', (s) => s.roles);
const profiles = catalog(profileResource, 'profiles.read', (s) => s.profiles);
const prospects = ownedReads(prospectResource, 'prospects');
const accounts = ownedReads(accountResource, 'accounts');
const sequences = ownedReads(sequenceResource, 'sequences');
const opportunities = ownedReads(opportunityResource, 'opportunities');
const tasks = ownedReads(taskResource, 'tasks');

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
  // What users own, and handing it over (handlers/records.ts, handlers/batches.ts).
  { method: 'GET', path: '/prospects', handler: prospects.list },
  { method: 'GET', path: '/prospects/:id', handler: prospects.get },
  { method: 'GET', path: '/accounts', handler: accounts.list },
  { method: 'GET', path: '/accounts/:id', handler: accounts.get },
  { method: 'GET', path: '/sequences', handler: sequences.list },
  { method: 'GET', path: '/sequences/:id', handler: sequences.get },
  { method: 'PATCH', path: '/sequences/:id', handler: ownerPatch(sequenceResource, 'sequences') },
  { method: 'GET', path: '/opportunities', handler: opportunities.list },
  { method: 'GET', path: '/opportunities/:id', handler: opportunities.get },
  { method: 'PATCH', path: '/opportunities/:id', handler: ownerPatch(opportunityResource, 'opportunities') },
  { method: 'GET', path: '/tasks', handler: tasks.list },
  { method: 'GET', path: '/tasks/:id', handler: tasks.get },
  { method: 'POST', path: '/tasks/:id/actions/reassignOwner', handler: reassignTaskOwner },
  { method: 'GET', path: '/mailboxes', handler: listMailboxes },
  { method: 'GET', path: '/mailboxes/:id', handler: getMailbox },
  { method: 'DELETE', path: '/mailboxes/:id', handler: deleteMailbox },
  { method: 'POST', path: '/batches/actions/prospectsAssignOwner', handler: assignOwner('prospects') },
  { method: 'POST', path: '/batches/actions/accountsAssignOwner', handler: assignOwner('accounts') },
  { method: 'GET', path: '/batches', handler: listBatches },
  { method: 'GET', path: '/batches/:id', handler: getBatch },
  { method: 'POST', path: '/batches/:id/actions/confirm', handler: confirmBatch },
  { method: 'POST', path: '/batches/:id/actions/cancel', handler: cancelBatch },
];

/** Outside /api/v2: the OAuth endpoints; anything else is a plain JSON 404. */
export const ROOT_ROUTES: readonly OutreachRoute[] = [
  { method: 'GET', path: '/oauth/authorize', handler: authorize },
  { method: 'POST', path: '/oauth/token', handler: token },
];
