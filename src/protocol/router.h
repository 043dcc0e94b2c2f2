// Frontend: the one request pipeline of every front (Blob, DFS, the token service, /identity,
// /workspaces):
//   parse -> find the route (route_table.h) -> authenticate -> authorize -> execute -> respond
//   -> audit
// Parsing splits the URL, decodes and checks the query, decides the front and, for storage,
// whether the request is Blob- or DFS-shaped (which fixes the error format). Authentication
// happens once; authorization applies the route's policy to the request's resource and to the
// second resource the route names; no exception leaves Handle.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"
#include "lake/lake_service.h"
#include "protocol/context.h"
#include "protocol/route_table.h"

namespace tarn::catalog {
class CatalogService;
}
namespace tarn::identity {
class IdentityService;
}
namespace tarn::audit {
class AuditLog;
}

namespace tarn::pipeline {
class PipelineService;
}

namespace tarn::protocol {

class Frontend {
 public:
  // catalog: serves /workspaces/... when given (docs/catalog-api.md).
  // identity: serves the token service and /identity, and accepts bearer tokens, when given.
  // audit: records writes, access-control changes, denials and directory changes, and
  // summarises reads, when given.
  Frontend(lake::LakeService* lake, std::vector<Account> accounts,
           catalog::CatalogService* catalog = nullptr,
           identity::IdentityService* identity = nullptr, audit::AuditLog* audit = nullptr);
  void Handle(http::Request& req, http::ResponseWriter& w);
  // Answers a request the HTTP layer could not serve: one it could not parse (400, 431), one
  // whose head did not arrive in time (408), or one past the connection cap (503).
  void HandleBadRequest(int status, const std::string& why, http::ResponseWriter& w);
  // The "host:port" names this server answers to besides a request's Host header (its listen
  // URLs): a copy source there is this server's own data.
  void SetSelfAuthorities(std::vector<std::string> authorities);
  // The DNS suffixes under which <account>.blob.<suffix> and <account>.dfs.<suffix> name an
  // account (virtual-host addressing, as Azure's endpoints); before any request.
  void SetHostSuffixes(std::vector<std::string> suffixes) { host_suffixes_ = std::move(suffixes); }
  // Serves /workspaces/<ws>/pipelines... (docs/pipelines.md) when set; before any request.
  void SetPipelines(pipeline::PipelineService* pipelines) { pipelines_ = pipelines; }
  // Serves /workspaces/<ws>/mlflow/... (MLflow's tracking API, docs/mlflow.md) when set.
  void SetTracking(tracking::TrackingService* tracking) { tracking_ = tracking; }
  void SetJobs(compute::JobService* jobs) { jobs_ = jobs; }
  // Serves /studio/ (Tarn Studio) from these files when set; before any request.
  void SetStudio(const StudioAssets* studio) { studio_ = studio; }
  // Stores the accounts' service properties and answers CORS from them when set.
  void SetServiceProperties(ServiceProperties* service) { service_ = service; }
  // Told of every storage write that succeeded (account, filesystem, path): pipelines' arrival
  // triggers. Called on the request's thread after the answer; it must be quick. Set before
  // any request.
  using WriteObserver =
      std::function<void(const std::string& account, const std::string& fs, const std::string& path)>;
  void SetWriteObserver(WriteObserver observer) { write_observer_ = std::move(observer); }
  // Other servers copy sources may be on (x-ms-copy-source of Copy Blob, Put Blob From URL,
  // Put Block From URL): their origins ("https://host:port", as UrlOrigin gives them), and the
  // CAs trusted for their certificates. None by default: then copies come only from this server.
  void SetCopySources(std::vector<std::string> origins,
                      std::shared_ptr<const http::TlsContext> trust) {
    copy_sources_ = std::move(origins);
    copy_trust_ = std::move(trust);
  }
  // Where answers too large for memory are spooled (Query Blob Contents); before any request.
  void SetScratchDir(std::string dir) { scratch_dir_ = std::move(dir); }

 private:
  // What a check of one resource needs: a route's policy, or a second resource's.
  struct Want {
    Need need;
    const char* sas;
    std::optional<lake::AccessIntent> acl;
    PublicRead anonymous;
  };

  // One request through the pipeline; batch: the batch request a sub-request came in, or null.
  void Serve(http::Request& req, http::ResponseWriter& w, const Ctx* batch);
  Status Parse(Ctx& c);
  Status ParseStoragePath(Ctx& c, std::string_view rest);
  Status Run(Ctx& c, const Route** route);
  // The route's policy for the request's own resource, then for its second resource.
  Status Authorize(Ctx& c, const Route& r, Level level);
  // Whether caller `id` may act on (fs, path) of `account`. own: the request's own resource
  // (then the check records how it was allowed in c.identity).
  Status CheckAccess(Ctx& c, const Identity& id, const Account& account, const std::string& fs,
                     const std::string& path, char sas_level, const Want& want, bool own);
  Status CheckBearer(Ctx& c, const Identity& id, const Account& account, const std::string& fs,
                     const std::string& path, const Want& want, bool own);
  // The second resources: parsed into c.source once authorized.
  Status AuthorizeCopySource(Ctx& c);
  // The workspace catalog: an account key holder, or a bearer with the workspace role the row
  // needs on the request's workspace.
  Status AuthorizeWorkspace(Ctx& c, const Route& r);
  // The identity admin API for a bearer: an Owner (Storage Blob Data Owner) of every account.
  Status AuthorizeAccountOwner(Ctx& c);
  Status AuthorizeRenameSource(Ctx& c);
  const Account* FindAccount(const std::string& name) const;
  // The account of a path-style DFS rename whose URL starts with the filesystem instead: the
  // account its x-ms-rename-source names first (Microsoft's JavaScript SDK), else the one its
  // Shared Key names, else tarnd's only account (Azure's C++ SDK, under pyarrow). null: none.
  const Account* RenameAccount(const Ctx& c) const;
  void Audit(const Ctx& c, const Route* route, const Status& s);

  lake::LakeService* lake_;
  std::vector<Account> accounts_;
  catalog::CatalogService* catalog_;
  identity::IdentityService* identity_;
  audit::AuditLog* audit_;
  pipeline::PipelineService* pipelines_ = nullptr;
  tracking::TrackingService* tracking_ = nullptr;
  compute::JobService* jobs_ = nullptr;
  const StudioAssets* studio_ = nullptr;
  ServiceProperties* service_ = nullptr;
  WriteObserver write_observer_;
  std::vector<std::string> self_authorities_;
  std::vector<std::string> host_suffixes_;
  std::string scratch_dir_;
  std::vector<std::string> copy_sources_;
  std::shared_ptr<const http::TlsContext> copy_trust_;
};

// The origin of an http or https URL: "scheme://host:port", lowercase, the port explicit (80 or
// 443 when the URL has none); nullopt for anything else, or a URL with user information.
std::optional<std::string> UrlOrigin(std::string_view url);

// A virtual host: the account a Host header (or a URL's authority) names, "<account>.blob.<suffix>"
// or "<account>.dfs.<suffix>" with an optional ":port", for one of `suffixes`; nullopt for any
// other name (path-style addressing). Case-insensitive; the account comes back lowercased.
struct VirtualHost {
  std::string account;
  bool dfs = false;      // the DFS endpoint's name
  bool web = false;      // the static website's name (<account>.web.<suffix>)
  std::string_view port;  // "" when the authority has none
};
std::optional<VirtualHost> MatchVirtualHost(std::string_view authority,
                                            const std::vector<std::string>& suffixes);

// The query as the pipeline reads it: names lowercased, values percent-decoded; refused
// (InvalidQueryParameterValue) when badly encoded, when a name is not a token or when a value is
// not UTF-8 or holds a control character.
StatusOr<std::multimap<std::string, std::string>> ParseQuery(std::string_view raw);

}  // namespace tarn::protocol
