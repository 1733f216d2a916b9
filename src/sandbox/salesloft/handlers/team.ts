import { fail, href, paginate, requireRead, type SalesloftCall } from '../http.js';
import { renderMicros } from '../time.js';
import { groupRef, roleRef } from './users.js';

/*
 * The team's other resources. Roles: `/v2/roles` (notes) lists Admin, User and the custom roles;
 * `/v2/custom_roles` (spec) only the custom ones. Invitations: `/v2/pending_email_accounts` (notes).
 * team_members (notes): one entry per active user.
 */

function listed<T>(c: SalesloftCall, items: readonly T[]) {
  const { page, paging } = paginate(c.url.searchParams, items);
  return { data: page, metadata: { paging } };
}

export function teamMembers(c: SalesloftCall) {
  requireRead(c);
  const members = c.env.store
    .teamUsers()
    .filter((u) => u.active)
    .map((u) => ({
      id: u.id + 7_000_000,
      user: { id: u.id, name: `${u.first_name} ${u.last_name}`, _href: href(c, `users/${u.id}`) },
      group: groupRef(c, u.group_id),
      role: roleRef(c, u.role_id),
      created_at: u.created_at,
      updated_at: u.updated_at,
    }));
  return listed(c, members);
}

export function groups(c: SalesloftCall) {
  requireRead(c);
  const { store } = c.env;
  const raw = c.params.id;
  if (raw !== undefined) {
    const g = /^\d+$/.test(raw) ? store.groups.get(Number(raw)) : undefined;
    if (!g) fail(404, 'Not Found');
    return { data: { ...g, accessible_groups: [] } };
  }
  return listed(c, store.groups.all().map((g) => ({ ...g, accessible_groups: [] })));
}

export function roles(c: SalesloftCall, customOnly: boolean) {
  requireRead(c);
  return listed(c, c.env.store.roles.all().filter((r) => !customOnly || r.custom).map((r) => ({ id: r.id, name: r.name })));
}

export function pendingInvitations(c: SalesloftCall) {
  requireRead(c);
  const list = c.env.store.pending.all().map((p) => ({ id: p.id, email: p.email, created_at: renderMicros(p.created_us), updated_at: renderMicros(p.created_us) }));
  return listed(c, list);
}
