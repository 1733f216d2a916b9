/**
 * Which lifecycle operations a vendor allows, and through which path, as the vendor notes in
 * shared/vendor-docs/ state them (each adapter holds its own matrix). `rest` and `scim` name the API; `ui`
 * means only the vendor's admin console can do it; `none` means no documented way. Plan requirements are the
 * notes' words.
 */
export type Path = 'rest' | 'scim' | 'ui' | 'none';

export const OPERATIONS = ['list_users', 'get_user', 'create_user', 'update_user', 'deactivate_user', 'reactivate_user', 'delete_user', 'list_groups'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface VendorCapabilities {
  operations: Record<Operation, Path[]>;
  scim_plan: string;
  /** What deactivation does to the seat and to owned records, in one line each. */
  caveats: string[];
}
