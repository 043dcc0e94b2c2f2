// Pieces of the token service shared by identity_service.cc and sign_in.cc.
#pragma once

#include <optional>
#include <string>

#include "identity/identity_service.h"

namespace tarn::identity::internal {

inline constexpr char kDeviceCodeGrant[] = "urn:ietf:params:oauth:grant-type:device_code";

// An OAuth error answer shaped as the Microsoft identity platform's: error, error_description
// ("AADSTS<code>: text" with trace and correlation ids), error_codes, timestamp...
OAuthReply OAuthError(int status, const std::string& error, int code, const std::string& text);
// AADSTS700016: client_id names no application of tenant.
OAuthReply UnknownApplication(const std::string& client_id, const std::string& tenant);
// Takes a token request's scope apart into *out; an unusable scope is the answer to give.
std::optional<OAuthReply> ParseScope(const std::string& scope, TokenScope* out);

}  // namespace tarn::identity::internal
