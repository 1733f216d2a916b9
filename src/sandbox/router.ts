/*
 * The route table every simulator dispatches through: an HTTP method and a path pattern per entry, tried in
 * order. A pattern is slash-separated segments; `:name` captures one segment, and a trailing
 * `:name?` makes the last segment optional (`/roles/:id?` is `/roles` and `/roles/{id}`). Method `*` answers
 * any method: a simulator puts one after a path's real routes where its vendor checks something (the id, a
 * resource's existence) before saying 405.
 *
 * The router matches segments, not raw paths: how a vendor's paths are cut into segments (a trailing slash, a
 * `.json` suffix, percent-decoding, case) is the vendor's quirk and stays with its simulator. A parameter takes
 * whatever segment the vendor's cut left there, even an empty one (SalesLoft's `/groups/.json`), so the
 * handler, not the router, decides what an id looks like. Anything else a
 * simulator needs per route (a scope, an endpoint name, whether auth applies) rides on the entry's own fields.
 */

export interface RouteSpec {
  /** An upper-case HTTP method, or `*` for any. */
  method: string;
  /** e.g. `/users/:id`, relative to the simulator's API base. */
  path: string;
}

/** The route a request reached, with the captured segments. */
export interface RouteHit<R extends RouteSpec> {
  route: R;
  params: Record<string, string>;
}

/** The path exists but no route takes the method: the methods it does take, for a 405's `Allow`. */
export interface RouteMiss<R extends RouteSpec> {
  route?: undefined;
  /** In table order, without duplicates; `*` routes add nothing. */
  allow: string[];
  /** The routes whose pattern matched, in table order (for per-route metadata on a 405). */
  routes: R[];
}

type Segment = { literal: string } | { param: string };

interface Compiled<R> {
  route: R;
  segments: Segment[];
}

function compile(path: string): Segment[][] {
  const parts = path.split('/').filter((s) => s !== '');
  const segments = parts.map((p): Segment => (p.startsWith(':') ? { param: p.slice(1).replace(/\?$/, '') } : { literal: p }));
  const last = parts[parts.length - 1];
  return last?.startsWith(':') && last.endsWith('?') ? [segments.slice(0, -1), segments] : [segments];
}

export class Router<R extends RouteSpec> {
  private readonly table: Compiled<R>[] = [];

  constructor(routes: readonly R[]) {
    for (const route of routes) for (const segments of compile(route.path)) this.table.push({ route, segments });
  }

  /** The first route for `method` on `segments`; a RouteMiss when only other methods have the path; undefined when none has it. */
  match(method: string, segments: readonly string[]): RouteHit<R> | RouteMiss<R> | undefined {
    const miss: RouteMiss<R> = { allow: [], routes: [] };
    for (const { route, segments: pattern } of this.table) {
      const params = bind(pattern, segments);
      if (!params) continue;
      if (route.method === '*' || route.method === method) return { route, params };
      if (!miss.allow.includes(route.method)) miss.allow.push(route.method);
      if (!miss.routes.includes(route)) miss.routes.push(route);
    }
    return miss.routes.length ? miss : undefined;
  }
}

function bind(pattern: Segment[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if ('literal' in p) {
      if (p.literal !== s) return undefined;
    } else {
      params[p.param] = s;
    }
  }
  return params;
}

/** `/a/b//c/` → `['a', 'b', '', 'c', '']`: the path's segments after the leading slash, empty ones kept. */
export function splitPath(path: string): string[] {
  return path === '' || path === '/' ? [] : path.replace(/^\//, '').split('/');
}
