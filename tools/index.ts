import listConnections from './list-connections.js';
import checkConnections from './workflows/check-connections.js';
import outreachCreateUser from './outreach/create-user.js';
import outreachGetUser from './outreach/get-user.js';
import outreachListMailboxes from './outreach/list-mailboxes.js';
import outreachListProfiles from './outreach/list-profiles.js';
import outreachListRoles from './outreach/list-roles.js';
import outreachListUsers from './outreach/list-users.js';
import outreachLockUser from './outreach/lock-user.js';
import outreachUnlockUser from './outreach/unlock-user.js';
import outreachUpdateUser from './outreach/update-user.js';
import scimCreateGroup from './scim/create-group.js';
import scimDeleteGroup from './scim/delete-group.js';
import scimDeleteUser from './scim/delete-user.js';
import scimDeprovisionUser from './scim/deprovision-user.js';
import scimGetUser from './scim/get-user.js';
import scimListGroups from './scim/list-groups.js';
import scimListUsers from './scim/list-users.js';
import scimProvisionUser from './scim/provision-user.js';
import scimUpdateGroupMembers from './scim/update-group-members.js';
import scimUpdateUser from './scim/update-user.js';
import zoominfoEnrichCompany from './zoominfo/enrich-company.js';
import zoominfoEnrichContact from './zoominfo/enrich-contact.js';
import zoominfoGetUsage from './zoominfo/get-usage.js';
import zoominfoLookupContact from './zoominfo/lookup-contact.js';
import zoominfoSearchCompanies from './zoominfo/search-companies.js';
import zoominfoSearchContacts from './zoominfo/search-contacts.js';
import apolloCreateContact from './apollo/create-contact.js';
import apolloEnrichPerson from './apollo/enrich-person.js';
import apolloGetApiUsageStats from './apollo/get-api-usage-stats.js';
import apolloGetCreditUsageStats from './apollo/get-credit-usage-stats.js';
import apolloGetTokenOwner from './apollo/get-token-owner.js';
import apolloListUsers from './apollo/list-users.js';
import apolloSearchContacts from './apollo/search-contacts.js';
import apolloSearchPeople from './apollo/search-people.js';
import salesloftDeactivateUser from './salesloft/deactivate-user.js';
import salesloftReactivateUser from './salesloft/reactivate-user.js';
import salesloftUpdateUser from './salesloft/update-user.js';
import salesloftGetMe from './salesloft/get-me.js';
import salesloftGetUser from './salesloft/get-user.js';
import salesloftListGroups from './salesloft/list-groups.js';
import salesloftListPendingInvitations from './salesloft/list-pending-invitations.js';
import salesloftListRoles from './salesloft/list-roles.js';
import salesloftListTeamMembers from './salesloft/list-team-members.js';
import salesloftListUsers from './salesloft/list-users.js';
import accessReview from './workflows/access-review.js';
import executeOffboarding from './workflows/execute-offboarding.js';
import findUser from './workflows/find-user.js';
import planOffboarding from './workflows/plan-offboarding.js';
import type { AnyTool } from './types.js';

/** Every tool the server knows, in the order tools/list shows them. */
export const ALL_TOOLS: AnyTool[] = [
  listConnections,
  checkConnections,
  findUser,
  accessReview,
  planOffboarding,
  executeOffboarding,
  outreachListUsers,
  outreachGetUser,
  outreachCreateUser,
  outreachUpdateUser,
  outreachLockUser,
  outreachUnlockUser,
  outreachListRoles,
  outreachListProfiles,
  outreachListMailboxes,
  salesloftListUsers,
  salesloftGetUser,
  salesloftGetMe,
  salesloftListTeamMembers,
  salesloftListGroups,
  salesloftListRoles,
  salesloftListPendingInvitations,
  salesloftDeactivateUser,
  salesloftReactivateUser,
  salesloftUpdateUser,
  apolloListUsers,
  apolloGetApiUsageStats,
  apolloGetCreditUsageStats,
  apolloSearchPeople,
  apolloSearchContacts,
  apolloEnrichPerson,
  apolloCreateContact,
  apolloGetTokenOwner,
  scimListUsers,
  scimGetUser,
  scimProvisionUser,
  scimUpdateUser,
  scimDeprovisionUser,
  scimDeleteUser,
  scimListGroups,
  scimUpdateGroupMembers,
  scimCreateGroup,
  scimDeleteGroup,
  zoominfoSearchContacts,
  zoominfoEnrichContact,
  zoominfoSearchCompanies,
  zoominfoEnrichCompany,
  zoominfoLookupContact,
  zoominfoGetUsage,
];
