#include "client/oauth_token.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <utility>

#include "client/lake_client.h"
#include "common/encoding.h"

namespace tarn::client {

StatusOr<std::unique_ptr<TokenSource>> TokenSource::Create(ClientCredentials creds,
                                                           ConnectionOptions opts) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(creds.authority));
  if (!ep.tls) {
    return Status(Code::kInvalidArgument, "the authority " + creds.authority +
                                              " is not https; a client secret is sent only "
                                              "over TLS");
  }
  if (creds.tenant.empty() || creds.client_id.empty() || creds.client_secret.empty()) {
    return Status(Code::kInvalidArgument,
                  "a service principal needs a tenant, a client id and a client secret");
  }
  return std::unique_ptr<TokenSource>(new TokenSource(std::move(creds), std::move(ep), opts));
}

TokenSource::TokenSource(ClientCredentials creds, Endpoint ep, ConnectionOptions opts)
    : creds_(std::move(creds)), ep_(std::move(ep)), opts_(std::move(opts)) {
  token_path_ = ep_.path_prefix + "/" + PercentEncode(creds_.tenant) + "/oauth2/v2.0/token";
  token_url_ = ep_.Origin() + token_path_;
}

StatusOr<std::string> TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!token_.empty() && std::chrono::steady_clock::now() < refresh_at_) return token_;
  return Fetch();
}

StatusOr<std::string> TokenSource::Fetch() {
  const auto asked = std::chrono::steady_clock::now();
  std::string form = "grant_type=client_credentials&client_id=" +
                     PercentEncode(creds_.client_id) +
                     "&client_secret=" + PercentEncode(creds_.client_secret) +
                     "&scope=" + PercentEncode(creds_.scope);
  Request req;
  req.method = "POST";
  req.target = token_path_;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = form;
  HttpClient http(ep_, opts_);
  auto r = http.Send(req);
  if (!r.ok()) {
    return Status(r.status().code(),
                  "cannot reach the token endpoint " + token_url_ + ": " + r.status().message());
  }
  nlohmann::json body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (r->status != 200) {
    std::string why = body.is_object() ? body.value("error_description", body.value("error", ""))
                                       : BodyExcerpt(r->body);
    Code code = r->status == 400 || r->status == 401 ? Code::kPermissionDenied
                                                     : CodeForHttp(r->status, "");
    return Status(code, "the token endpoint " + token_url_ + " refused client '" +
                            creds_.client_id + "' (HTTP " + std::to_string(r->status) +
                            "): " + why);
  }
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string()) {
    return Status(Code::kInternal,
                  "the token endpoint " + token_url_ + " answered 200 without an access_token");
  }
  int64_t lifetime = 0;
  if (auto it = body.find("expires_in"); it != body.end()) {
    if (it->is_number_integer()) lifetime = it->get<int64_t>();
    if (it->is_string()) lifetime = std::atoll(it->get<std::string>().c_str());
  }
  token_ = body["access_token"].get<std::string>();
  // A token shorter-lived than the margin is used once and fetched again next time.
  refresh_at_ = asked + std::chrono::seconds(lifetime) - kRefreshMargin;
  return token_;
}

}  // namespace tarn::client
