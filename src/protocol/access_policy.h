// Stored access policies of a container (Set/Get Container ACL, <SignedIdentifiers>): up to
// five named policies, each with an optional start, expiry and permission list, that a service
// SAS names with si=<id>. Changing or removing a policy changes what those SAS may do at once:
// the SAS is checked against the container's policies as they are on every request.
//
// Contract
// - ParseSignedIdentifiers accepts what Azure accepts: at most 5 <SignedIdentifier>, each with a
//   unique <Id> of 1 to 64 characters, and an <AccessPolicy> whose Start and Expiry are ISO 8601
//   times and whose Permission holds only SAS permission letters (racwdxltmeop), each at most
//   once. Anything else is kInvalidXml; nothing is stored from a refused document.
// - FormatSignedIdentifiers is the stored form and Get Container ACL's body; it parses again to
//   the same policies ("" for none stores nothing).
//
//   TARN_ASSIGN_OR_RETURN(auto policies, ParseSignedIdentifiers(body));
//   fs.signed_identifiers = FormatSignedIdentifiers(policies);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tarn::protocol {

inline constexpr size_t kMaxAccessPolicies = 5;

struct AccessPolicy {
  std::string id;
  std::string start;       // ISO 8601 as given, "" when the policy leaves it to the SAS
  std::string expiry;      // likewise
  std::string permission;  // letters, "" when the policy leaves them to the SAS
  friend bool operator==(const AccessPolicy&, const AccessPolicy&) = default;
};

StatusOr<std::vector<AccessPolicy>> ParseSignedIdentifiers(std::string_view xml);

// "" for no policy; else the <SignedIdentifiers> document.
std::string FormatSignedIdentifiers(const std::vector<AccessPolicy>& policies);

// The policy named `id` in a stored document, or nullopt.
std::optional<AccessPolicy> FindAccessPolicy(std::string_view stored, std::string_view id);

}  // namespace tarn::protocol
