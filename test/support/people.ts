import { buildApolloTeam } from '../../src/sandbox/apollo/index.js';
import { buildOutreachOrg } from '../../src/sandbox/outreach/index.js';
import { buildSalesloftOrg } from '../../src/sandbox/salesloft/index.js';

/**
 * People of the default sandbox seated and active, with one seat and no admin role, in Outreach, SalesLoft and
 * Apollo (sorted by email): leavers who own records in all three, and colleagues who can receive them. Read
 * from the seeds the simulators are built from, so a test can name them before the sandbox starts (a big book
 * is given at start).
 */
export function ordinaryEverywhere(): string[] {
  const outreach = buildOutreachOrg(300, 42);
  const adminProfiles = new Set(outreach.profiles.filter((p) => p.isAdmin).map((p) => p.id));
  const seats = new Map<string, typeof outreach.users>();
  for (const u of outreach.users) seats.set(u.email.toLowerCase(), [...(seats.get(u.email.toLowerCase()) ?? []), u]);
  const sl = buildSalesloftOrg(undefined, 42);
  const apollo = buildApolloTeam(300, 42);
  return [...seats]
    .filter(([, us]) => us.length === 1 && us[0]!.seedKind === 'person' && us[0]!.active && !us[0]!.locked && !adminProfiles.has(us[0]!.profileId ?? ''))
    .map(([e]) => e)
    .filter((e) => sl.users.some((u) => u.team_id === sl.teamId && u.email === e && u.active && u.role_id !== 'Admin'))
    .filter((e) => apollo.teammates.some((t) => t.email === e && !t.deleted && t.role === 'User'))
    .sort();
}
