// The Azure Storage Shared Key string-to-sign (Blob and DFS, versions 2009-09-19 and later),
// shared by the server's authenticator and Tarn's own client.
//
//   std::string sts = SharedKeyStringToSign(req, "devstoreaccount1", {});
//   std::string sig = Base64Encode(HmacSha256(key, sts));
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tarn::auth {

struct SignableRequest {
  std::string method;
  std::vector<std::pair<std::string, std::string>> headers;  // names in any case
  std::string raw_path;                                      // as sent, percent-encoded
  std::multimap<std::string, std::string> query;              // names lowercased, values decoded
};

// Choices for the quirks of real clients; the server tries each combination.
struct SignOptions {
  bool decoded_path = false;     // canonical resource from the decoded path
  bool dash_first_sort = false;  // x-ms-* headers ordered ignoring '-' (service collation)
  bool use_date_header = true;   // the Date slot holds the Date header
};

std::string SharedKeyStringToSign(const SignableRequest& r, const std::string& account,
                                  const SignOptions& o);

// "SharedKey <account>:<base64 HMAC-SHA256 of the string-to-sign>"
std::string SharedKeyAuthorization(const SignableRequest& r, const std::string& account,
                                   const std::string& key_bytes);

}  // namespace tarn::auth
