import { DAY_MS, PEOPLE_AS_OF_MS, PEOPLE_EMAIL_DOMAIN, generatePeople, type Person } from '../people.js';
import { Rng, deriveSeed } from '../prng.js';

/*
 * ZoomInfo's data for a seed: Acme Corp (the sandbox company, whose contacts are the shared generated people)
 * and a handful of other companies with their own generated contacts. No HTTP here.
 */

export const DEFAULT_ACME_CONTACTS = 300;

export interface SimZiCompany {
  id: number;
  name: string;
  website: string;
  domain: string;
  employeeCount: number;
  /** Thousands of USD, as the collection's enrich output describes `revenue`. */
  revenue: number;
  primaryIndustry: string;
  phone: string;
  street: string;
  city: string;
  state: string;
  country: string;
  ticker: string | null;
}

export interface SimZiContact {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  mobilePhone: string | null;
  jobTitle: string;
  managementLevel: string;
  department: string;
  companyId: number;
  city: string;
  state: string;
  country: string;
  contactAccuracyScore: number;
  validDate: string;
  lastUpdatedDate: string;
  /** Sandbox bookkeeping, never served: the generated person (Acme contacts only). */
  personKey: string | null;
}

const OTHER_COMPANIES = [
  { name: 'Acme Holdings', domain: 'acmeholdings.example', industry: 'Financial Services', employees: 5400, city: 'Chicago', state: 'Illinois', ticker: 'NYSE: ACMH' },
  { name: 'Globex Corporation', domain: 'globex.example', industry: 'Manufacturing', employees: 12000, city: 'Cypress Creek', state: 'Oregon', ticker: 'NYSE: GLBX' },
  { name: 'Initech', domain: 'initech.example', industry: 'Software', employees: 800, city: 'Austin', state: 'Texas', ticker: null },
  { name: 'Vandelay Industries', domain: 'vandelay.example', industry: 'Import & Export', employees: 150, city: 'New York', state: 'New York', ticker: null },
  { name: 'Soylent Systems', domain: 'soylent.example', industry: 'Food & Beverage', employees: 2300, city: 'Portland', state: 'Oregon', ticker: 'NASDAQ: SOYL' },
  { name: 'Tyrell Logistics', domain: 'tyrell.example', industry: 'Transportation', employees: 640, city: 'Los Angeles', state: 'California', ticker: null },
  { name: 'Wonka Analytics', domain: 'wonka.example', industry: 'Business Services', employees: 90, city: 'Denver', state: 'Colorado', ticker: null },
] as const;

const LOCATIONS: Record<string, [string, string, string]> = {
  'America/New_York': ['New York', 'New York', 'United States'],
  'America/Chicago': ['Chicago', 'Illinois', 'United States'],
  'America/Denver': ['Denver', 'Colorado', 'United States'],
  'America/Los_Angeles': ['San Francisco', 'California', 'United States'],
  'Europe/London': ['London', 'England', 'United Kingdom'],
  'Europe/Berlin': ['Berlin', 'Berlin', 'Germany'],
  'Asia/Singapore': ['Singapore', 'Singapore', 'Singapore'],
  'Australia/Sydney': ['Sydney', 'New South Wales', 'Australia'],
};

const DEPARTMENTS: Record<string, string> = {
  Sales: 'Sales',
  'Sales Development': 'Sales',
  'Customer Success': 'Operations',
  Marketing: 'Marketing',
  'Revenue Operations': 'Operations',
  'Solutions Engineering': 'Engineering & Technical',
  Finance: 'Finance',
  Executive: 'C-Suite',
};

export function managementLevelOf(title: string): string {
  if (/^Chief\b/.test(title)) return 'C-Level';
  if (/^VP\b/.test(title)) return 'VP-Level';
  if (/Director/.test(title)) return 'Director';
  if (/Manager/.test(title)) return 'Manager';
  return 'Non-Manager';
}

function usDate(ms: number): string {
  // The collection writes dates as "6/19/2020 1:41 PM".
  const d = new Date(ms);
  const h = d.getUTCHours();
  const hh = h % 12 === 0 ? 12 : h % 12;
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${hh}:${String(d.getUTCMinutes()).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

/** Deterministic companies and contacts for a seed; Acme Corp's contacts are the shared generated people. */
export function buildZoomInfoData(seed = 42, acmeContacts = DEFAULT_ACME_CONTACTS): { companies: SimZiCompany[]; contacts: SimZiContact[] } {
  const rng = new Rng(deriveSeed(seed, 'zoominfo'));
  const usedIds = new Set<number>();
  const newId = (min: number, max: number) => {
    for (;;) {
      const id = rng.int(min, max);
      if (!usedIds.has(id)) {
        usedIds.add(id);
        return id;
      }
    }
  };
  const phone = () => `(555) ${String(rng.int(100, 999))}-${String(rng.int(0, 9999)).padStart(4, '0')}`;

  const companies: SimZiCompany[] = [
    {
      id: newId(10_000_000, 400_000_000),
      name: 'Acme Corp',
      website: `www.${PEOPLE_EMAIL_DOMAIN}`,
      domain: PEOPLE_EMAIL_DOMAIN,
      employeeCount: 1200,
      revenue: 180_000,
      primaryIndustry: 'Software',
      phone: phone(),
      street: '100 Market St',
      city: 'New York',
      state: 'New York',
      country: 'United States',
      ticker: null,
    },
    ...OTHER_COMPANIES.map((c) => ({
      id: newId(10_000_000, 400_000_000),
      name: c.name,
      website: `www.${c.domain}`,
      domain: c.domain,
      employeeCount: c.employees,
      revenue: c.employees * rng.int(90, 260),
      primaryIndustry: c.industry,
      phone: phone(),
      street: `${rng.int(1, 999)} ${rng.pick(['Main', 'Oak', 'Pine', 'Harbor', 'Mill'])} St`,
      city: c.city,
      state: c.state,
      country: 'United States',
      ticker: c.ticker,
    })),
  ];

  const contacts: SimZiContact[] = [];
  const addPeople = (people: Person[], company: SimZiCompany, keepKey: boolean) => {
    for (const p of people) {
      if (p.employment !== 'active') continue;
      const local = p.email.slice(0, p.email.indexOf('@'));
      const [city, state, country] = LOCATIONS[p.timeZone] ?? ['New York', 'New York', 'United States'];
      const validMs = PEOPLE_AS_OF_MS - rng.int(1, 120) * DAY_MS - rng.int(0, 1439) * 60_000;
      contacts.push({
        id: newId(1_000_000, 2_000_000_000),
        firstName: p.firstName,
        lastName: p.lastName,
        email: `${local}@${company.domain}`,
        phone: phone(),
        mobilePhone: rng.chance(0.5) ? phone() : null,
        jobTitle: p.title,
        managementLevel: managementLevelOf(p.title),
        department: DEPARTMENTS[p.department] ?? 'Other',
        companyId: company.id,
        city,
        state,
        country,
        contactAccuracyScore: rng.int(75, 99),
        validDate: usDate(validMs),
        lastUpdatedDate: usDate(validMs - rng.int(0, 200) * DAY_MS),
        personKey: keepKey ? p.key : null,
      });
    }
  };
  addPeople(generatePeople(acmeContacts, seed), companies[0]!, true);
  for (const c of companies.slice(1)) addPeople(generatePeople(rng.int(12, 40), deriveSeed(seed, `zoominfo:${c.domain}`)), c, false);
  return { companies, contacts };
}
