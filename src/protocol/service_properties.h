// Blob service properties of each account (Set/Get Blob Service Properties): stored and returned
// as Azure does, and CORS acted on: preflight requests answered from the rules, and the
// Access-Control-* headers added to the answers to requests from an allowed origin.
//
// A delete retention policy turns soft delete on (Days from 1 to 365). A static website is served
// from the account's $web container at <account>.web.<suffix> (website_ops.h). Logging and
// metrics settings are stored and returned (tarnd keeps its own audit log).
//
// Each account's properties are one XML document in <dir>/<account>.xml, replaced atomically
// (written beside, fsynced, renamed) on every Set. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/server.h"

namespace tarn::protocol {

struct CorsRule {
  std::vector<std::string> origins;          // exact, or "*"
  std::vector<std::string> methods;          // upper case
  std::vector<std::string> allowed_headers;  // lower case; "x-ms-meta-*" prefixes; "*"
  std::vector<std::string> exposed_headers;  // as given
  int64_t max_age_s = 0;
};

// The static website settings: the page a folder's URL serves, and the page a missing one does.
struct StaticWebsite {
  bool enabled = false;
  std::string index_document;       // a file name, looked up in the folder asked for
  std::string default_index_path;   // or one page, from the root of $web, for every folder
  std::string error_404_path;       // from the root of $web; "" answers a plain 404 page
  friend bool operator==(const StaticWebsite&, const StaticWebsite&) = default;
};

// A Set Blob Service Properties body, validated as Azure validates it: at most 5 CORS rules,
// each with origins, known methods and a max age, at most 64 origins and 64 headers (2 of them
// prefixes). `elements` holds the top-level elements present, as XML text, to be merged over the
// stored ones; `cors` is set when the body has a <Cors> element.
struct ParsedProperties {
  std::map<std::string, std::string> elements;
  std::optional<std::vector<CorsRule>> cors;
  std::optional<int64_t> retention_days;  // set when the body has <DeleteRetentionPolicy>; 0 off
  std::optional<StaticWebsite> website;   // set when the body has <StaticWebsite>
};
StatusOr<ParsedProperties> ParseServiceProperties(std::string_view body);

class ServiceProperties {
 public:
  // dir: where the documents live (created on first Set).
  explicit ServiceProperties(std::string dir);

  // The account's document (the defaults until set).
  StatusOr<std::string> Get(const std::string& account);
  // Merges the body's elements over the stored ones and stores the result.
  Status Set(const std::string& account, std::string_view body);

  // A preflight (OPTIONS with Origin and Access-Control-Request-Method): the headers to answer
  // with, or nullopt when no rule allows it.
  std::optional<http::Headers> Preflight(const std::string& account, const std::string& origin,
                                         const std::string& method,
                                         const std::string& request_headers);
  // A request with an Origin header: the headers to add to its answer (none when no rule
  // matches the origin and method).
  http::Headers ForRequest(const std::string& account, const std::string& origin,
                           const std::string& method);
  // The delete retention policy's days (soft delete), 0 when it is off.
  int64_t DeleteRetentionDays(const std::string& account);
  // The static website settings (disabled until set).
  StaticWebsite Website(const std::string& account);
  // Container soft delete: how many days a deleted container is kept (0: deleted at once). On
  // Azure it is an account setting of the management plane; here tarnd's configuration sets it
  // for every account, before any request.
  void SetContainerRetentionDays(int64_t days) { container_retention_days_ = days; }
  int64_t ContainerRetentionDays() const { return container_retention_days_; }

 private:
  // The stored document, parsed (empty when none was set).
  StatusOr<ParsedProperties> Load(const std::string& account) const;
  const std::vector<CorsRule>& Rules(const std::string& account);  // under mu_
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::vector<CorsRule>> rules_;  // loaded accounts
  std::map<std::string, int64_t> retention_;             // loaded accounts' retention days
  std::map<std::string, StaticWebsite> website_;         // loaded accounts' websites
  int64_t container_retention_days_ = 0;
};

}  // namespace tarn::protocol
