import { safeEqual } from '../../http-util.js';
import { fail, readBody, reply, type ZiCall } from '../http.js';
import { contactAll } from './records.js';

/** POST /authenticate, GET /lookup/contact/{id}, and the two shapes of usage. */

export async function authenticate(c: ZiCall): Promise<void> {
  const { env } = c;
  const body = await readBody(c);
  const logged = { username: typeof body.username === 'string' ? body.username : undefined };
  if (typeof body.username !== 'string' || typeof body.password !== 'string') {
    return reply(c, 400, { responseCode: 400, message: 'username and password are required' }, logged);
  }
  if (!safeEqual(body.username, env.username) || !safeEqual(body.password, env.password)) {
    return reply(c, 401, { responseCode: 401, message: 'Invalid username or password' }, logged);
  }
  env.logins++;
  // No refresh token: the notes and the collection document only `jwt`.
  return reply(c, 200, { jwt: env.jwt.issue() }, logged);
}

/** The notes' lookup by id (not in the collection), charged like any record. */
export function lookupContact(c: ZiCall): void {
  const { store } = c.env;
  const rawId = decodeURIComponent(c.params.id!);
  if (!/^\d{1,19}$/.test(rawId)) fail(400, 'Contact id must be numeric');
  const contact = store.contacts.get(Number(rawId));
  if (!contact) fail(404, `No contact with id ${rawId}`);
  const rec = contactAll(store, contact);
  const cost = store.costOf('contact', rec);
  if (cost > store.remaining()) fail(403, `Record limit exceeded: this lookup needs ${cost} credits and ${store.remaining()} remain`);
  const spent = store.charge([{ kind: 'contact', rec }]);
  reply(c, 200, rec, undefined, spent);
}

/** GET /lookup/usage, the collection's shape. */
export function usageCollection(c: ZiCall): void {
  const { store } = c.env;
  const account = store.account;
  reply(c, 200, {
    usage: [
      { limitType: 'requestLimit', description: 'The maximum number of requests you can make', limit: 1_000_000, currentUsage: account.requestCount, usageRemaining: 1_000_000 - account.requestCount },
      { limitType: 'recordLimit', description: 'The maximum number of records you can retrieve', limit: account.creditsLimit, currentUsage: account.creditsUsed, usageRemaining: store.remaining() },
      { limitType: 'uniqueIdLimit', description: 'The maximum number of person or company records you can redeem', limit: 100_000, currentUsage: account.uniqueIds.size, usageRemaining: 100_000 - account.uniqueIds.size },
    ],
  });
}

/** GET /usage, the notes' shape. */
export function usageNotes(c: ZiCall): void {
  const { store } = c.env;
  reply(c, 200, { creditsUsed: store.account.creditsUsed, creditsAvailable: store.remaining() });
}
