import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { VendorId } from '../domain/account.js';
import { ToolInputError } from '../errors.js';
import { collectInventories, type PageProgress } from './inventory.js';
import { evidenceRoot, writeEvidence, type EvidencePaths } from './report.js';
import { compactReview } from './review/compact.js';
import { reviewAccess } from './review/engine.js';
import { registryProfiles } from './review/profiles.js';
import { loadRosterFile, rosterFromEmails } from './roster.js';
import { shareEvidence } from './shared-evidence.js';
import type { CompactReviewResult, ProfileOf, ReviewResult, RosterEntry, VendorInventory } from '../domain/review.js';

/**
 * The access review from start to end, as the access_review tool runs it: resolve the roster, list every
 * vendor (collectInventories), review, write the evidence, compact the result. The benchmark times the
 * listing and the rest apart, so `reviewInventories` (everything after the listing) is exported as the
 * phase runAccessReview is built from.
 */

/** JSON bytes of the compact result: under the 25 KB tool-result cap, leaving room for the id, warnings and links. */
const RESULT_MAX_BYTES = 22_000;
/** Roster warnings returned with the result (the rest are only counted in the roster's own last warning). */
const ROSTER_WARNINGS_SHOWN = 20;

export interface AccessReviewOptions {
  /** Emails of current employees. Give this or `rosterPath`; with neither, orphaned accounts are undetermined. */
  roster?: readonly string[];
  /** A CSV roster inside the roster directory (config.rosterDir); refused over HTTP. */
  rosterPath?: string;
  /** Only these vendors (those of them that are configured); default every configured vendor. */
  vendors?: readonly VendorId[];
  /** Emails or patterns whose findings are suppressed (and listed). */
  exceptions?: string[];
  /** Default 30. */
  staleInvitationDays?: number;
  /** Called for every page listed. */
  progress: PageProgress;
  signal?: AbortSignal;
}

export interface AccessReviewOutcome {
  /** Names the evidence files: `<review day>-<8 hex digits>`. */
  reviewId: string;
  /** The small view for the tool result. */
  compact: CompactReviewResult;
  /** The first roster warnings (rows skipped or merged, by row number). */
  rosterWarnings: string[];
  evidence: EvidencePaths;
}

export async function runAccessReview(deps: Deps, options: AccessReviewOptions): Promise<AccessReviewOutcome> {
  const now = new Date(deps.clock.now());
  const roster = await resolveRoster(deps, options, now);
  const connections = deps.vendors.filter((c) => options.vendors === undefined || options.vendors.includes(c.adapter.id));
  const inventories = await collectInventories(connections, options.progress, options.signal);
  const reviewId = `${now.toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const { compact, evidence } = await reviewInventories(inventories, roster?.entries ?? null, {
    now,
    exceptions: options.exceptions,
    staleInvitationDays: options.staleInvitationDays,
    evidenceDir: evidenceRoot(deps.config.stateDir),
    reviewId,
    ...registryProfiles(deps.registry),
  });
  if (deps.redis) await shareEvidence(deps.redis, evidence, deps.config.retention.evidenceMs);
  return { reviewId, compact, rosterWarnings: (roster?.warnings ?? []).slice(0, ROSTER_WARNINGS_SHOWN), evidence };
}

export interface ReviewInventoriesOptions {
  now: Date;
  /** The vendors' review profiles and order (registryProfiles); default the built-in adapters'. */
  profileOf?: ProfileOf;
  vendorOrder?: readonly string[];
  exceptions?: string[];
  staleInvitationDays?: number;
  /** Where the evidence files are written. */
  evidenceDir: string;
  reviewId: string;
}

/** Everything after the listing: the review, its evidence files, and the compact result. */
export async function reviewInventories(
  inventories: readonly VendorInventory[],
  roster: readonly RosterEntry[] | null,
  opts: ReviewInventoriesOptions,
): Promise<{ result: ReviewResult; evidence: EvidencePaths; compact: CompactReviewResult }> {
  const result = reviewAccess(inventories, roster, {
    exceptions: opts.exceptions,
    staleInvitationDays: opts.staleInvitationDays,
    now: opts.now,
    profileOf: opts.profileOf,
    vendorOrder: opts.vendorOrder,
  });
  const evidence = await writeEvidence(result, inventories, opts.evidenceDir, { generatedAt: opts.now, reviewId: opts.reviewId });
  return { result, evidence, compact: compactReview(result, { maxBytes: RESULT_MAX_BYTES }) };
}

/** The roster from the inline emails or the CSV file; undefined when neither is given. */
async function resolveRoster(deps: Deps, options: AccessReviewOptions, now: Date): Promise<{ entries: RosterEntry[]; warnings: string[] } | undefined> {
  if (options.roster !== undefined && options.rosterPath !== undefined) throw new ToolInputError('Give `roster` or `roster_path`, not both.');
  if (options.rosterPath !== undefined) {
    if (deps.config.transport === 'http') {
      throw new ToolInputError('`roster_path`: over HTTP only an inline roster is accepted (the server will not read files for remote clients); pass `roster` as a list of emails.');
    }
    return loadRosterFile(options.rosterPath, deps.config.rosterDir, { now });
  }
  return options.roster === undefined ? undefined : rosterFromEmails(options.roster);
}
