// Set Blob Service Properties bodies (protocol/service_properties.h): the XML, its CORS rules,
// its delete retention policy (0 to 365 days), its static website (pages inside $web) and the
// elements refused or stored. What is
// accepted is what Azure accepts (at most 5 rules, known methods), and the document stored from
// it parses again to the same rules and policy.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/service_properties.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "service_properties_fuzz: %s: %.*s\n", what,
               static_cast<int>(input.size()), input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = tarn::protocol::ParseServiceProperties(body);
  if (!parsed.ok()) return 0;
  std::string again = "<StorageServiceProperties>";
  for (const auto& [name, xml] : parsed->elements) again += xml;
  again += "</StorageServiceProperties>";
  auto reparsed = tarn::protocol::ParseServiceProperties(again);
  if (!reparsed.ok()) Fail("the stored document does not parse again", body);
  if (parsed->retention_days != reparsed->retention_days ||
      (parsed->retention_days &&
       (*parsed->retention_days < 0 || *parsed->retention_days > 365))) {
    Fail("the delete retention policy changed on the way through storage, or is out of range",
         body);
  }
  if (parsed->website != reparsed->website) {
    Fail("the static website changed on the way through storage", body);
  }
  if (parsed->website && parsed->website->enabled) {
    const auto& w = *parsed->website;
    if (w.index_document.find('/') != std::string::npos) Fail("an index document with '/'", body);
    for (const std::string* p : {&w.index_document, &w.default_index_path, &w.error_404_path}) {
      if (!p->empty() && (p->front() == '/' || p->find("..") == 0 ||
                          p->find("/../") != std::string::npos)) {
        Fail("a website page outside $web", body);
      }
    }
  }
  if (parsed->cors) {
    if (parsed->cors->size() > 5) Fail("more than 5 CORS rules", body);
    if (!reparsed->cors || reparsed->cors->size() != parsed->cors->size()) {
      Fail("the stored CORS rules differ", body);
    }
    for (size_t i = 0; i < parsed->cors->size(); ++i) {
      const auto& a = (*parsed->cors)[i];
      const auto& b = (*reparsed->cors)[i];
      if (a.origins != b.origins || a.methods != b.methods ||
          a.allowed_headers != b.allowed_headers || a.exposed_headers != b.exposed_headers ||
          a.max_age_s != b.max_age_s || a.methods.empty() || a.origins.empty()) {
        Fail("a CORS rule changed on the way through storage", body);
      }
    }
  }
  return 0;
}
