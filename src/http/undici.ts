/**
 * undici, loaded on the first vendor request rather than at start-up: it is the largest module the server
 * uses, and a start that only answers tools/list (most MCP sessions begin so) never needs it. Types are
 * imported statically where needed; they cost nothing at run time.
 */
let loading: Promise<typeof import('undici')> | undefined;

export function loadUndici(): Promise<typeof import('undici')> {
  return (loading ??= import('undici'));
}
