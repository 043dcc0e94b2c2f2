// The identity front:
// - the token service, compatible with the Microsoft identity platform v2 endpoints that
//   azure-identity calls (anonymous, as on login.microsoftonline.com):
//     GET  /{tenant}/v2.0/.well-known/openid-configuration
//     GET  /{tenant}/discovery/v2.0/keys
//     POST /{tenant}/oauth2/v2.0/token   (grant_type=client_credentials, form-encoded)
// - the directory admin API under /identity (docs/identity-api.md), for account owners (Shared
//   Key holders).
#pragma once

#include <string_view>

#include "audit/audit_log.h"
#include "identity/identity_service.h"
#include "protocol/context.h"

namespace tarn::protocol {

bool IsTokenServicePath(std::string_view raw_path);
bool IsIdentityAdminPath(std::string_view raw_path);
// Answers a token-service request itself (OAuth errors have their own JSON shape).
void ServeTokenService(Ctx& c, identity::IdentityService& ids);
// audit (may be null) also serves GET /identity/audit to account owners.
Status ServeIdentityAdmin(Ctx& c, identity::IdentityService& ids, audit::AuditLog* audit);

}  // namespace tarn::protocol
