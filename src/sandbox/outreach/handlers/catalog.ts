import type { Collection } from '../../collection.js';
import { pathId, requireScope, respond, type OutreachCall } from '../http.js';
import { fail, listDocument, serialize, type ResourceDef } from '../jsonapi.js';
import type { OutreachStore } from '../store.js';

/**
 * Read-only resource types (roles, profiles): a list with the full JSON:API query and a read by id, behind one
 * scope. Ids are integers in the path, strings in bodies.
 */
export function catalog<T>(def: ResourceDef<T, OutreachCall>, scope: string, collection: (store: OutreachStore) => Collection<T, string>) {
  return {
    list(c: OutreachCall): void {
      requireScope(c, scope);
      respond(c, 200, listDocument(c, def, collection(c.env.store).all(), c.url.searchParams, c.env.base));
    },
    get(c: OutreachCall): void {
      requireScope(c, scope);
      const id = String(pathId(c));
      const item = collection(c.env.store).get(id);
      if (!item) fail(404, `${def.type} ${id} not found`);
      respond(c, 200, { data: serialize(def, item, c.env.base) });
    },
  };
}
