#include "protocol/catalog/catalog_ops.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "catalog/catalog_service.h"
#include "identity/identity_service.h"
#include "common/strings.h"
#include "protocol/studio/preview_ops.h"
#include "tabular/tabular.h"

namespace tarn::protocol::catalog_ops {
namespace {

using catalog::Json;

constexpr size_t kMaxBody = 16 << 20;

StatusOr<Json> ReadJson(Ctx& c) { return ReadJsonBody(c, kMaxBody); }


const std::string& Workspace(const Ctx& c) { return c.segments.at(1); }
const std::string& Name(const Ctx& c) { return c.segments.at(3); }
const std::string& Version(const Ctx& c) { return c.segments.at(5); }

}  // namespace

Status ListWorkspaces(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json all, c.catalog->ListWorkspaces());
  if (c.identity.kind != Identity::Kind::kBearer || !c.ids) return ReplyJson(c, 200, all);
  // A signed-in caller sees the workspaces it has a role on.
  const identity::Caller who = CallerOf(c.identity);
  Json mine = Json::array();
  for (const auto& w : all["workspaces"]) {
    if (!w.contains("name") || !w["name"].is_string()) continue;
    TARN_ASSIGN_OR_RETURN(auto role,
                          c.ids->EffectiveWorkspaceRole(who, w["name"].get<std::string>()));
    if (role != identity::WorkspaceRole::kNone) mine.push_back(w);
  }
  return ReplyJson(c, 200, Json{{"workspaces", mine}});
}

Status PutWorkspace(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  bool created = false;
  TARN_ASSIGN_OR_RETURN(Json j, c.catalog->PutWorkspace(Workspace(c), body, &created));
  return ReplyJson(c, created ? 201 : 200, j);
}

Status GetWorkspace(Ctx& c) { return ReplyJson(c, 200, c.catalog->GetWorkspace(Workspace(c))); }

Status DeleteWorkspace(Ctx& c) { return ReplyDone(c, c.catalog->DeleteWorkspace(Workspace(c))); }

Status ListDatastores(Ctx& c) {
  return ReplyJson(c, 200, c.catalog->ListDatastores(Workspace(c)));
}

Status PutDatastore(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  bool created = false;
  TARN_ASSIGN_OR_RETURN(Json j,
                        c.catalog->RegisterDatastore(Workspace(c), Name(c), body, &created));
  return ReplyJson(c, created ? 201 : 200, j);
}

Status GetDatastore(Ctx& c) {
  return ReplyJson(c, 200, c.catalog->GetDatastore(Workspace(c), Name(c)));
}

Status DeleteDatastore(Ctx& c) {
  return ReplyDone(c, c.catalog->UnregisterDatastore(Workspace(c), Name(c)));
}

Status PutDefaultDatastore(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  auto name = body.find("name");
  if (!body.is_object() || name == body.end() || !name->is_string()) {
    return Error(Reason::kInvalidDefinition, "the body needs {\"name\": <datastore>}");
  }
  return ReplyJson(c, 200,
                   c.catalog->SetDefaultDatastore(Workspace(c), name->get<std::string>()));
}

Status GetDefaultDatastore(Ctx& c) {
  return ReplyJson(c, 200, c.catalog->GetDefaultDatastore(Workspace(c)));
}

Status ListDatasets(Ctx& c) {
  return ReplyJson(c, 200,
                   c.catalog->ListDatasets(Workspace(c), QueryBool(c, "include_archived", false)));
}

Status GetDataset(Ctx& c) {
  return ReplyJson(c, 200, c.catalog->GetVersion(Workspace(c), Name(c),
                                                 c.Query("version").value_or("latest")));
}

Status DeleteDataset(Ctx& c) {
  return ReplyDone(c, c.catalog->DeleteDataset(Workspace(c), Name(c)));
}

Status ListVersions(Ctx& c) {
  return ReplyJson(c, 200, c.catalog->ListVersions(Workspace(c), Name(c)));
}

namespace {

// Who reads through identity-based datastores for this request: a signed-in caller as
// itself; an account key holder reaches everything.
catalog::ReadAs Reader(const Ctx& c) {
  catalog::ReadAs as;
  if (c.identity.kind == Identity::Kind::kBearer) {
    as.caller = CallerOf(c.identity);
  }
  return as;
}

}  // namespace

Status RegisterVersion(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  return ReplyJson(c, 201,
                   c.catalog->RegisterVersion(Workspace(c), Name(c), body,
                                              PrincipalName(c.identity), Reader(c)));
}

Status GetVersion(Ctx& c) {
  return ReplyJson(c, 200, c.catalog->GetVersion(Workspace(c), Name(c), Version(c)));
}

Status UpdateVersion(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  return ReplyJson(c, 200, c.catalog->UpdateVersion(Workspace(c), Name(c), Version(c), body));
}

Status SetVersionState(Ctx& c) {
  return ReplyJson(c, 200, c.catalog->SetVersionState(Workspace(c), Name(c), Version(c),
                                                      c.Query("action").value_or("")));
}

Status DeleteVersion(Ctx& c) {
  return ReplyDone(c, c.catalog->DeleteVersion(Workspace(c), Name(c), Version(c)));
}

Status ListFiles(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(int64_t marker, ParseIntQuery(c, "marker", 0));
  TARN_ASSIGN_OR_RETURN(int64_t max, ParseIntQuery(c, "maxresults", 5000));
  return ReplyJson(c, 200, c.catalog->ListFiles(Workspace(c), Name(c), Version(c), marker, max));
}

Status Histograms(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(int64_t bins, ParseIntQuery(c, "bins", 20));
  if (bins < 1 || bins > tabular::kMaxHistogramBins) {
    return Error(Reason::kInvalidQueryParameterValue,
                 "bins must be from 1 to " + std::to_string(tabular::kMaxHistogramBins));
  }
  std::vector<std::string> columns;
  auto [from, to] = c.query.equal_range("column");
  for (auto it = from; it != to; ++it) columns.push_back(it->second);
  TARN_ASSIGN_OR_RETURN(catalog::TabularSource src,
                        c.catalog->OpenTabular(Workspace(c), Name(c), Version(c), Reader(c)));
  // The profile's min and max, where finite numbers, spare the engine a scan.
  std::map<std::string, std::pair<double, double>> bounds;
  for (const Json& p : src.version.value("profile", Json::array())) {
    if (!p.is_object() || !p.value("min", Json()).is_string() ||
        !p.value("max", Json()).is_string()) {
      continue;
    }
    const std::string lo = p["min"], hi = p["max"];
    char* end_lo = nullptr;
    char* end_hi = nullptr;
    const double l = std::strtod(lo.c_str(), &end_lo), h = std::strtod(hi.c_str(), &end_hi);
    if (!lo.empty() && !hi.empty() && *end_lo == '\0' && *end_hi == '\0' && std::isfinite(l) &&
        std::isfinite(h) && l <= h) {
      bounds[p.value("name", "")] = {l, h};
    }
  }
  TARN_ASSIGN_OR_RETURN(std::vector<tabular::Histogram> hs,
                        tabular::ProcessEngine().Histograms(*src.opener, src.files, src.request,
                                                            static_cast<int>(bins), columns,
                                                            bounds));
  Json out = Json::array();
  for (const tabular::Histogram& h : hs) {
    out.push_back({{"name", h.name}, {"type", h.type}, {"low", h.low}, {"high", h.high},
                   {"counts", h.counts}});
  }
  return ReplyJson(c, 200, Json{{"name", src.version.value("name", Name(c))},
                                {"version", src.version.value("version", int64_t{0})},
                                {"row_count", src.version.value("row_count", int64_t{0})},
                                {"bins", bins},
                                {"columns", out}});
}

Status PreviewRows(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(int64_t rows, ParseIntQuery(c, "rows", 20));
  TARN_RETURN_IF_ERROR(preview_ops::CheckPreviewRows(rows));
  TARN_ASSIGN_OR_RETURN(catalog::TabularSource src,
                        c.catalog->OpenTabular(Workspace(c), Name(c), Version(c), Reader(c)));
  src.request.limit = rows;
  TARN_ASSIGN_OR_RETURN(tabular::Table t,
                        tabular::ProcessEngine().Read(*src.opener, src.files, src.request));
  Json out = preview_ops::TableJson(t);
  out["name"] = src.version.value("name", Name(c));
  out["version"] = src.version.value("version", int64_t{0});
  out["row_count"] = src.version.value("row_count", int64_t{0});
  return ReplyJson(c, 200, out);
}

Status ReadFile(Ctx& c) {
  int64_t index = -1;
  if (!ParseInt64(c.segments.at(7), &index) || index < 0) {
    return Error(Reason::kInvalidDefinition, "file index must be a number");
  }
  TARN_ASSIGN_OR_RETURN(auto range, ParseRange(c));
  bool ignore = c.Query("drift").value_or("") == "ignore";
  TARN_ASSIGN_OR_RETURN(catalog::FileRead r, c.catalog->OpenFile(Workspace(c), Name(c), Version(c),
                                                                 index, range, ignore, Reader(c)));
  c.read_via = r.via;
  http::Headers h = c.StdHeaders();
  h.emplace_back("Content-Type", "application/octet-stream");
  h.emplace_back("Accept-Ranges", "bytes");
  int status = 200;
  if (range) {
    status = 206;
    h.emplace_back("Content-Range", "bytes " + std::to_string(r.start) + "-" +
                                        std::to_string(r.start + r.length - 1) + "/" +
                                        std::to_string(r.size));
  }
  h.emplace_back("x-tarn-file-size", std::to_string(r.size));
  const bool head = c.req.method == "HEAD";
  TARN_RETURN_IF_ERROR(c.w.Start(status, h, head ? 0 : r.length));
  if (head) return Status::Ok();
  if (r.local) return StreamPlan(c, *r.local);
  return r.remote([&](std::string_view chunk) { return c.w.Write(chunk); });
}

Status GetVersionById(Ctx& c) {
  return ReplyJson(c, 200, c.catalog->GetVersionById(Workspace(c), c.segments.at(3)));
}

}  // namespace tarn::protocol::catalog_ops
