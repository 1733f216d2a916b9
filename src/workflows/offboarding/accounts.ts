import type { VendorAccount, VendorId } from '../../domain/account.js';
import type { PlanStep } from '../../domain/offboarding.js';
import type { PlanningContext } from '../../vendors/adapter.js';
import type { VendorConnection } from '../../vendors/connection.js';
import { scimToAccount } from '../../vendors/scim/map.js';
import type { ScimUser } from '../../vendors/scim/wire.js';

/**
 * Looking people up for an offboarding: one person's accounts in one vendor, through every API the vendor
 * is configured with, in the shape a plan records them.
 */

export type PlannedAccount = PlanStep['account'];

export function observed(vendor: VendorId, source: 'rest' | 'scim', a: Pick<VendorAccount, 'id' | 'email' | 'status' | 'is_admin' | 'name' | 'role'>): PlannedAccount {
  return { vendor, source, id: a.id, email: a.email, status: a.status, is_admin: a.is_admin, name: a.name, role: a.role };
}

export function scimObserved(vendor: VendorId, u: ScimUser): PlannedAccount {
  // SCIM's core schema has no admin flag.
  return observed(vendor, 'scim', { ...scimToAccount(vendor, u), is_admin: null });
}

/** One person in one vendor: the accounts each API shows, or `unlisted` when no configured API can look. */
export interface PersonInVendor {
  /** REST accounts (they own the records and mailboxes). */
  rest: VendorAccount[];
  /** SCIM users (the identity provider's view; deprovisioned there when present). */
  scim: ScimUser[];
  /** Neither API can look seats up (ZoomInfo without SCIM): a manual check instead. */
  unlisted: boolean;
}

/**
 * Every account of `email` in the vendor. REST lookups of many people share one listing where the vendor
 * has no email filter (findByEmails), through the planning context's memo.
 */
export async function findPerson(conn: VendorConnection, email: string, people: readonly string[], ctx: PlanningContext): Promise<PersonInVendor> {
  const { adapter, scim, rest } = conn;
  const scimUsers = scim ? await scim.findByUserName(email, ctx.signal) : [];
  // Where REST cannot list seats, SCIM's answer is final. Elsewhere an account created in the vendor's own UI
  // may not be managed by the identity provider, and records are owned by REST users: look through REST too.
  if (!rest?.findByEmail) return { rest: [], scim: scimUsers, unlisted: !scim };
  if (scim && adapter.scim.authoritative && scimUsers.length === 0) return { rest: [], scim: [], unlisted: false };
  let accounts: VendorAccount[];
  if (rest.findByEmails) {
    const key = `${adapter.id}:accounts-by-email`;
    let batch = ctx.memo.get(key) as Promise<Map<string, VendorAccount[]>> | undefined;
    if (!batch) {
      batch = rest.findByEmails(people, ctx.signal);
      ctx.memo.set(key, batch);
    }
    accounts = (await batch).get(email) ?? [];
  } else {
    accounts = await rest.findByEmail(email, ctx.signal);
  }
  return { rest: accounts, scim: scimUsers, unlisted: false };
}

/** The account as the vendor holds it now, through the API the plan recorded it from. */
export async function reobserve(conn: VendorConnection, a: PlannedAccount, signal?: AbortSignal): Promise<PlannedAccount | null> {
  if (a.id === '') return null;
  if (a.source === 'scim') {
    if (!conn.scim) return null;
    try {
      return scimObserved(a.vendor, await conn.scim.getUser(a.id, signal));
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found') return null;
      throw err;
    }
  }
  const rest = conn.rest;
  if (!rest) return null;
  let now: VendorAccount | undefined;
  if (rest.getAccount) now = await rest.getAccount(a.id, signal);
  else if (rest.findByEmail && a.email) now = (await rest.findByEmail(a.email, signal)).find((x) => x.id === a.id);
  return now ? observed(a.vendor, 'rest', now) : null;
}
