import { generatePeople } from './people.js';

/**
 * The HR roster the sandbox ships: every generated person with their employment status and, for leavers,
 * the termination date. Service accounts are not people and are absent, as in a real HR export.
 */
export function sampleRosterCsv(count = 300, seed = 42): string {
  const rows = generatePeople(count, seed).map((p) => [p.email, `${p.firstName} ${p.lastName}`, p.department, p.employment, p.terminatedOn ?? ''].join(','));
  return ['email,name,department,status,termination_date', ...rows].join('\n') + '\n';
}
