#include "protocol/catalog/catalog_ops.h"

#include <string>
#include <vector>

#include "catalog/catalog_service.h"
#include "identity/identity_service.h"
#include "common/strings.h"

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
