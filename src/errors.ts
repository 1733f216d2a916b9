/**
 * The errors a tool can return, in a leaf every layer may import: VendorError (a failed vendor call, raised by
 * the HTTP core and the vendor clients) and ToolInputError (bad input or a refused operation, raised by tools,
 * the plan store and the credit ledger).
 */
export type VendorErrorCode =
  | 'bad_request' // 400, 422: the input was wrong
  | 'unauthorized' // 401 after the one refresh retry
  | 'forbidden' // 403: scope, plan or key type
  | 'not_found' // 404
  | 'conflict' // 409, 412
  | 'rate_limited' // 429 after retries, or the deadline would pass while waiting
  | 'unavailable' // 5xx
  | 'network' // connection reset, DNS, TLS, timeout
  | 'invalid_response' // the vendor answered something we cannot read
  | 'config'; // missing or malformed configuration

/**
 * A failed vendor call. `message` is public: it goes to the agent and must say what to do next, and never
 * contains a secret or a raw vendor body. `detail` is internal, for the log only, and is already
 * redacted.
 */
export class VendorError extends Error {
  override readonly name = 'VendorError';
  /** Vendor id, or 'core' for a failure of this server's own HTTP layer. */
  readonly vendor: string;
  readonly status: number | undefined;
  readonly code: VendorErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;
  readonly detail: string | undefined;
  /** True when the vendor may have applied a write (timeout or reset after the request was sent). */
  readonly ambiguous: boolean;

  constructor(opts: {
    vendor: string;
    code: VendorErrorCode;
    message: string;
    status?: number;
    retryAfterMs?: number;
    requestId?: string;
    detail?: string;
    ambiguous?: boolean;
  }) {
    super(opts.message);
    this.vendor = opts.vendor;
    this.code = opts.code;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.requestId = opts.requestId;
    this.detail = opts.detail;
    this.ambiguous = opts.ambiguous ?? false;
  }

  /** What a tool result shows: the public message plus the request id, for a support ticket. */
  toPublicText(): string {
    const parts = [this.message];
    if (this.requestId) parts.push(`(vendor request id ${this.requestId})`);
    return parts.join(' ');
  }
}

/**
 * `err` without the claim that a write may have been applied, for a failure that happened before the
 * request it is reported for was sent (or after the vendor refused it): a credential that could not be
 * obtained, whatever became of the token request behind it.
 */
export function notApplied(err: VendorError): VendorError {
  if (!err.ambiguous) return err;
  const { vendor, code, message, status, retryAfterMs, requestId, detail } = err;
  return new VendorError({ vendor, code, message, status, retryAfterMs, requestId, detail });
}

/** Bad tool input or a refused operation: the message names the field or setting to fix. */
export class ToolInputError extends Error {
  override readonly name: string = 'ToolInputError';
  constructor(
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}
