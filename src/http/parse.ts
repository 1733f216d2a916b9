import type * as z from 'zod';
import { VendorError } from '../errors.js';
import type { VendorResponse } from './types.js';

/**
 * Reads a vendor's answer through the adapter's wire schema. A body that does not fit is never guessed at:
 * it becomes an `invalid_response` VendorError (`vendor`: the HttpCore that made the call, for its id and label) with the first schema issues kept for the log.
 */
export function parseVendorBody<T>(vendor: { vendor: string; label: string }, schema: z.ZodType<T>, res: VendorResponse<unknown>, req: { method: string; path: string }): T {
  const parsed = schema.safeParse(res.body);
  if (parsed.success) return parsed.data;
  throw new VendorError({
    vendor: vendor.vendor,
    code: 'invalid_response',
    status: res.status,
    requestId: res.requestId,
    message: `${vendor.label} answered ${req.method} ${req.path} with a body this server cannot read; nothing was assumed. Retry later or report it.`,
    detail: parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; '),
  });
}
