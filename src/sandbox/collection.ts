/*
 * A simulator store's collection of one resource type (users, roles, groups, contacts...): the records in
 * their seeded order, an index by id, and change events. Stores hold one per resource type, so a new resource
 * type is a new collection; REST handlers, SCIM links and test snapshots all go through it.
 *
 * Records are mutable objects: a store changes one in place and then calls changed(record), which bumps the
 * collection's version (listings cached per version recompute) and tells the listeners (a linked SCIM server).
 */

export class Collection<T, K = string> {
  private readonly list: T[] = [];
  private readonly index = new Map<K, T>();
  private readonly listeners = new Set<(item: T) => void>();
  /** Bumped by every add, delete and change: a cache keyed by it is stale when it moved. */
  version = 0;

  constructor(
    private readonly keyOf: (item: T) => K,
    items: Iterable<T> = [],
  ) {
    for (const item of items) {
      this.list.push(item);
      this.index.set(keyOf(item), item);
    }
  }

  get size(): number {
    return this.list.length;
  }

  /** Every record, live, in insertion order. */
  all(): readonly T[] {
    return this.list;
  }

  get(key: K): T | undefined {
    return this.index.get(key);
  }

  /** The last record added (the highest id where ids only grow). */
  last(): T | undefined {
    return this.list[this.list.length - 1];
  }

  /** Appends a new record and announces it. */
  add(item: T): T {
    this.list.push(item);
    this.index.set(this.keyOf(item), item);
    this.changed(item);
    return item;
  }

  delete(item: T): boolean {
    const at = this.list.indexOf(item);
    if (at < 0) return false;
    this.list.splice(at, 1);
    this.index.delete(this.keyOf(item));
    this.version++;
    return true;
  }

  /** Call after changing a record in place. */
  changed(item: T): void {
    this.version++;
    // A copy, so a listener may unsubscribe while it is being told.
    for (const l of [...this.listeners]) l(item);
  }

  /** `listener(record)` after every add and change; returns the unsubscribe. */
  onChange(listener: (item: T) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Shallow copies, in order: what a simulator's snapshot accessors (users(), roles()...) hand out. */
  copies(): T[] {
    return this.list.map((item) => ({ ...item }));
  }
}

/**
 * Sets each field of `changes` that differs on `target`; true when any did. Stores move their record's
 * updated time only then, so a write that changes nothing is not a phantom update to change pollers.
 */
export function assignChanged<T extends object>(target: T, changes: Partial<T>): boolean {
  let dirty = false;
  for (const [k, v] of Object.entries(changes) as [keyof T, T[keyof T]][]) {
    if (target[k] !== v) {
      target[k] = v;
      dirty = true;
    }
  }
  return dirty;
}

/** Page `page` (1-based) of `perPage` items: the numbered paging SalesLoft, Apollo and ZoomInfo share. */
export function pageOf<T>(items: readonly T[], page: number, perPage: number): T[] {
  return items.slice((page - 1) * perPage, page * perPage);
}
