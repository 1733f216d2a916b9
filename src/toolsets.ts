import { ConfigError, list } from './env.js';

/**
 * Toolsets, as github/github-mcp-server has them: every tool belongs to one or more named groups, and
 * `--toolsets` (or SALES_ACCESS_TOOLSETS) picks groups. Fewer tools means less of the model's context spent on
 * tool descriptions, and fewer wrong picks. A leaf module (no tool imports), so config.ts can validate names
 * before anything starts.
 */
export const TOOLSETS = ['workflows', 'outreach', 'salesloft', 'apollo', 'zoominfo', 'scim', 'prospecting'] as const;
export type Toolset = (typeof TOOLSETS)[number];

export const TOOLSET_DESCRIPTIONS: Record<Toolset, string> = {
  workflows: 'cross-vendor: list_connections, check_connections, find_user, access_review, plan/execute_offboarding',
  outreach: 'Outreach users, roles and profiles (REST)',
  salesloft: 'SalesLoft users, team, groups, roles, invitations (REST)',
  apollo: 'Apollo.io teammates, API and credit usage, key owner (REST)',
  zoominfo: 'ZoomInfo usage and remaining credits',
  scim: 'SCIM 2.0 users and groups of every vendor with a SCIM connection',
  prospecting: 'Apollo.io and ZoomInfo search, enrichment and CRM contacts (most spend credits; none concerns seats)',
};

/** The keywords besides the names: `all` (every toolset) and `default` (the admin's set below). */
export const TOOLSET_KEYWORDS = ['all', 'default'] as const;

export const TOOLSETS_VARIABLE = 'SALES_ACCESS_TOOLSETS';

/**
 * What `--toolsets` asked for. `default`: the admin's story, the workflows plus each configured vendor's
 * user-lifecycle tools (tools marked `lifecycle`). `named`: whole toolsets on top of that.
 */
export interface ToolsetSelection {
  default: boolean;
  named: Toolset[];
  /** Whether the selection was asked for (flag or variable) rather than implied. */
  explicit: boolean;
}

/**
 * Reads `--toolsets` (which wins) or SALES_ACCESS_TOOLSETS. An unknown name stops start-up listing the known
 * ones. Neither given: the default set, unless `--tools` names tools, in which case exactly those are served
 * (the allowlist as it was before toolsets; see selectTools).
 */
export function parseToolsets(flag: string | undefined, envValue: string | undefined): ToolsetSelection {
  const source = flag !== undefined ? '--toolsets' : TOOLSETS_VARIABLE;
  const raw = flag ?? (envValue?.trim() ? envValue : undefined);
  if (raw === undefined) return { default: true, named: [], explicit: false };
  const names = list(raw).map((n) => n.toLowerCase());
  if (names.length === 0) throw new ConfigError(`${source} is empty; name toolsets, e.g. "default,prospecting" (${knownToolsets()}).`);
  const unknown = names.filter((n) => !(TOOLSETS as readonly string[]).includes(n) && !(TOOLSET_KEYWORDS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new ConfigError(`${source}: unknown toolset ${unknown.map((n) => `"${n}"`).join(', ')}. Known toolsets: ${knownToolsets()}.`);
  }
  if (names.includes('all')) return { default: true, named: [...TOOLSETS], explicit: true };
  return { default: names.includes('default'), named: TOOLSETS.filter((t) => names.includes(t)), explicit: true };
}

function knownToolsets(): string {
  return [...TOOLSETS, ...TOOLSET_KEYWORDS].join(', ');
}
