import { pageOf } from '../../collection.js';
import { paging, param, truthy, type ApolloCall } from '../http.js';
import type { SimTeammate } from '../seed.js';

/*
 * Teammates: the spec's GET /users/search (page, per_page; `pagination.page`/`per_page` as STRINGS, as in the
 * spec's example) and the notes' GET /users, same data. Teammates carry the spec's `deleted` and
 * `permission_set_id` and the notes' `role` (profile name). Deactivated teammates stay in the list with
 * `deleted: true` (Apollo has no delete, only deactivate). Also who the caller is: api_profile and auth/health.
 */

function serializeTeammate(t: SimTeammate) {
  return {
    id: t.id,
    team_id: t.team_id,
    first_name: t.first_name,
    last_name: t.last_name,
    title: t.title,
    email: t.email,
    created_at: t.created_at,
    credit_limit: null,
    direct_dial_credit_limit: null,
    salesforce_account: null,
    deleted: t.deleted,
    name: t.name,
    password_needs_reset: false,
    current_email_verified: true,
    permission_set_id: t.permission_set_id,
    role: t.role,
    email_oauth_signin_only: false,
    subteam_ids: [],
  };
}

export function listTeammates(c: ApolloCall) {
  const { page, perPage } = paging(c);
  const teammates = c.env.store.teammates.all();
  return {
    // The spec's example sends page and per_page as strings.
    pagination: { page: String(page), per_page: String(perPage), total_entries: teammates.length, total_pages: Math.ceil(teammates.length / perPage) },
    users: pageOf(teammates, page, perPage).map(serializeTeammate),
  };
}

export function apiProfile(c: ApolloCall) {
  const { store } = c.env;
  const o = c.cred!.owner;
  const base: Record<string, unknown> = { id: o.id, team_id: o.team_id, first_name: o.first_name, last_name: o.last_name, title: o.title, email: o.email };
  if (truthy(param(c, 'include_credit_usage'))) {
    const used = store.credits.byOwner.get(o.id) ?? 0;
    Object.assign(base, {
      num_credits_remaining: Math.max(0, store.leadLimit - store.credits.initial - store.credits.api),
      effective_num_lead_credits: store.leadLimit,
      num_lead_credits_used: used,
      effective_num_direct_dial_credits: 1000,
      num_direct_dial_credits_used: 0,
    });
  }
  return base;
}

export function authHealth(c: ApolloCall) {
  const o = c.cred!.owner;
  return { healthy: true, is_logged_in: true, user: { id: o.id, email: o.email, name: o.name, team_id: o.team_id } };
}
