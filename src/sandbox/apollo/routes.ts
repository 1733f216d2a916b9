import { apiUsageStats, creditUsageStats } from './handlers/usage.js';
import { createContact, searchContacts } from './handlers/contacts.js';
import { bulkMatch, match, searchPeople } from './handlers/people.js';
import { apiProfile, authHealth, listTeammates } from './handlers/teammates.js';
import type { ApolloEndpoint } from './http.js';
import {
  listEmailAccounts,
  searchAccounts,
  searchDeals,
  searchSequences,
  searchTasks,
  updateDeal,
  updateOwners,
  updateSequence,
  showTask, updateTask,
} from './handlers/records.js';

/** The endpoints under /api/v1, by Apollo's name: an answered request is counted in the endpoint's windows. */
export const ROUTES: readonly ApolloEndpoint[] = [
  { name: 'api/v1/users/search', method: 'GET', path: '/users/search', scope: 'users_list', handler: listTeammates },
  { name: 'api/v1/users/index', method: 'GET', path: '/users', scope: 'users_list', handler: listTeammates },
  { name: 'api/v1/users/api_profile', method: 'GET', path: '/users/api_profile', scope: 'read_user_profile', handler: apiProfile },
  { name: 'api/v1/auth/health', method: 'GET', path: '/auth/health', scope: 'read_user_profile', bearerOnly: true, handler: authHealth },
  { name: 'api/v1/usage_stats/api_usage_stats', method: 'POST', path: '/usage_stats/api_usage_stats', scope: 'api_usage_stats_read', handler: apiUsageStats },
  { name: 'api/v1/usage_stats/credit_usage_stats', method: 'POST', path: '/usage_stats/credit_usage_stats', scope: 'credit_usage_stats_read', handler: creditUsageStats },
  { name: 'api/v1/mixed_people/api_search', method: 'POST', path: '/mixed_people/api_search', scope: 'mixed_people_api_search', handler: searchPeople },
  { name: 'api/v1/contacts/search', method: 'POST', path: '/contacts/search', scope: 'contacts_search', handler: searchContacts },
  { name: 'api/v1/contacts/create', method: 'POST', path: '/contacts', scope: 'contact_write', handler: createContact },
  { name: 'api/v1/people/match', method: 'POST', path: '/people/match', scope: 'people_match', handler: match },
  { name: 'api/v1/people/bulk_match', method: 'POST', path: '/people/bulk_match', scope: 'people_bulk_match', bulk: true, handler: bulkMatch },
  // What teammates own, and handing it over (handlers/records.ts): names and scopes as the spec's "API key
  // access" and "OAuth scopes" lines give them, each its own limiter bucket.
  { name: 'api/v1/accounts/search', method: 'POST', path: '/accounts/search', scope: 'accounts_search', handler: searchAccounts },
  { name: 'api/v1/emailer_campaigns/search', method: 'POST', path: '/emailer_campaigns/search', scope: 'emailer_campaigns_search', handler: searchSequences },
  { name: 'api/v1/tasks/search', method: 'POST', path: '/tasks/search', scope: 'tasks_list', handler: searchTasks },
  { name: 'deals/api/v1/opportunities/search', method: 'GET', path: '/opportunities/search', scope: 'opportunities_list', handler: searchDeals },
  { name: 'api/v1/contacts/update_owners', method: 'POST', path: '/contacts/update_owners', scope: 'contact_owners_update', handler: updateOwners('contacts') },
  { name: 'api/v1/accounts/update_owners', method: 'POST', path: '/accounts/update_owners', scope: 'account_owners_update', handler: updateOwners('accounts') },
  { name: 'api/v1/sequences/update', method: 'PUT', path: '/sequences/:id', scope: 'emailer_campaigns_update', handler: updateSequence },
  { name: 'api/v1/tasks/show', method: 'GET', path: '/tasks/:id', scope: 'tasks_list', handler: showTask },
  { name: 'api/v1/tasks/update', method: 'PATCH', path: '/tasks/:id', scope: 'tasks_create', handler: updateTask },
  { name: 'deals/api/v1/opportunities/update', method: 'PATCH', path: '/opportunities/:id', scope: 'opportunity_update', handler: updateDeal },
  { name: 'api/v1/email_accounts/index', method: 'GET', path: '/email_accounts', scope: 'email_accounts_list', handler: listEmailAccounts },
];

/** What the default scoped key may call: everything but teammates and usage statistics. */
export const DEFAULT_SCOPED_KEY_ENDPOINTS = [
  'api/v1/users/api_profile',
  'api/v1/mixed_people/api_search',
  'api/v1/contacts/search',
  'api/v1/contacts/create',
  'api/v1/people/match',
  'api/v1/people/bulk_match',
  'api/v1/accounts/search',
  'api/v1/emailer_campaigns/search',
  'api/v1/tasks/search',
  'deals/api/v1/opportunities/search',
  'api/v1/contacts/update_owners',
  'api/v1/accounts/update_owners',
  'api/v1/sequences/update',
  'api/v1/tasks/show',
  'api/v1/tasks/update',
  'deals/api/v1/opportunities/update',
  'api/v1/email_accounts/index',
];
