/** The vendor's id (tool arguments, plans, audit, limiter keys) and its name in messages: defined once. */
export const APOLLO = { id: 'apollo', label: 'Apollo.io' } as const;
