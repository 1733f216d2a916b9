import { pageOf } from '../../collection.js';
import { MAX_PAGES, fail, listParam, paging, param, strParam, truthy, type ApolloCall } from '../http.js';
import type { SimContact } from '../seed.js';

/**
 * Contacts saved in the team's account: search (keywords, stages, the two documented sort fields) and create,
 * which never deduplicates unless run_dedupe (which then overwrites the match in place, spec).
 */

function serializeContact(c: SimContact) {
  return { contact_roles: [], ...c, emailer_campaign_ids: [], label_ids: [], phone_numbers: [], typed_custom_fields: {} };
}

export function searchContacts(c: ApolloCall) {
  const { page, perPage } = paging(c);
  const keywords = strParam(c, 'q_keywords')?.toLowerCase();
  const stages = listParam(c, 'contact_stage_ids');
  let list = c.env.store.contacts.all().filter((x) => {
    if (keywords && !`${x.name} ${x.title ?? ''} ${x.organization_name ?? ''} ${x.email ?? ''}`.toLowerCase().includes(keywords)) return false;
    if (stages.length && !stages.includes(x.contact_stage_id.toLowerCase())) return false;
    return true;
  });
  const sortBy = strParam(c, 'sort_by_field');
  if (sortBy === 'contact_created_at' || sortBy === 'contact_updated_at') {
    const field = sortBy === 'contact_created_at' ? 'created_at' : 'updated_at';
    const asc = truthy(param(c, 'sort_ascending'));
    list = [...list].sort((a, b) => (asc ? 1 : -1) * (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : 0));
  }
  const shown = page > MAX_PAGES ? [] : pageOf(list, page, perPage);
  return {
    contacts: shown.map(serializeContact),
    breadcrumbs: [],
    partial_results_only: false,
    pagination: { page, per_page: perPage, total_entries: list.length, total_pages: Math.ceil(list.length / perPage) },
  };
}

export function createContact(c: ApolloCall) {
  const { store } = c.env;
  const first = strParam(c, 'first_name');
  const last = strParam(c, 'last_name');
  const email = strParam(c, 'email');
  if (!first && !last && !email) fail(422, { error: 'Parameters misconfigured. A contact needs a name or an email.' });
  if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) fail(422, { error: `Parameters misconfigured. ${email} is not a valid email` });
  const fields = {
    first_name: first ?? null,
    last_name: last ?? null,
    title: strParam(c, 'title') ?? null,
    organization_name: strParam(c, 'organization_name') ?? null,
  };
  if (truthy(param(c, 'run_dedupe')) && email) {
    // Spec: on a match, the existing contact is overwritten in place with the values sent.
    const existing = store.contacts.all().find((x) => (x.email ?? '').toLowerCase() === email.toLowerCase());
    if (existing) {
      store.overwriteContact(existing, fields);
      return { contact: serializeContact(existing), labels: [], dedupe_result: { found_existing: true, match_reason: 'email_match', existing_contact_id: existing.id } };
    }
  }
  const created = store.createContact(fields, email ?? null, c.cred!.owner);
  return { contact: serializeContact(created), labels: [] };
}
