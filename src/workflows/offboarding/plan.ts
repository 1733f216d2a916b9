import type { Deps } from '../../deps.js';
import type { AccountStatus, VendorAccount, VendorId } from '../../domain/account.js';
import type { Plan, PlanStep, StepKind, StepPath } from '../../domain/offboarding.js';
import { ToolInputError, VendorError } from '../../errors.js';
import type { OwnedRecordType, PlanningContext, VendorAdapter } from '../../vendors/adapter.js';
import type { VendorConnection } from '../../vendors/connection.js';
import type { ScimUser } from '../../vendors/scim/wire.js';
import { observedHash, PLAN_TTL_MS, type PlanStorage } from '../plan-store.js';
import { findPerson, observed, scimObserved, type PersonInVendor, type PlannedAccount } from './accounts.js';
import { recordOtherPaths } from './other-paths.js';
import { publicErrorText } from '../../public-error.js';

/**
 * Planning an offboarding (read only). Per person and vendor, in order: hand over what the person owns
 * (per record type: through the API in batches, or by hand), unlink their mailboxes, take access away
 * (SCIM deprovisioning when the account is visible there, else the REST write where the REST API has one,
 * else by hand), and, asked for, free the seat (Outreach: SCIM DELETE). What no API can do is a manual step
 * with the admin-console path from the vendor notes, never dropped. The vendor-specific parts all come from
 * the adapters (src/vendors/<vendor>/adapter.ts); nothing here names a vendor.
 */

export const MAX_PEOPLE = 500;

export interface PlanInput {
  emails: string[];
  /** Who receives the leavers' records, by email; resolved in each vendor. */
  transferTo: string | null;
  /** Vendor ids to cover; enabled vendors without any connection are skipped. */
  vendors: VendorId[];
  /** Free seats by deleting users where that is the vendor's only way (irreversible). */
  freeSeat: boolean;
}

/** A step before numbering: its dependencies are positions in its chain. */
type Draft = Omit<PlanStep, 'step_id' | 'depends_on'> & { after: number[] };

/** One person's steps in one vendor, in the order they run. */
interface Chain {
  person: string;
  vendor: VendorId;
  steps: Draft[];
}

type Progress = (done: number, total: number, message: string) => Promise<void>;

export async function planOffboarding(deps: Deps, store: PlanStorage, input: PlanInput, progress: Progress, signal?: AbortSignal): Promise<Plan> {
  const people = [...new Set(input.emails.map((e) => e.trim().toLowerCase()))];
  if (people.length === 0) throw new ToolInputError('`emails`: give at least one email, e.g. ["jane.doe@acme.example"].');
  if (people.length > MAX_PEOPLE) throw new ToolInputError(`\`emails\`: at most ${MAX_PEOPLE} people per plan; got ${people.length}. Split the list.`);
  const transferTo = input.transferTo?.trim().toLowerCase() || null;
  if (transferTo && people.includes(transferTo)) throw new ToolInputError(`\`transfer_to\`: ${transferTo} is one of the people being offboarded; name a colleague who stays.`);
  const connections = deps.vendors.filter((c) => input.vendors.includes(c.adapter.id) && (c.rest !== undefined || c.scim !== undefined));

  const chains: Chain[] = [];
  const notFound = new Map<string, VendorId[]>();
  const unchecked = new Map<VendorId, string>();
  const warnings: string[] = [];
  const refusals: string[] = [];
  const ctx: PlanningContext = { memo: new Map(), signal };
  let checked = 0;

  // Vendors in parallel; people one after the other within a vendor (the limiter paces them anyway).
  await Promise.all(
    connections.map(async (conn) => {
      const planner = new VendorPlanner(conn, people, transferTo, input.freeSeat, ctx);
      try {
        await planner.resolveColleague();
        for (const person of people) {
          const chain = await planner.person(person);
          if (chain === 'not_found') notFound.set(person, [...(notFound.get(person) ?? []), conn.adapter.id]);
          else if (chain.steps.length > 0) chains.push(chain);
          checked += 1;
          await progress(checked, connections.length * people.length, `Checked ${person} in ${conn.adapter.label}`);
        }
        warnings.push(...(await planner.adminGuard(refusals)));
        refusals.push(...planner.refusals);
      } catch (err) {
        if (err instanceof ToolInputError) throw err;
        unchecked.set(conn.adapter.id, publicErrorText(err, deps.config));
      }
    }),
  );
  if (refusals.length > 0) throw new ToolInputError(`No plan was made. ${refusals.join(' ')}`);

  // Every path each account is visible through, so execution notices a change made through the other one.
  for (const [vendor, reason] of await recordOtherPaths(connections, chains.flatMap((c) => c.steps), signal)) {
    unchecked.set(vendor, reason);
    chains.splice(0, chains.length, ...chains.filter((c) => c.vendor !== vendor));
  }

  const steps = numberSteps(chains);
  const now = deps.clock.now();
  const plan: Plan = {
    plan_id: store.newPlanId(),
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + PLAN_TTL_MS).toISOString(),
    people,
    transfer_to: transferTo,
    free_seat: input.freeSeat,
    not_found: [...notFound].map(([person, vs]) => ({ person, vendors: vs })),
    unchecked: [...unchecked].map(([vendor, reason]) => ({ vendor, reason })),
    warnings,
    steps,
    observed_hash: observedHash(uniqueAccounts(steps)),
    state: 'planned',
    result: null,
  };
  await store.save(plan);
  return plan;
}

/** The accounts a plan's steps act on, each once (a transfer and a lock may share one). */
export function uniqueAccounts(steps: readonly PlanStep[]): PlannedAccount[] {
  const seen = new Map<string, PlannedAccount>();
  for (const s of steps) if (s.account.id !== '') seen.set(`${s.account.vendor}\u0000${s.account.source}\u0000${s.account.id}`, s.account);
  return [...seen.values()];
}

/** Chains sorted by person and vendor; steps numbered s1, s2… in chain order, dependencies as step ids. */
function numberSteps(chains: Chain[]): PlanStep[] {
  chains.sort((a, b) => a.person.localeCompare(b.person) || a.vendor.localeCompare(b.vendor));
  const out: PlanStep[] = [];
  for (const chain of chains) {
    const first = out.length + 1;
    chain.steps.forEach((d, i) => {
      const { after, ...step } = d;
      out.push({ ...step, step_id: `s${first + i}`, depends_on: after.map((j) => `s${first + j}`) });
    });
  }
  return out;
}

/** Plans the people of one plan in one vendor. */
class VendorPlanner {
  readonly refusals: string[] = [];
  private readonly adapter: VendorAdapter;
  /** The colleague who receives records here, or why there is none. */
  private colleague: VendorAccount | undefined;
  private colleagueProblem: string | undefined;
  /** Leavers' active admin accounts here. */
  private readonly leavingAdmins: PlannedAccount[] = [];

  constructor(
    private readonly conn: VendorConnection,
    private readonly people: readonly string[],
    private readonly transferTo: string | null,
    private readonly freeSeat: boolean,
    private readonly ctx: PlanningContext,
  ) {
    this.adapter = conn.adapter;
  }

  async resolveColleague(): Promise<void> {
    const to = this.transferTo;
    if (!to || !this.conn.rest?.ownedRecords) return;
    const found = await findPerson(this.conn, to, [...this.people, to], this.ctx);
    const active = found.rest.filter((a) => a.status === 'active');
    const label = this.adapter.label;
    if (active.length === 1) this.colleague = active[0];
    else if (active.length > 1) this.colleagueProblem = `${to} has ${active.length} active ${label} accounts; records cannot be handed to one of them unambiguously.`;
    else if (found.rest.length > 0) this.colleagueProblem = `${to} has no active ${label} account (${found.rest.map((a) => a.status).join(', ')}); records can only go to an active user.`;
    else this.colleagueProblem = `${to} has no ${label} account; records can only go to a user of ${label}.`;
  }

  async person(person: string): Promise<Chain | 'not_found'> {
    const found = await findPerson(this.conn, person, this.transferTo ? [...this.people, this.transferTo] : this.people, this.ctx);
    const chain: Chain = { person, vendor: this.adapter.id, steps: [] };
    if (found.unlisted) {
      const unlisted = this.adapter.offboarding.unlisted;
      if (!unlisted) throw new VendorError({ vendor: this.adapter.id, code: 'config', message: `${this.adapter.label}'s seats cannot be looked up with what is configured; configure its SCIM connection.` });
      chain.steps.push(this.draft('deactivate', person, { vendor: this.adapter.id, source: 'rest', id: '', email: person, status: 'unknown', is_admin: null, name: null, role: null }, 'manual', {
        action: unlisted.action,
        expected_result: 'deactivated once an admin does it',
        manual_instructions: unlisted.instructions,
      }));
      return chain;
    }
    if (found.rest.length === 0 && found.scim.length === 0) return 'not_found';
    for (const a of found.rest) if (a.is_admin === true && a.status === 'active') this.leavingAdmins.push(observed(this.adapter.id, 'rest', a));

    const blocking: number[] = [];
    for (const account of found.rest) {
      for (const type of this.conn.rest?.ownedRecords ?? []) {
        const i = await this.transferStep(chain, person, account, type);
        if (i !== undefined) blocking.push(i);
      }
      blocking.push(...(await this.mailboxSteps(chain, person, account)));
    }
    const deactivations = this.deactivationSteps(chain, person, found, blocking);
    this.freeSeatSteps(chain, person, found, deactivations);
    return chain;
  }

  /** A transfer step for one record type the person owns, or nothing when they own none. */
  private async transferStep(chain: Chain, person: string, account: VendorAccount, type: OwnedRecordType): Promise<number | undefined> {
    let counted: { count: number; lowerBound: boolean };
    try {
      counted = await type.count(account, this.ctx);
    } catch (err) {
      // A count that fails (a scope the credential lacks, an endpoint the plan does not have) degrades to a
      // manual check rather than failing the whole vendor: access can still be taken away.
      if (!(err instanceof VendorError)) throw err;
      chain.steps.push(
        this.draft('transfer', person, observed(this.adapter.id, 'rest', account), 'manual', {
          record_type: type.type,
          action: `check by hand what ${type.type} ${person} owns: ${this.adapter.label} could not be asked (${err.toPublicText()})`,
          expected_result: `${person} owns no ${type.type}`,
          manual_instructions: `Look up the ${type.type} owned by ${person} in ${this.adapter.label} and hand them over${this.transferTo ? ` to ${this.transferTo}` : ''}; or fix the access named above and plan again.`,
        }),
      );
      return undefined;
    }
    const { count, lowerBound } = counted;
    if (count === 0 && !lowerBound) return undefined;
    const n = `${lowerBound ? 'at least ' : ''}${count} ${type.type}`;
    const leaver = observed(this.adapter.id, 'rest', account);
    const common = { record_type: type.type, count, count_is_lower_bound: lowerBound };
    if ('manual' in type.transfer) {
      chain.steps.push(
        this.draft('transfer', person, leaver, 'manual', {
          ...common,
          action: `hand over ${n} by hand: ${this.adapter.label}'s API cannot change their owner`,
          expected_result: `${person} owns no ${type.type}`,
          manual_instructions: `${type.transfer.manual}${this.transferTo ? ` New owner: ${this.transferTo}.` : ''}`,
        }),
      );
      return undefined;
    }
    if (!this.transferTo) {
      chain.steps.push(
        this.draft('transfer', person, leaver, 'manual', {
          ...common,
          action: `${n} stay owned by the leaver: no transfer_to was given`,
          expected_result: `${person} keeps owning ${n} until someone is named`,
          manual_instructions: `Plan again with transfer_to (the colleague who takes them over) to hand the ${type.type} over through the API, or reassign them in ${this.adapter.label}.`,
        }),
      );
      return undefined;
    }
    if (!this.colleague) {
      if (this.colleagueProblem && !this.refusals.includes(this.colleagueProblem)) this.refusals.push(`\`transfer_to\`: ${this.colleagueProblem}`);
      return undefined;
    }
    const t = type.transfer;
    chain.steps.push(
      this.draft('transfer', person, leaver, 'rest', {
        ...common,
        action: `hand over ${n} to ${this.colleague.email ?? this.colleague.id} (${t.batchSize > 1 ? `in batches of up to ${t.batchSize}` : 'one request per record'})`,
        expected_result: `${this.colleague.email ?? this.colleague.id} owns them; ${person} owns no ${type.type}`,
        transfer_to: { id: this.colleague.id, email: this.colleague.email },
      }),
    );
    return chain.steps.length - 1;
  }

  /** One step per connected mailbox: unlinked through the API, or by hand. */
  private async mailboxSteps(chain: Chain, person: string, account: VendorAccount): Promise<number[]> {
    const m = this.conn.rest?.mailboxes;
    if (!m) return [];
    let boxes: { id: string; email: string | null }[];
    try {
      boxes = await m.list(account, this.ctx.signal);
    } catch (err) {
      if (!(err instanceof VendorError)) throw err;
      chain.steps.push(
        this.draft('unlink_mailbox', person, observed(this.adapter.id, 'rest', account), 'manual', {
          record_type: 'mailbox',
          action: `check by hand whether ${person} has a connected mailbox: ${this.adapter.label} could not be asked (${err.toPublicText()})`,
          expected_result: 'no mailbox of the leaver is connected',
          manual_instructions: `Unlink ${person}'s mailbox in ${this.adapter.label} if one is connected.`,
        }),
      );
      return [];
    }
    const out: number[] = [];
    for (const box of boxes) {
      const leaver = observed(this.adapter.id, 'rest', account);
      const common = { record_type: 'mailbox', count: 1, target: box };
      if (typeof m.unlink === 'function') {
        chain.steps.push(this.draft('unlink_mailbox', person, leaver, 'rest', { ...common, action: `unlink the mailbox ${box.email ?? box.id}`, expected_result: 'the mailbox is no longer connected' }));
        out.push(chain.steps.length - 1);
      } else {
        chain.steps.push(
          this.draft('unlink_mailbox', person, leaver, 'manual', {
            ...common,
            action: `unlink the mailbox ${box.email ?? box.id} by hand`,
            expected_result: 'the mailbox is no longer connected',
            manual_instructions: m.unlink.manual,
          }),
        );
      }
    }
    return out;
  }

  /**
   * Taking access away, after the automated hand-overs (`blocking`): through SCIM where the person is in the
   * SCIM directory, else the REST write where the REST API has one, else by hand. Returns the positions of
   * the deactivation steps.
   */
  private deactivationSteps(chain: Chain, person: string, found: PersonInVendor, blocking: number[]): number[] {
    const profile = this.adapter.offboarding;
    const targets: { account: PlannedAccount; path: StepPath }[] =
      found.scim.length > 0
        ? found.scim.map((u) => ({ account: scimObserved(this.adapter.id, u), path: 'scim_deprovision' as const }))
        : found.rest.map((a) => ({ account: observed(this.adapter.id, 'rest', a), path: profile.rest?.path ?? ('manual' as const) }));
    const out: number[] = [];
    for (const { account, path: intended } of targets) {
      const already = intended !== 'manual' && reached(this.adapter, intended, account.status);
      const path: StepPath = already ? 'none' : intended;
      const rest = profile.rest && path === profile.rest.path ? profile.rest : undefined;
      const action =
        path === 'none'
          ? `nothing to do: already ${account.status}`
          : rest
            ? rest.action
            : path === 'scim_deprovision'
              ? 'deprovision through SCIM (active: false)'
              : account.status === 'deactivated'
                ? 'already deactivated in the vendor; only the follow-ups remain'
                : 'deactivate by hand in the admin console';
      const expected = path === 'none' ? `stays ${account.status}` : rest ? rest.expected : path === 'manual' ? 'deactivated once an admin does it' : 'deactivated';
      chain.steps.push({
        ...this.draft('deactivate', person, account, path, { action, expected_result: expected, manual_instructions: path === 'manual' ? (profile.manual ?? null) : null }),
        seat_freed: profile.seatFreed(path === 'none' ? intended : path),
        follow_ups: profile.followUps(intended, this.transferTo),
        after: path === 'none' || path === 'manual' ? [] : blocking,
      });
      out.push(chain.steps.length - 1);
    }
    return out;
  }

  /** Freeing the seat where the vendor frees it only by deleting the user; opt-in, irreversible. */
  private freeSeatSteps(chain: Chain, person: string, found: PersonInVendor, deactivations: number[]): void {
    const free = this.adapter.offboarding.freeSeat;
    if (!free) return;
    if (!this.freeSeat) {
      const d = deactivations.map((i) => chain.steps[i]).find((s) => s.path !== 'none');
      if (d) d.follow_ups = [...d.follow_ups, `${free.note} Plan again with free_seat: true to do it (irreversible).`];
      return;
    }
    const users: ScimUser[] = found.scim;
    if (users.length === 0) {
      chain.steps.push(
        this.draft('free_seat', person, observed(this.adapter.id, 'rest', found.rest[0]!), 'manual', {
          action: 'free the seat by hand: this server frees it only through SCIM DELETE, and no SCIM connection shows the user',
          expected_result: 'the seat is freed once the vendor removes the user',
          manual_instructions: free.note,
          irreversible: true,
        }),
      );
      return;
    }
    for (const u of users) {
      chain.steps.push({
        ...this.draft('free_seat', person, scimObserved(this.adapter.id, u), 'scim_delete', {
          action: free.action,
          expected_result: 'the user is deleted and the seat freed',
          irreversible: true,
        }),
        seat_freed: true,
        after: deactivations,
      });
    }
  }

  /**
   * The last-admin guard: a plan that would leave a vendor without an active admin is refused; one that
   * leaves a single admin is warned about (Apollo, for one, recommends two). Returns the warnings.
   */
  async adminGuard(refusals: string[]): Promise<string[]> {
    if (this.leavingAdmins.length === 0) return [];
    const { label } = this.adapter;
    const note = this.adapter.offboarding.adminNote ? ` ${this.adapter.offboarding.adminNote}` : '';
    const rest = this.conn.rest;
    if (!rest?.listAccounts) return [`The plan removes an admin of ${label} (${emails(this.leavingAdmins)}); this server cannot list ${label}'s admins to check another remains.${note}`];
    const key = `${this.adapter.id}:all-accounts`;
    let listing = this.ctx.memo.get(key) as ReturnType<NonNullable<typeof rest.listAccounts>> | undefined;
    if (!listing) {
      listing = rest.listAccounts(async () => {}, this.ctx.signal);
      this.ctx.memo.set(key, listing);
    }
    const { accounts, adminKnown } = await listing;
    if (!adminKnown) return [`The plan removes an admin of ${label} (${emails(this.leavingAdmins)}); ${label}'s listing does not tell admins apart, so check by hand that another remains.${note}`];
    const leaving = new Set(this.people);
    const remaining = accounts.filter((a) => a.is_admin === true && a.status === 'active' && !leaving.has((a.email ?? '').toLowerCase()));
    if (remaining.length === 0) {
      refusals.push(
        `It would deactivate the last active admin of ${label} (${emails(this.leavingAdmins)}): nobody could manage ${label} afterwards. Give another user admin rights in ${label} first, then plan again.${note}`,
      );
      return [];
    }
    if (remaining.length === 1) {
      return [`After this plan ${label} has a single active admin (${remaining[0]!.email ?? remaining[0]!.id}); a second admin is recommended before anyone else leaves.${note}`];
    }
    return note ? [`The plan removes an admin of ${label} (${emails(this.leavingAdmins)}).${note}`] : [];
  }

  private draft(kind: StepKind, person: string, account: PlannedAccount, path: StepPath, o: Partial<Draft> & { action: string; expected_result: string }): Draft {
    return {
      vendor: this.adapter.id,
      person,
      account,
      kind,
      path,
      seat_freed: null,
      follow_ups: [],
      manual_instructions: null,
      record_type: null,
      count: null,
      count_is_lower_bound: false,
      transfer_to: null,
      target: null,
      irreversible: false,
      after: [],
      ...o,
    };
  }
}

function emails(accounts: PlannedAccount[]): string {
  return accounts.map((a) => a.email ?? a.id).join(', ');
}

/** Already where this path takes it: nothing to send. */
export function reached(adapter: VendorAdapter, path: StepPath, status: AccountStatus): boolean {
  const rest = adapter.offboarding.rest;
  if (rest && path === rest.path && rest.reached) return rest.reached(status);
  return status === 'deactivated';
}
