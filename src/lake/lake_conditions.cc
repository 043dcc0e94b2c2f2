// Preconditions (If-Match, If-None-Match, If-(Un)Modified-Since) and the lease a write must name:
// what every write of the lake service checks first.
#include "lake/lake_service.h"

#include <cctype>

#include "common/time_util.h"
#include "lake/lake_internal.h"

namespace tarn::lake {

using State = meta::Lease::State;
using namespace internal;  // NOLINT: this file is the implementation of internal's users

namespace internal {

bool EqualsLeaseId(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

namespace {

std::string Unquote(const std::string& s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

bool EtagListMatches(const std::string& header, const std::string& etag) {
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string::npos) comma = header.size();
    std::string item = header.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item == "*" || Unquote(item) == etag) return true;
    start = comma + 1;
  }
  return false;
}

// Evaluates preconditions against the current state of a resource (nullopt when missing).
// Reads answer NotModified where HTTP says 304; writes answer ConditionNotMet.
}  // namespace

Status CheckConditions(const Conditions& c, const std::string* etag, int64_t modified_us,
                       bool is_read, Reason fail) {
  if (c.empty()) return Status::Ok();
  const bool exists = etag != nullptr;
  if (c.if_match) {
    if (!exists || !EtagListMatches(*c.if_match, *etag)) {
      return Error(fail, "The condition specified using HTTP conditional header(s) is not met.");
    }
  }
  // As HTTP orders them: an etag condition, when present, decides instead of its date twin.
  if (!c.if_match && c.if_unmodified_since && exists &&
      modified_us / 1000000 > *c.if_unmodified_since / 1000000) {
    return Error(fail, "The condition specified using HTTP conditional header(s) is not met.");
  }
  if (c.if_none_match && exists && EtagListMatches(*c.if_none_match, *etag)) {
    // A GET or HEAD answers 304 for any match, "*" included (RFC 9110 13.1.2); only a write
    // turns "*" into "the path already exists".
    if (is_read) return Error(Reason::kNotModified, "Not modified.");
    return Error(*c.if_none_match == "*" && fail == Reason::kConditionNotMet
                     ? Reason::kPathAlreadyExists
                     : fail,
                 *c.if_none_match == "*" ? "The specified path already exists."
                                         : "The condition specified using HTTP conditional "
                                           "header(s) is not met.");
  }
  if (!c.if_none_match && c.if_modified_since && exists &&
      modified_us / 1000000 <= *c.if_modified_since / 1000000) {
    if (is_read) return Error(Reason::kNotModified, "Not modified.");
    return Error(fail, "The condition specified using HTTP conditional header(s) is not met.");
  }
  return Status::Ok();
}

Status CheckNodeConditions(const Conditions& c, const std::optional<Node>& n, bool is_read,
                           Reason fail) {
  return CheckConditions(c, n ? &n->etag : nullptr, n ? n->modified_us : 0, is_read, fail);
}

// A write to a leased resource must name the lease; a write naming a lease needs one.
Status CheckWriteLease(const meta::Lease& lease, const std::optional<std::string>& lease_id) {
  LeaseView v = ViewLease(lease, NowMillis());
  bool active = v.state == State::kLeased || v.state == State::kBreaking;
  if (active) {
    if (!lease_id || lease_id->empty()) {
      return Error(Reason::kLeaseIdMissing,
                   "There is currently a lease on the resource and no lease ID was specified in "
                   "the request.");
    }
    if (!EqualsLeaseId(*lease_id, lease.id)) {
      return Error(Reason::kLeaseIdMismatch,
                   "The lease ID specified did not match the lease ID for the resource.");
    }
    return Status::Ok();
  }
  if (lease_id && !lease_id->empty()) {
    return Error(Reason::kLeaseNotPresent,
                 "There is currently no lease on the resource.");
  }
  return Status::Ok();
}

}  // namespace internal

}  // namespace tarn::lake
