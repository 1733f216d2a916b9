import { SimError } from '../http-util.js';

/** SCIM 2.0's wire constants (RFC 7643/7644), its Error message, and the document type the server works on. */

export const SCIM_MEDIA_TYPE = 'application/scim+json';
export const SCIM_SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  /** SalesLoft invitation state; a colleague's SCIM client maps `pending` from exactly this. */
  salesloftUser: 'urn:ietf:params:scim:schemas:extension:salesloft:2.0:User',
  /** Non-standard ServiceProviderConfig extension saying whether /Groups exists (Apollo: no). */
  sandboxConfig: 'urn:ietf:params:scim:schemas:extension:sandbox:2.0:ServiceProviderConfig',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export type ScimType =
  | 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath'
  | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

/** RFC 7644 3.12: `status` is the HTTP status as a JSON string. */
export function errorBody(status: number, detail: string, scimType?: ScimType) {
  return { schemas: [SCIM_SCHEMA.error], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

/** Throws a SCIM Error answer. */
export function fail(status: number, detail: string, scimType?: ScimType, headers?: Record<string, string | number>): never {
  throw new SimError(status, errorBody(status, detail, scimType), headers);
}

export type Doc = Record<string, unknown>;

export function clone<T>(v: T): T {
  return structuredClone(v);
}
