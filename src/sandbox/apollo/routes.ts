import { apiUsageStats, creditUsageStats } from './handlers/usage.js';
import { createContact, searchContacts } from './handlers/contacts.js';
import { bulkMatch, match, searchPeople } from './handlers/people.js';
import { apiProfile, authHealth, listTeammates } from './handlers/teammates.js';
import type { ApolloEndpoint } from './http.js';

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
];

/** What the default scoped key may call: everything but teammates and usage statistics. */
export const DEFAULT_SCOPED_KEY_ENDPOINTS = [
  'api/v1/users/api_profile',
  'api/v1/mixed_people/api_search',
  'api/v1/contacts/search',
  'api/v1/contacts/create',
  'api/v1/people/match',
  'api/v1/people/bulk_match',
];
