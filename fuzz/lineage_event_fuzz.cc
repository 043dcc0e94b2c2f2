// An OpenLineage RunEvent from an untrusted client (POST /workspaces/<ws>/lineage-events), as
// pipeline::LineageRecordOf checks it. Checks its promises: nothing throws; an accepted event
// has one key per dataset, each a dataset version's or a path's, and its id is
// "<runId>:<eventType>"; the kept document parses back to the event.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "pipeline/pipeline_service.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "lineage_event_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json event = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded()) return 0;
  auto rec = tarn::pipeline::LineageRecordOf("ws", event);
  if (!rec.ok()) {
    if (rec.status().message().empty()) Fail("an error without a message");
    return 0;
  }
  const std::string type = event["eventType"].get<std::string>();
  if (rec->id != event["run"]["runId"].get<std::string>() + ":" + type) Fail("a wrong id");
  auto count = [&](const char* side) {
    return event.contains(side) && event[side].is_array() ? event[side].size() : size_t{0};
  };
  if (rec->inputs.size() != count("inputs") || rec->outputs.size() != count("outputs")) {
    Fail("not one key per dataset");
  }
  for (const auto* keys : {&rec->inputs, &rec->outputs}) {
    for (const std::string& k : *keys) {
      if (k.rfind("dataset:", 0) != 0 && k.rfind("path:", 0) != 0) Fail("a key of no kind");
    }
  }
  if (nlohmann::json::parse(rec->doc, nullptr, false) != event) Fail("a document that changed");
  return 0;
}
