import type { AuthKind } from '../auth/types.js';
import type { AccountStatus, Invitation, VendorAccount } from '../domain/account.js';
import type { VendorCapabilities } from '../domain/capabilities.js';
import type { StepPath } from '../domain/offboarding.js';
import type { PageDetail } from '../domain/progress.js';
import type { VendorReviewProfile } from '../domain/review.js';
import type { Env } from '../env.js';
import type { RateBudget } from '../http/types.js';
import type { ConnectOptions } from './connect-options.js';
import type { ProbeContext, ProbeReport } from './probe.js';

/**
 * The one contract every vendor implements (src/vendors/<vendor>/adapter.ts), and that the workflows, the
 * cross-vendor tools and the server iterate through the registry (registry.ts) without naming a vendor.
 *
 * An adapter is static knowledge (label, capability matrix, review and offboarding profile, how to read its
 * environment) plus a factory for its REST side. Its SCIM side is generic: every vendor's SCIM connection is a
 * ScimClient on `<PREFIX>_SCIM_URL` / `<PREFIX>_SCIM_TOKEN`, shaped by `scim` below. connection.ts joins the
 * two into a VendorConnection, and holds the logic that only composes them (complete inventory, lookup by
 * email, re-reading an account), so an adapter writes only what is particular to its vendor.
 */
export interface VendorAdapter<S = unknown, R extends RestApi = RestApi> {
  /** Stable id used in tool arguments, plans, audit lines and limiter keys, e.g. "outreach". */
  readonly id: string;
  /** How the vendor is named to admins and agents, e.g. "Apollo.io". Used everywhere; defined only here. */
  readonly label: string;
  /** Prefix of the vendor's environment variables, e.g. "OUTREACH" (also `<PREFIX>_SCIM_URL`/`_SCIM_TOKEN`). */
  readonly envPrefix: string;
  /** Which lifecycle operations REST, SCIM or only the admin console can do, per the vendor notes. */
  readonly capabilities: VendorCapabilities;
  /** What the access review needs to know of the vendor: its own finding rules and texts. */
  readonly review: VendorReviewProfile;
  readonly scim: ScimProfile;
  readonly offboarding: OffboardingProfile;
  /** Reads the vendor's REST section of the environment; throws ConfigError naming a bad variable. */
  settings(env: Env): S;
  /** The names of the REST credential variables, for start-up hints ("set one of …"). */
  readonly credentialVariables: readonly string[];
  /** Whether `settings` hold a REST credential at all (the vendor's REST tools are registered only then). */
  hasCredentials(settings: S): boolean;
  /** The REST side. Called only when hasCredentials; throws ConfigError when the configuration cannot work. */
  connectRest(settings: S, opts: ConnectOptions): Promise<R>;
  /** For `sales-access-mcp auth <vendor>`: the vendor's OAuth authorization-code flow, where it has one. */
  readonly authorization?: Authorization<S>;
  /** `doctor` and check_connections: a live, read-only probe of the REST side (vendors/<vendor>/probe.ts). */
  probe?(rest: R, ctx: ProbeContext): Promise<ProbeReport>;
}

export interface Authorization<S> {
  /** The scopes the tools need. */
  scopes: readonly string[];
  /** The OAuth app from the settings; undefined when the client id and secret are not configured. */
  app(settings: S): OAuthApp | undefined;
  /** What to set when `app` is undefined, e.g. "OUTREACH_CLIENT_ID and OUTREACH_CLIENT_SECRET". */
  needs: string;
}

export interface OAuthApp {
  authorizeUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** The vendor's SCIM 2.0 connection, when configured; the client itself is generic (vendors/scim). */
export interface ScimProfile {
  /** Documented base URL; undefined when it is tenant-specific (Apollo, ZoomInfo) and must be configured. */
  defaultUrl?: string;
  /** Where the SCIM token comes from, for the 401 hint (never the token itself). */
  tokenSource: string;
  /**
   * True when the vendor's REST API cannot list seats, so a SCIM lookup that finds nobody is the final
   * answer (ZoomInfo); otherwise an account created in the vendor's own UI may exist outside SCIM.
   */
  authoritative?: boolean;
  /** What SCIM deprovisioning does to the seat and owned records in this vendor, shown before approving. */
  deprovisionNote: string;
  /** What a SCIM DELETE does in this vendor (several deactivate rather than delete). */
  deleteNote: string;
  /** What the admin must know after provisioning a user (invitation emails, seats). */
  provisionCaveats: readonly string[];
}

/** What a connected REST API offers the cross-vendor workflows. Optional members: the vendor cannot do it. */
export interface RestApi {
  readonly authKind: AuthKind;
  /** The rate-limit budget the limiters see, for list_connections. */
  budget(): RateBudget;
  /** Every account (deactivated included), for the access review; absent when REST has no seat list. */
  listAccounts?(progress: ListProgress, signal?: AbortSignal): Promise<RestListing>;
  /** Accounts whose email equals `email` case-insensitively; absent when REST cannot look seats up. */
  findByEmail?(email: string, signal?: AbortSignal): Promise<VendorAccount[]>;
  /**
   * The same for many emails at once (lower-cased keys), where one lookup is a complete listing anyway
   * (Apollo has no email filter): planning an offboarding of many people then lists once.
   */
  findByEmails?(emails: readonly string[], signal?: AbortSignal): Promise<Map<string, VendorAccount[]>>;
  /**
   * One account as it is now, for the checks before and after a write. Absent: re-read by listing (via
   * findByEmail) instead.
   */
  getAccount?(id: string, signal?: AbortSignal): Promise<VendorAccount>;
  /** The REST write that takes access away (offboarding profile `rest` describes it). */
  deactivation?(account: { id: string; email: string | null }): Change;
  /**
   * What a person may own in this vendor (prospects, accounts, sequences…), in the order an offboarding
   * hands them over. Each type says how many the person owns and how they are handed over: in batches
   * through the API, or by hand in the admin console.
   */
  ownedRecords?: readonly OwnedRecordType[];
  /** The person's connected mailboxes, and how one is unlinked. */
  mailboxes?: Mailboxes;
  close(): Promise<void>;
}

/**
 * Shared by the lookups of one planning run, so that a vendor whose owner lookups are listings of whole
 * collections (Apollo has no owner filter) walks each collection once for all the people planned.
 */
export interface PlanningContext {
  memo: Map<string, Promise<unknown>>;
  signal?: AbortSignal;
}

/** One record a person owns, as a transfer batch carries it (with what its write needs, e.g. an account's name). */
export interface OwnedRecord {
  id: string;
  /** Fields the vendor wants sent back with the owner change (SalesLoft's account PUT requires name and domain). */
  extra?: Record<string, string | number | boolean | null>;
}

export interface OwnedRecordType {
  /** e.g. "prospects"; unique within the vendor. */
  type: string;
  /** How many `owner` owns now; `lowerBound` when the vendor shows only part of a collection (Apollo's 50,000). */
  count(owner: VendorAccount, ctx: PlanningContext): Promise<{ count: number; lowerBound: boolean }>;
  transfer: RecordTransfer | { manual: string };
}

/**
 * Handing records over, idempotently: each round lists what the owner still owns (at most `batchSize`) and
 * sends one write for the batch (one request where the vendor has a bulk endpoint, one per record where it
 * has not). A record already handed over is no longer listed, so a round after a failure never repeats a
 * finished write, and an empty listing is the proof that nothing is left.
 */
export interface RecordTransfer {
  /** Records per write: the bulk endpoint's batch, or 1 where the vendor changes owners one record at a time. */
  batchSize: number;
  /** Records per listing round (a multiple of batchSize at most the vendor's page size). */
  pageSize: number;
  /** Up to `pageSize` records `owner` still owns. */
  next(owner: VendorAccount, signal?: AbortSignal): Promise<OwnedRecord[]>;
  /** One write that hands `batch` (at most batchSize records) to `to`. */
  change(batch: readonly OwnedRecord[], owner: VendorAccount, to: VendorAccount): Change<TransferState>;
}

/** What a transfer write reads and records: whose the records are. */
export interface TransferState {
  ids: string[];
  /** The owner the vendor reports for all of them, or null when they differ or are unknown. */
  owner: string | null;
}

export interface Mailboxes {
  list(owner: VendorAccount, signal?: AbortSignal): Promise<{ id: string; email: string | null }[]>;
  /** Unlinks one mailbox, or the console path where the API cannot. */
  unlink: ((mailbox: { id: string; email: string | null }, owner: VendorAccount) => Change) | { manual: string };
}

/** After each page of a listing: a message, and how far it is (pages, pages in all, accounts so far). */
export type ListProgress = (message: string, page?: PageDetail) => Promise<void>;

export interface RestListing {
  accounts: VendorAccount[];
  /** Invitations listed apart from users (SalesLoft pending email accounts); absent when not exposed. */
  invitations?: Invitation[];
  /** True when the listing tells admins apart (is_admin is meaningful). */
  adminKnown: boolean;
  /** Side lookups that failed (names, invitations): what the listing lacks and how to fix it. */
  warnings?: string[];
}

/**
 * How offboarding works in the vendor, as its notes say. The workflow (workflows/offboarding.ts) picks the
 * path per account: SCIM deprovisioning when the account is visible through SCIM, else `rest` when the REST
 * API can take access away, else a manual step with `manual` as the instructions.
 */
export interface OffboardingProfile {
  rest?: {
    path: Extract<StepPath, 'rest_lock' | 'rest_deactivate'>;
    /** What execution will do, e.g. "lock through REST (locked: true)". */
    action: string;
    /** The state afterwards, e.g. "locked: login blocked; the seat stays held". */
    expected: string;
    /** Whether an account in `status` needs nothing more (default: deactivated). */
    reached?(status: AccountStatus): boolean;
  };
  /** Whether taking access away by `path` frees the paid seat: false (still billed), null (the notes do not say). */
  seatFreed(path: StepPath): boolean | null;
  /** Admin-console instructions for a deactivation no configured API can do (vendors without `rest`). */
  manual?: string;
  /**
   * When the REST API cannot list seats and SCIM is not configured (ZoomInfo): a per-person manual check.
   * Absent: a vendor without a way to look is reported as not checked instead.
   */
  unlisted?: { action: string; instructions: string };
  /** Work the vendor notes name beyond what the steps do (reduce seats, CRM sync credentials…), per path. */
  followUps(path: StepPath, transferTo: string | null): string[];
  /**
   * Freeing the licensed seat after deactivation, where the vendor frees it only by deleting the user (Outreach:
   * SCIM DELETE). Opt-in per plan (`free_seat`), irreversible.
   */
  freeSeat?: { via: 'scim_delete'; action: string; note: string };
  /** Said when the plan removes an admin of this vendor (e.g. ZoomInfo's "Require SSO" lockout). */
  adminNote?: string;
}

/**
 * One write an adapter knows how to make: read first, skipped when already satisfied, applied, then read
 * again and verified. A tool and an offboarding step that make the same change both run it through
 * workflows/apply-change.ts, so confirmation, audit, before/after reads and verification are written once.
 * `S` is the state the change reads (e.g. the vendor's account shape), recorded as the audit before/after.
 */
export interface Change<S = unknown> {
  vendor: string;
  /** What the change is, for the audit log and messages: "lock", "deactivate", "scim_deprovision". */
  kind: string;
  /** Which API the write goes through. */
  via: 'rest' | 'scim';
  target: { id: string; email: string | null };
  /** One line for the human, e.g. "Lock Outreach user jane@acme.example (id 12)". */
  summary: string;
  /** The target line of the approval, e.g. "lock (locked: true): blocks login". */
  action: string;
  /** What the admin must know before approving. */
  caveats: string[];
  /** The state now. */
  read(signal?: AbortSignal): Promise<S>;
  /** Whether `state` already is what the change makes: then nothing is sent. */
  satisfied(state: S): boolean;
  /**
   * Sends the write. Returns the vendor's request id when it gives one, the state when the write itself read
   * it back (then it is not read again), and `how` it was sent when that can differ (SCIM: patch or put).
   */
  apply(state: S, signal?: AbortSignal): Promise<{ requestId?: string; after?: S; how?: string }>;
  /** The state the write produces, reported (marked unverified) when reading it back fails. */
  expected?(before: S): S;
  /**
   * After apply, a re-read that is not `satisfied` is an error, unless this says the API read back may lag
   * behind the one written (SalesLoft: SCIM written, REST read) and returns the warning to give instead.
   */
  lagging?(after: S): string | undefined;
}
