import type { VendorAccount } from '../domain/account.js';
import type { Change, OwnedRecord, TransferState } from './adapter.js';

/**
 * The owner change of one transfer batch as a Change, the same for every vendor: the state is whose the
 * records are. The write's own answer (the batch finished, or the records' new owner) is its read-back;
 * the next listing round of the transfer re-checks, so `read` is only a fallback that proves nothing.
 */
export function ownerChange(
  vendor: { id: string; label: string },
  type: string,
  batch: readonly OwnedRecord[],
  owner: VendorAccount,
  to: VendorAccount,
  write: (signal?: AbortSignal) => Promise<{ requestId: string | undefined; owner: string | null }>,
): Change<TransferState> {
  const ids = batch.map((r) => r.id);
  return {
    vendor: vendor.id,
    kind: `transfer_${type}`,
    via: 'rest',
    target: { id: owner.id, email: owner.email },
    summary: `Hand ${ids.length} ${vendor.label} ${type} of ${owner.email ?? owner.id} to ${to.email ?? to.id}`,
    action: `hand over ${ids.length} ${type}`,
    caveats: [],
    read: async () => ({ ids, owner: null }),
    satisfied: (s) => s.owner === to.id,
    apply: async (_before, signal) => {
      const r = await write(signal);
      return { requestId: r.requestId, after: { ids, owner: r.owner } };
    },
  };
}
