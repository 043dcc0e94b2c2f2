// The identity front, one operation per route (the route table in route_table.cc reaches them):
// - the token service, compatible with the Microsoft identity platform v2 endpoints that
//   azure-identity calls (anonymous, as on login.microsoftonline.com; errors in OAuth's own
//   JSON shape, answered by the operations themselves):
//     GET  /{tenant}/v2.0/.well-known/openid-configuration
//     GET  /{tenant}/discovery/v2.0/keys
//     POST /{tenant}/oauth2/v2.0/token   (form-encoded: client_credentials, password,
//                                          refresh_token, device_code)
//     POST /{tenant}/oauth2/v2.0/devicecode       (starts the device code flow)
//     GET|POST /{tenant}/oauth2/v2.0/devicelogin  (its verification page, an HTML form; https)
// - the directory admin API under /identity (docs/identity-api.md), for account owners.
// Every operation reads its arguments from c.segments (the decoded path) and its services from
// c.ids and c.audit, which the pipeline has checked are present.
#pragma once

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol::identity_ops {

Status OpenIdConfiguration(Ctx& c);
Status Jwks(Ctx& c);
Status Token(Ctx& c);
Status TokenMethodNotAllowed(Ctx& c);
Status DeviceCode(Ctx& c);
Status DeviceLoginPage(Ctx& c);
Status DeviceLogin(Ctx& c);

Status CreateTenant(Ctx& c);
Status ListTenants(Ctx& c);
Status CreatePrincipal(Ctx& c);
Status ListPrincipals(Ctx& c);
Status CreateGroup(Ctx& c);
Status ListGroups(Ctx& c);
Status GetPrincipal(Ctx& c);
Status DeletePrincipal(Ctx& c);
Status AddSecret(Ctx& c);
Status RemoveSecret(Ctx& c);
Status SetPassword(Ctx& c);
Status AddMember(Ctx& c);
Status RemoveMember(Ctx& c);
Status AssignRole(Ctx& c);
Status ListRoles(Ctx& c);
Status RemoveRole(Ctx& c);
Status ReadAudit(Ctx& c);

}  // namespace tarn::protocol::identity_ops
