import { describe, expect, it } from 'vitest';
import { ALL_TOOLS } from '../../tools/index.js';
import { loadConfig, parseCliArgs } from '../../src/config.js';
import { ConfigError } from '../../src/env.js';
import { isDefaultTool, selectTools } from '../../src/server.js';
import { TOOLSETS } from '../../src/toolsets.js';
import type { VendorConnection } from '../../src/vendors/connection.js';

const base = { SALES_ACCESS_STATE_DIR: '/tmp/sam-toolsets-test' };

/** Connections as selectTools sees them: REST (and SCIM) configured for these vendors. */
function connected(ids: string[], scim = true): VendorConnection[] {
  return ids.map((id) => ({ adapter: { id }, rest: {}, scim: scim ? {} : undefined }) as unknown as VendorConnection);
}
const EVERY_VENDOR = connected(['outreach', 'salesloft', 'apollo', 'zoominfo']);

function names(argv: string[], env: Record<string, string> = {}, connections = EVERY_VENDOR): string[] {
  return selectTools(loadConfig(parseCliArgs(argv), { ...base, ...env }), connections).map((t) => t.name);
}

const PROSPECTING = ALL_TOOLS.filter((t) => t.toolsets.includes('prospecting')).map((t) => t.name);

describe('toolsets', () => {
  it('every tool declares a known toolset, and --toolsets all reaches every tool', () => {
    for (const t of ALL_TOOLS) {
      expect(t.toolsets.length, t.name).toBeGreaterThan(0);
      for (const s of t.toolsets) expect(TOOLSETS).toContain(s);
      // A vendor tool sits in its vendor's toolset, so `--toolsets <vendor>` gives all of that vendor.
      if (t.vendor !== null) expect(t.toolsets).toContain(t.vendor);
    }
    expect(names(['--toolsets', 'all']).sort()).toEqual(ALL_TOOLS.map((t) => t.name).sort());
  });

  it('the default is the admin story: workflows and the user-lifecycle tools, no prospecting', () => {
    const d = names([]);
    for (const n of ['list_connections', 'find_user', 'access_review', 'plan_offboarding', 'execute_offboarding', 'outreach_lock_user', 'outreach_create_user', 'salesloft_deactivate_user', 'apollo_list_users', 'scim_deprovision_user', 'scim_provision_user']) {
      expect(d).toContain(n);
    }
    for (const n of PROSPECTING) expect(d).not.toContain(n);
    expect([...d].sort()).toEqual(ALL_TOOLS.filter(isDefaultTool).map((t) => t.name).sort());
    expect(names(['--toolsets', 'default'])).toEqual(d);
  });

  it('the default follows the configured vendors: only Outreach configured, no other vendor tools and no SCIM', () => {
    const d = names([], {}, connected(['outreach'], false));
    expect(d.filter((n) => /^(salesloft|apollo|zoominfo|scim)_/.test(n))).toEqual([]);
    expect(d).toContain('outreach_lock_user');
    expect(d).toContain('access_review');
  });

  it('named toolsets, default plus more, the variable, and the flag winning over it', () => {
    expect(names(['--toolsets', 'prospecting']).sort()).toEqual([...PROSPECTING].sort());
    expect(names(['--toolsets', 'outreach'])).toEqual(ALL_TOOLS.filter((t) => t.vendor === 'outreach').map((t) => t.name));
    const more = names(['--toolsets', 'default,prospecting']);
    expect(more).toEqual(expect.arrayContaining([...names([]), ...PROSPECTING]));
    expect(names([], { SALES_ACCESS_TOOLSETS: 'scim' }).every((n) => n.startsWith('scim_'))).toBe(true);
    expect(names(['--toolsets', 'zoominfo'], { SALES_ACCESS_TOOLSETS: 'scim' }).every((n) => n.startsWith('zoominfo_'))).toBe(true);
  });

  it('--tools alone is an allowlist; with --toolsets it adds tools; --read-only wins over both', () => {
    expect(names(['--tools', 'apollo_enrich_person'])).toEqual(['apollo_enrich_person']);
    expect(names(['--toolsets', 'workflows', '--tools', 'apollo_enrich_person'])).toEqual([...ALL_TOOLS.filter((t) => t.toolsets.includes('workflows')).map((t) => t.name), 'apollo_enrich_person']);
    const ro = names(['--toolsets', 'all', '--read-only']);
    expect(ro.length).toBeGreaterThan(0);
    for (const n of ro) expect(ALL_TOOLS.find((t) => t.name === n)!.annotations.readOnlyHint).toBe(true);
  });

  it('an unknown toolset stops start-up naming the known ones', () => {
    expect(() => names(['--toolsets', 'outreach,crm'])).toThrow(ConfigError);
    expect(() => names(['--toolsets', 'outreach,crm'])).toThrow(/unknown toolset "crm". Known toolsets: workflows, outreach, salesloft, apollo, zoominfo, scim, prospecting, all, default/);
    expect(() => names([], { SALES_ACCESS_TOOLSETS: 'everything' })).toThrow(/SALES_ACCESS_TOOLSETS: unknown toolset "everything"/);
  });
});
