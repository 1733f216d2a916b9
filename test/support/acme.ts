import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { bearerAuth } from '../../src/auth/static.js';
import type { VendorAccount } from '../../src/domain/account.js';
import { secret, url, type Env } from '../../src/env.js';
import { HttpCore } from '../../src/http/core.js';
import { parseVendorBody } from '../../src/http/parse.js';
import type { VendorResponse } from '../../src/http/types.js';
import type { Change, RestApi, VendorAdapter } from '../../src/vendors/adapter.js';

/*
 * A fifth vendor that exists only in tests: "Acme CRM", an adapter written against the VendorAdapter
 * contract alone, and a tiny simulator of its REST API. Registering it (one more registry entry) must be all
 * it takes for it to flow through list_connections, find_user, access_review and the offboarding.
 */

interface AcmeUser {
  id: number;
  email: string;
  name: string;
  active: boolean;
  admin: boolean;
}

export interface AcmeSim {
  baseUrl: string;
  token: string;
  users(): AcmeUser[];
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

/** GET /users?page=N (25 per page), GET /users/:id, PATCH /users/:id {active}; bearer token required. */
export async function startAcmeSimulator(users: Omit<AcmeUser, 'id'>[]): Promise<AcmeSim> {
  const token = 'acme-test-token-0123456789';
  const store: AcmeUser[] = users.map((u, i) => ({ ...u, id: 1001 + i }));
  const requests: AcmeSim['requests'] = [];
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res) => {
    const u = new URL(req.url ?? '/', 'http://acme.local');
    requests.push({ method: req.method ?? '', path: u.pathname });
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'unauthorized' });
    if (req.method === 'GET' && u.pathname === '/users') {
      const page = Number(u.searchParams.get('page') ?? '1');
      const slice = store.slice((page - 1) * 25, page * 25);
      return send(res, 200, { users: slice, next_page: page * 25 < store.length ? page + 1 : null });
    }
    const m = /^\/users\/(\d+)$/.exec(u.pathname);
    const user = m ? store.find((x) => x.id === Number(m[1])) : undefined;
    if (!user) return send(res, 404, { error: 'not found' });
    if (req.method === 'GET') return send(res, 200, user);
    if (req.method === 'PATCH') {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const body = JSON.parse(raw) as { active?: boolean };
        if (typeof body.active === 'boolean') user.active = body.active;
        send(res, 200, user);
      });
      return;
    }
    send(res, 405, { error: 'method not allowed' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    users: () => store.map((x) => ({ ...x })),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const AcmeUserWire = z.looseObject({ id: z.number(), email: z.string(), name: z.string(), active: z.boolean(), admin: z.boolean() });
const AcmePage = z.looseObject({ users: z.array(AcmeUserWire), next_page: z.number().nullable() });

function toAccount(u: z.infer<typeof AcmeUserWire>): VendorAccount {
  return {
    vendor: 'acme',
    id: String(u.id),
    email: u.email,
    name: u.name,
    status: u.active ? 'active' : 'deactivated',
    role: u.admin ? 'Admin' : 'Member',
    created_at: null,
    updated_at: null,
    source: 'rest',
    is_admin: u.admin,
    active: u.active,
  };
}

class AcmeRest implements RestApi {
  readonly authKind = 'bearer' as const;
  constructor(private readonly core: HttpCore) {}

  budget() {
    return this.core.budget();
  }

  async listAccounts() {
    const accounts: VendorAccount[] = [];
    for (let page: number | null = 1; page !== null; ) {
      const res: VendorResponse = await this.core.request({ method: 'GET', path: '/users', query: { page } });
      const body: z.infer<typeof AcmePage> = parseVendorBody(this.core, AcmePage, res, { method: 'GET', path: '/users' });
      accounts.push(...body.users.map(toAccount));
      page = body.next_page;
    }
    return { accounts, adminKnown: true };
  }

  async findByEmail(email: string) {
    return (await this.listAccounts()).accounts.filter((a) => a.email?.toLowerCase() === email.toLowerCase());
  }

  async getAccount(id: string) {
    const res = await this.core.request({ method: 'GET', path: `/users/${id}` });
    return toAccount(parseVendorBody(this.core, AcmeUserWire, res, { method: 'GET', path: '/users/:id' }));
  }

  deactivation(target: { id: string; email: string | null }): Change<VendorAccount> {
    return {
      vendor: 'acme',
      kind: 'deactivate',
      via: 'rest',
      target,
      summary: `Deactivate Acme CRM user ${target.email ?? target.id}`,
      action: 'deactivate (active: false)',
      caveats: [],
      read: () => this.getAccount(target.id),
      satisfied: (a) => a.status === 'deactivated',
      apply: async () => ({ requestId: (await this.core.request({ method: 'PATCH', path: `/users/${target.id}`, body: { active: false }, idempotent: true })).requestId }),
    };
  }

  close() {
    return this.core.close();
  }
}

interface AcmeSettings {
  baseUrl: string;
  token: string | undefined;
}

export const acmeAdapter: VendorAdapter<AcmeSettings, AcmeRest> = {
  id: 'acme',
  label: 'Acme CRM',
  envPrefix: 'ACME',
  credentialVariables: ['ACME_API_TOKEN'],
  capabilities: {
    operations: {
      list_users: ['rest'],
      get_user: ['rest'],
      create_user: ['ui'],
      update_user: ['ui'],
      deactivate_user: ['rest'],
      reactivate_user: ['rest'],
      delete_user: ['none'],
      list_groups: ['none'],
    },
    scim_plan: 'none',
    caveats: ['Acme CRM keeps a deactivated user\'s records.'],
  },
  review: {
    label: 'Acme CRM',
    rules: [],
    offboardingPath: () => 'REST active: false',
    noAutomatedOffboarding: { severity: 'low', message: 'Acme CRM has no SCIM.', recommended_action: 'Deactivate leavers through REST.' },
  },
  scim: { tokenSource: 'nowhere (Acme CRM has no SCIM)', deprovisionNote: '', deleteNote: '', provisionCaveats: [] },
  offboarding: {
    rest: { path: 'rest_deactivate', action: 'deactivate through REST (active: false)', expected: 'deactivated' },
    seatFreed: () => true,
    followUps: () => ['Reassign their Acme CRM deals by hand.'],
  },
  settings: (env: Env) => ({ baseUrl: url(env, 'ACME_BASE_URL', 'https://api.acme.example'), token: secret(env, 'ACME_API_TOKEN') }),
  hasCredentials: (s) => s.token !== undefined,
  async connectRest(s, opts) {
    const core = new HttpCore({
      vendor: 'acme',
      label: 'Acme CRM',
      baseUrl: s.baseUrl,
      auth: bearerAuth(s.token!),
      limits: { windows: [{ name: 'minute', intervalMs: 60_000, limit: 600 }] },
      clock: opts.clock,
      log: opts.log,
      dispatcher: opts.dispatcher,
    });
    return new AcmeRest(core);
  },
};
