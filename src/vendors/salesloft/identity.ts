/** The vendor's id (tool arguments, plans, audit, limiter keys) and its name in messages: defined once. */
export const SALESLOFT = { id: 'salesloft', label: 'SalesLoft' } as const;
