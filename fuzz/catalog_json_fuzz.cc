// The workspace catalog's JSON bodies (docs/catalog-api.md): each input is parsed as JSON (no
// exceptions; bodies that are not JSON are refused before the service, as catalog_ops does) and
// passed to the CatalogService method that takes it (PutWorkspace, RegisterDatastore,
// RegisterVersion, UpdateVersion) on the fixture's catalog (pipeline_fixture.h), whose
// workspace "ws" holds datastore "local" over the seeded filesystem. What a call stored is then
// read back (Get and List methods, the version's files).
//
// The service reports errors as Status: any exception escaping it (nlohmann's type_error from
// get<std::string>() or value() on a member of the wrong type, out_of_range...) is a crash.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "catalog/catalog_service.h"
#include "fuzz/pipeline_fixture.h"

namespace {

using tarn::catalog::Json;
using tarn::fuzz::PipelineFixture;

// What the REST layer does with a returned document: compact text, invalid UTF-8 replaced.
void Show(const tarn::StatusOr<Json>& j) {
  if (j.ok()) static_cast<void>(j->dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::string Name(FuzzedDataProvider& in, const char* usual, const char* other) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
    case 1:
      return usual;
    case 2:
      return other;
    default:
      return in.ConsumeRandomLengthString(40);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  PipelineFixture& f = PipelineFixture::Get();
  tarn::catalog::CatalogService& cat = f.catalog();
  const int op = in.ConsumeIntegralInRange(0, 3);
  const std::string ws = Name(in, tarn::fuzz::kWorkspace, "ws2");
  const std::string name = Name(in, op == 1 ? tarn::fuzz::kDatastore : tarn::fuzz::kFileDataset,
                                op == 1 ? "other_store" : "fresh");
  const std::string version = Name(in, "latest", "1");
  Json body = Json::parse(in.ConsumeRemainingBytesAsString(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;

  bool created = false;
  switch (op) {
    case 0: {
      auto r = cat.PutWorkspace(ws, body, &created);
      Show(r);
      if (r.ok()) Show(cat.GetWorkspace(ws));
      Show(cat.ListWorkspaces());
      break;
    }
    case 1: {
      auto r = cat.RegisterDatastore(ws, name, body, &created);
      Show(r);
      if (r.ok()) {
        Show(cat.GetDatastore(ws, name));
        Show(cat.ListDatastores(ws));
        Show(cat.GetDefaultDatastore(ws));
      }
      break;
    }
    case 2: {
      auto r = cat.RegisterVersion(ws, name, body, "fuzz");
      Show(r);
      if (r.ok()) {
        Show(cat.GetVersion(ws, name, "latest"));
        Show(cat.ListVersions(ws, name));
        Show(cat.ListDatasets(ws, true));
        Show(cat.ListFiles(ws, name, "latest", 0, 10));
        if (r->is_object() && r->contains("id") && (*r)["id"].is_string()) {
          Show(cat.GetVersionById(ws, (*r)["id"].get<std::string>()));
        }
      }
      break;
    }
    default: {
      auto r = cat.UpdateVersion(ws, name, version, body);
      Show(r);
      if (r.ok()) Show(cat.GetVersion(ws, name, version));
      break;
    }
  }
  if (op != 0 && ws == tarn::fuzz::kWorkspace) f.EnsureSeeded();
  return 0;
}
