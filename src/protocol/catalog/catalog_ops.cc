#include "protocol/catalog/catalog_ops.h"

#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/strings.h"

namespace tarn::protocol {
namespace {

using catalog::Json;

constexpr int64_t kMaxBody = 16 << 20;

StatusOr<std::vector<std::string>> Segments(std::string_view raw_path) {
  std::vector<std::string> out;
  for (auto part : Split(raw_path.substr(1), '/')) {
    if (part.empty()) continue;
    auto d = PercentDecode(part);
    if (!d) return Error(Reason::kInvalidUri, "the request path is not validly encoded");
    out.push_back(*d);
  }
  return out;
}

StatusOr<Json> ReadJson(Ctx& c) {
  const std::string* cl = c.Header("content-length");
  int64_t n = 0;
  if (cl && !cl->empty()) {
    if (!ParseInt64(*cl, &n) || n < 0) {
      return Error(Reason::kInvalidHeaderValue, "Content-Length is not a valid length");
    }
  }
  if (n > kMaxBody) {
    return Error(Reason::kRequestBodyTooLarge, "a catalog request body may be at most 16 MiB");
  }
  std::string body(static_cast<size_t>(n), '\0');
  BodySource src(c.req);
  size_t got = 0;
  while (got < body.size()) {
    TARN_ASSIGN_OR_RETURN(size_t k, src.Read(body.data() + got, body.size() - got));
    if (k == 0) return Error(Reason::kInvalidInput, "the request body ended early");
    got += k;
  }
  if (body.empty()) return Json::object();
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error(Reason::kInvalidDefinition, "the request body is not valid JSON");
  }
  return j;
}

Status ReplyJson(Ctx& c, int status, const Json& j) {
  return c.Reply(status, {}, JsonText(j), "application/json; charset=utf-8");
}

Status ReplyEmpty(Ctx& c) { return ReplyJson(c, 200, Json::object()); }

Status ServeFile(Ctx& c, catalog::CatalogService& svc, const std::string& ws,
                 const std::string& name, const std::string& version, const std::string& idx) {
  int64_t index = -1;
  if (!ParseInt64(idx, &index) || index < 0)
    return Error(Reason::kInvalidDefinition, "file index must be a number");
  TARN_ASSIGN_OR_RETURN(auto range, ParseRange(c));
  bool ignore = c.Query("drift").value_or("") == "ignore";
  TARN_ASSIGN_OR_RETURN(catalog::FileRead r, svc.OpenFile(ws, name, version, index, range, ignore));
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
  TARN_RETURN_IF_ERROR(c.w.Start(status, h, c.req.method == "HEAD" ? 0 : r.length));
  if (c.req.method == "HEAD") return Status::Ok();
  if (r.local) return StreamPlan(c, *r.local);
  return r.remote([&](std::string_view chunk) { return c.w.Write(chunk); });
}

Status ServeDatasets(Ctx& c, catalog::CatalogService& svc, const std::string& ws,
                     const std::vector<std::string>& s) {
  const std::string& m = c.req.method;
  const size_t n = s.size();
  if (n == 3 && m == "GET") {
    TARN_ASSIGN_OR_RETURN(Json j, svc.ListDatasets(ws, QueryBool(c, "include_archived", false)));
    return ReplyJson(c, 200, j);
  }
  if (n < 4) return Error(Reason::kUnsupportedHttpVerb, "unsupported catalog request");
  const std::string& name = s[3];
  if (n == 4 && m == "GET") {
    TARN_ASSIGN_OR_RETURN(Json j, svc.GetVersion(ws, name, c.Query("version").value_or("latest")));
    return ReplyJson(c, 200, j);
  }
  if (n == 4 && m == "DELETE") {
    TARN_RETURN_IF_ERROR(svc.DeleteDataset(ws, name));
    return ReplyEmpty(c);
  }
  if (n < 5 || s[4] != "versions") {
    return Error(Reason::kUnsupportedHttpVerb, "unsupported catalog request");
  }
  if (n == 5 && m == "GET") {
    TARN_ASSIGN_OR_RETURN(Json j, svc.ListVersions(ws, name));
    return ReplyJson(c, 200, j);
  }
  if (n == 5 && m == "POST") {
    TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
    TARN_ASSIGN_OR_RETURN(Json j, svc.RegisterVersion(ws, name, body, c.identity.account));
    return ReplyJson(c, 201, j);
  }
  if (n < 6) return Error(Reason::kUnsupportedHttpVerb, "unsupported catalog request");
  const std::string& v = s[5];
  if (n == 6) {
    if (m == "GET") {
      TARN_ASSIGN_OR_RETURN(Json j, svc.GetVersion(ws, name, v));
      return ReplyJson(c, 200, j);
    }
    if (m == "PATCH") {
      TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
      TARN_ASSIGN_OR_RETURN(Json j, svc.UpdateVersion(ws, name, v, body));
      return ReplyJson(c, 200, j);
    }
    if (m == "POST") {
      TARN_ASSIGN_OR_RETURN(Json j,
                            svc.SetVersionState(ws, name, v, c.Query("action").value_or("")));
      return ReplyJson(c, 200, j);
    }
    if (m == "DELETE") {
      TARN_RETURN_IF_ERROR(svc.DeleteVersion(ws, name, v));
      return ReplyEmpty(c);
    }
  }
  if (n == 7 && s[6] == "files" && m == "GET") {
    TARN_ASSIGN_OR_RETURN(int64_t marker, ParseIntQuery(c, "marker", 0));
    TARN_ASSIGN_OR_RETURN(int64_t max, ParseIntQuery(c, "maxresults", 5000));
    TARN_ASSIGN_OR_RETURN(Json j, svc.ListFiles(ws, name, v, marker, max));
    return ReplyJson(c, 200, j);
  }
  if (n == 8 && s[6] == "files" && (m == "GET" || m == "HEAD")) {
    return ServeFile(c, svc, ws, name, v, s[7]);
  }
  return Error(Reason::kUnsupportedHttpVerb, "unsupported catalog request");
}

}  // namespace

bool IsCatalogPath(std::string_view raw_path) {
  constexpr std::string_view kPrefix = "/workspaces";
  return raw_path.substr(0, kPrefix.size()) == kPrefix &&
         (raw_path.size() == kPrefix.size() || raw_path[kPrefix.size()] == '/');
}

Status ServeCatalog(Ctx& c, catalog::CatalogService& svc) {
  if (c.identity.kind != Identity::Kind::kSharedKey) {
    return Error(Reason::kNoAuthenticationInformation,
                 "the workspace catalog needs a request signed with an account's Shared Key");
  }
  TARN_ASSIGN_OR_RETURN(std::vector<std::string> s, Segments(c.req.raw_path));
  const std::string& m = c.req.method;
  const size_t n = s.size();  // s[0] == "workspaces"
  if (n == 1 && m == "GET") {
    TARN_ASSIGN_OR_RETURN(Json j, svc.ListWorkspaces());
    return ReplyJson(c, 200, j);
  }
  if (n < 2) return Error(Reason::kUnsupportedHttpVerb, "unsupported catalog request");
  const std::string& ws = s[1];
  if (n == 2) {
    if (m == "PUT") {
      TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
      bool created = false;
      TARN_ASSIGN_OR_RETURN(Json j, svc.PutWorkspace(ws, body, &created));
      return ReplyJson(c, created ? 201 : 200, j);
    }
    if (m == "GET") {
      TARN_ASSIGN_OR_RETURN(Json j, svc.GetWorkspace(ws));
      return ReplyJson(c, 200, j);
    }
    if (m == "DELETE") {
      TARN_RETURN_IF_ERROR(svc.DeleteWorkspace(ws));
      return ReplyEmpty(c);
    }
  }
  if (n >= 3 && s[2] == "datastores") {
    if (n == 3 && m == "GET") {
      TARN_ASSIGN_OR_RETURN(Json j, svc.ListDatastores(ws));
      return ReplyJson(c, 200, j);
    }
    if (n == 4 && m == "PUT") {
      TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
      bool created = false;
      TARN_ASSIGN_OR_RETURN(Json j, svc.RegisterDatastore(ws, s[3], body, &created));
      return ReplyJson(c, created ? 201 : 200, j);
    }
    if (n == 4 && m == "GET") {
      TARN_ASSIGN_OR_RETURN(Json j, svc.GetDatastore(ws, s[3]));
      return ReplyJson(c, 200, j);
    }
    if (n == 4 && m == "DELETE") {
      TARN_RETURN_IF_ERROR(svc.UnregisterDatastore(ws, s[3]));
      return ReplyEmpty(c);
    }
  }
  if (n == 3 && s[2] == "default-datastore") {
    if (m == "PUT") {
      TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
      if (!body.contains("name") || !body["name"].is_string()) {
        return Error(Reason::kInvalidDefinition, "the body needs {\"name\": <datastore>}");
      }
      TARN_ASSIGN_OR_RETURN(Json j, svc.SetDefaultDatastore(ws, body["name"]));
      return ReplyJson(c, 200, j);
    }
    if (m == "GET") {
      TARN_ASSIGN_OR_RETURN(Json j, svc.GetDefaultDatastore(ws));
      return ReplyJson(c, 200, j);
    }
  }
  if (n >= 3 && n <= 8 && s[2] == "datasets") return ServeDatasets(c, svc, ws, s);
  if (n == 4 && s[2] == "dataset-ids" && m == "GET") {
    TARN_ASSIGN_OR_RETURN(Json j, svc.GetVersionById(ws, s[3]));
    return ReplyJson(c, 200, j);
  }
  return Error(Reason::kUnsupportedHttpVerb,
               "unsupported catalog request: " + m + " " + c.req.raw_path);
}

}  // namespace tarn::protocol
