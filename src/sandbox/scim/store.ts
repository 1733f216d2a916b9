import type { Clock } from '../../clock.js';
import { Collection } from '../collection.js';
import type { ScimLink, ScimLinkChanges, ScimLinkUser } from '../link.js';
import type { ScimVendorBehaviour, ScimVendor } from './profiles.js';
import { type Doc } from './protocol.js';
import { isRecord } from '../values.js';
import {
  DEFAULT_USER_COUNT,
  buildDirectory,
  buildLinkedDirectory,
  linkShared,
  linkedDoc,
  linkedRecord,
  snapshotGroup,
  snapshotUser,
  type GroupRec,
  type LinkShared,
  type ScimSimGroup,
  type ScimSimUser,
  type UserRec,
} from './seed.js';

/** What both stored resource types have: the document and its metadata. */
export interface ScimRecord {
  id: string;
  doc: Doc;
  created: number;
  lastModified: number;
  version: number;
}

/**
 * The SCIM server's state: users and groups (documents plus metadata), no HTTP. Linked to a REST simulator
 * (see ScimLink), the REST record is the store of the shared fields:
 *
 * - Reads: every request (and users()) re-reads the REST record of each user it touches (hydrate), so `active`
 *   is live both ways; a REST-side change of name or email (against what was last seen) is copied into the
 *   SCIM document.
 * - Writes: a SCIM write that changes a shared field goes to the REST record (pushShared) before the response.
 * - New REST seats (a REST POST) join the directory through link.onChange (adopt).
 *
 * Unlinked, none of this runs.
 */
export class ScimStore {
  readonly users: Collection<UserRec>;
  readonly groups: Collection<GroupRec>;
  private readonly nextUserId: (createdMs: number) => string;
  private readonly nextGroupId: (createdMs: number) => string;
  /** True while this server writes to the REST simulator, so its own change events are not read back. */
  private pushing = false;
  private readonly unlink: (() => void) | undefined;

  constructor(
    vendor: ScimVendor,
    private readonly behaviour: ScimVendorBehaviour,
    private readonly clock: Clock,
    private readonly link: ScimLink | undefined,
    seed: number,
    userCount = DEFAULT_USER_COUNT,
  ) {
    const dir = link ? buildLinkedDirectory(vendor, link, seed) : buildDirectory(vendor, userCount, seed);
    this.users = new Collection((u) => u.id, dir.users);
    this.groups = new Collection((g) => g.id, dir.groups);
    this.nextUserId = dir.nextUserId;
    this.nextGroupId = dir.nextGroupId;
    this.unlink = link?.onChange((id) => {
      if (this.pushing) return;
      const u = this.users.get(id);
      if (u) {
        this.hydrate(u);
        return;
      }
      const r = link.get(id);
      if (r) this.adopt(r);
    });
  }

  /** Whether the users live in a REST simulator (see ScimLink). */
  get linked(): boolean {
    return this.link !== undefined;
  }

  /** A write changed `r`: it was modified now, and its version (ETag) moves. */
  touch(r: { lastModified: number; version: number }): void {
    r.lastModified = this.clock.now();
    r.version++;
  }

  /** The users SCIM serves (Outreach's DELETE hides a user but keeps it). */
  liveUsers(): UserRec[] {
    return this.users.all().filter((u) => !u.deleted);
  }

  /** A user SCIM serves, read now; undefined for an unknown or hidden one. */
  visibleUser(id: string): UserRec | undefined {
    const u = this.users.get(id);
    return u && !u.deleted ? this.hydrate(u) : undefined;
  }

  /** Each user's groups, for serializing many users at once. */
  groupsOfIndex(): Map<string, GroupRec[]> {
    const idx = new Map<string, GroupRec[]>();
    for (const g of this.groups.all()) for (const m of g.memberIds) idx.set(m, [...(idx.get(m) ?? []), g]);
    return idx;
  }

  /** SCIM POST /Users: linked, the REST simulator creates the seat (and its id), so its REST API lists it too. */
  createUser(doc: Doc): UserRec {
    const now = this.clock.now();
    let id: string;
    let seen: LinkShared | undefined;
    if (this.link) {
      const name = isRecord(doc.name) ? (doc.name as Doc) : {};
      const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
      const r = this.pushingTo(() =>
        this.link!.create({
          email: doc.userName as string,
          givenName: str(name.givenName),
          familyName: str(name.familyName),
          title: str(doc.title),
          timeZone: str(doc.timezone),
          active: doc.active === true,
          externalId: str(doc.externalId),
        }),
      );
      id = r.id;
      seen = linkShared(r);
    } else {
      id = this.nextUserId(now);
    }
    return this.users.add({
      id,
      doc,
      // SalesLoft, the notes: "SalesLoft creates the user and sends an invitation email to complete account
      // setup"; the account is pending until accepted (acceptInvitation()).
      invitationStatus: this.behaviour.invitations ? 'pending' : null,
      deleted: false,
      created: now,
      lastModified: now,
      version: 1,
      personKey: null,
      seedKind: 'created',
      ...(seen ? { seen } : {}),
    });
  }

  /** Stores `doc` as the user's document when it differs (then touched and, linked, pushed to REST). */
  replaceUser(u: UserRec, doc: Doc): void {
    if (JSON.stringify(doc) === JSON.stringify(u.doc)) return;
    u.doc = doc;
    this.touch(u);
    this.pushShared(u);
  }

  /** SCIM DELETE /Users/{id}, by the vendor's rule (behaviour.userDelete). */
  deleteUser(u: UserRec): void {
    if (this.behaviour.userDelete === 'hide') {
      // Outreach: gone from SCIM from now on (404), but "may not permanently remove user data".
      u.deleted = true;
      u.doc.active = false;
      for (const g of this.groups.all()) {
        if (g.memberIds.includes(u.id)) {
          g.memberIds = g.memberIds.filter((m) => m !== u.id);
          this.touch(g);
        }
      }
    } else {
      // SalesLoft, Apollo, ZoomInfo: DELETE deactivates; GET keeps serving the user with active false.
      u.doc.active = false;
    }
    this.touch(u);
    // Linked: the REST record goes inactive too (Outreach active false, SalesLoft active false, Apollo deleted).
    this.pushShared(u);
  }

  createGroup(doc: Doc, memberIds: string[]): GroupRec {
    const now = this.clock.now();
    return this.groups.add({ id: this.nextGroupId(now), doc, memberIds, created: now, lastModified: now, version: 1, seedKind: 'created' });
  }

  /** Stores a group's document and members when either differs. */
  replaceGroup(g: GroupRec, doc: Doc, memberIds: string[]): void {
    if (JSON.stringify(doc) === JSON.stringify(g.doc) && JSON.stringify(memberIds) === JSON.stringify(g.memberIds)) return;
    g.doc = doc;
    g.memberIds = memberIds;
    this.touch(g);
  }

  /** SalesLoft: the invited user accepted (pending -> accepted). */
  acceptInvitation(id: string): ScimSimUser {
    if (!this.behaviour.invitations) throw new Error(`${this.behaviour.label} SCIM has no invitations; acceptInvitation is SalesLoft-only`);
    const u = this.users.get(id);
    if (!u || u.deleted) throw new Error(`no SalesLoft SCIM user ${id}`);
    if (u.invitationStatus !== 'accepted') {
      u.invitationStatus = 'accepted';
      this.touch(u);
    }
    return snapshotUser(this.hydrate(u), this.groups.all());
  }

  userSnapshots(): ScimSimUser[] {
    return this.users.all().map((u) => snapshotUser(this.hydrate(u), this.groups.all()));
  }

  groupSnapshots(): ScimSimGroup[] {
    return this.groups.all().map(snapshotGroup);
  }

  close(): void {
    this.unlink?.();
  }

  // --- the link ---------------------------------------------------------------------------------------------

  /** Linked: brings the REST record's shared fields into the SCIM document (a live read); no-op unlinked. */
  hydrate(u: UserRec): UserRec {
    if (!this.link || !u.seen) return u;
    const r = this.link.get(u.id);
    if (!r) return u;
    const was = u.seen;
    let changed = false;
    if (u.doc.active !== r.active) {
      u.doc.active = r.active;
      changed = true;
    }
    if (r.email !== was.email) {
      if (typeof u.doc.userName === 'string' && u.doc.userName.toLowerCase() === was.email.toLowerCase()) u.doc.userName = r.email;
      const emails = Array.isArray(u.doc.emails) ? (u.doc.emails as Doc[]) : [];
      const primary = emails.find((e) => e.primary === true) ?? emails[0];
      if (primary && typeof primary.value === 'string' && primary.value.toLowerCase() === was.email.toLowerCase()) primary.value = r.email;
      changed = true;
    }
    if (r.givenName !== was.givenName || r.familyName !== was.familyName) {
      const before = fullName(was.givenName, was.familyName);
      const after = fullName(r.givenName, r.familyName);
      const name: Doc = isRecord(u.doc.name) ? { ...(u.doc.name as Doc) } : {};
      if (r.givenName) name.givenName = r.givenName;
      else delete name.givenName;
      if (r.familyName) name.familyName = r.familyName;
      else delete name.familyName;
      if (name.formatted === undefined || name.formatted === before) name.formatted = after;
      if (!name.formatted) delete name.formatted;
      if (Object.keys(name).length) u.doc.name = name;
      else delete u.doc.name;
      if (u.doc.displayName === before) {
        if (after) u.doc.displayName = after;
        else delete u.doc.displayName;
      }
      changed = true;
    }
    u.seen = linkShared(r);
    if (changed) {
      u.lastModified = Math.max(u.lastModified, r.lastModified ?? this.clock.now());
      u.version++;
    }
    return u;
  }

  /** Linked: sends the shared fields a SCIM write changed to the REST record; no-op unlinked. */
  private pushShared(u: UserRec): void {
    const link = this.link;
    if (!link || !u.seen) return;
    const d = u.doc;
    const name = isRecord(d.name) ? (d.name as Doc) : {};
    const changes: ScimLinkChanges = {};
    if (d.active !== u.seen.active) changes.active = d.active === true;
    // userName is the login email (the notes' Okta mapping: userName -> email).
    if (typeof d.userName === 'string' && d.userName !== u.seen.email) changes.email = d.userName;
    // Names are set, never cleared: the REST APIs require them (a SCIM remove keeps the REST name).
    if (typeof name.givenName === 'string' && name.givenName && name.givenName !== u.seen.givenName) changes.givenName = name.givenName;
    if (typeof name.familyName === 'string' && name.familyName && name.familyName !== u.seen.familyName) changes.familyName = name.familyName;
    if (Object.keys(changes).length) this.pushingTo(() => link.update(u.id, changes));
    const r = link.get(u.id);
    if (r) u.seen = linkShared(r);
  }

  /** Linked: a seat the REST side created after start (e.g. an Outreach REST POST) joins the directory. */
  private adopt(r: ScimLinkUser): void {
    this.users.add(linkedRecord(r, linkedDoc(r, null), this.behaviour.invitations));
  }

  /** Runs a write to the REST simulator without reading its change events back. */
  private pushingTo<T>(write: () => T): T {
    this.pushing = true;
    try {
      return write();
    } finally {
      this.pushing = false;
    }
  }
}

function fullName(given: string | null, family: string | null): string {
  return [given, family].filter((x): x is string => !!x).join(' ');
}
