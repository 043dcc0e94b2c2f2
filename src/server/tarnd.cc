// tarnd: the Tarn lake server.
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "audit/audit_log.h"
#include "catalog/catalog_service.h"
#include "identity/identity_service.h"
#include "common/secret_box.h"
#include "http/server.h"
#include "http/tls.h"
#include "lake/lake_service.h"
#include "protocol/router.h"
#include "protocol/sas.h"
#include "protocol/service_properties.h"
#include "protocol/studio/studio_assets.h"
#include "server/config.h"
#include "pipeline/pipeline_service.h"
#include "zones/retention.h"
#include "store/catalog/sqlite/sqlite_catalog_store.h"
#include "store/tracking/sqlite/sqlite_tracking_store.h"
#include "compute/job_service.h"
#include "compute/local_target.h"
#include "compute/slurm_target.h"
#include "tracking/tracking_service.h"
#include "store/identity/sqlite/sqlite_identity_store.h"
#include "store/extent/local/local_extent_store.h"
#include "store/extent/packed/packed_extent_store.h"
#include "store/meta/sqlite/sqlite_namespace_store.h"
#include "store/space/disk_guard.h"
#include "store/space/reserving_namespace_store.h"

namespace {

void RaiseFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "tarnd: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tarn;
  server::Config cfg;
  std::string config_path, listen, data_dir, log_level;
  CLI::App app{
      "tarnd: a self-hosted data lake server speaking the Azure Blob and ADLS Gen2 (DFS) REST "
      "protocols on one port, path-style: http://HOST:PORT/<account>/<filesystem>/<path>.\n"
      "With no configuration it serves the development account devstoreaccount1 with the "
      "well-known emulator key, on loopback only.",
      "tarnd"};
  app.add_option("--listen", listen, "host:port to listen on (port 0 picks a free port)")
      ->default_str(cfg.listen);
  app.add_option("--data-dir", data_dir, "directory for metadata (SQLite) and file data")
      ->default_str(cfg.data_dir);
  app.add_option("--config", config_path,
                 "JSON config file: accounts and keys, limits (see docs/configuration.md)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->default_str(cfg.log_level);
  std::string tls_listen, tls_cert, tls_key;
  app.add_option("--tls-listen", tls_listen,
                 "host:port for HTTPS (needed for OAuth bearer tokens), or 'off'")
      ->default_str(cfg.tls_listen);
  app.add_option("--tls-cert", tls_cert,
                 "PEM certificate chain for HTTPS (default: a self-signed one made on first "
                 "start in <data-dir>/tls/cert.pem, which clients can trust)");
  app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert");
  std::string ca_file;
  app.add_option("--ca-file", ca_file,
                 "PEM CA certificates trusted when tarnd reaches datastores on other endpoints "
                 "over https, e.g. another tarnd's <data-dir>/tls/cert.pem (default: the "
                 "system's trust store)");
  std::string studio_dir;
  app.add_option("--studio-dir", studio_dir,
                 "Tarn Studio's built files, served at /studio/ ('off': none; default: beside "
                 "this executable)");
  std::string host_suffix;
  app.add_option("--host-suffix", host_suffix,
                 "serve virtual-host URLs <account>.blob.<suffix> and <account>.dfs.<suffix> "
                 "as well as path-style ones (comma-separated suffixes, or 'off')")
      ->default_str(cfg.host_suffix);
  std::vector<std::string> copy_sources;
  app.add_option("--copy-source", copy_sources,
                 "another server copies may read their source from (x-ms-copy-source), as "
                 "https://host[:port]; repeat for more (default: none, copies only within this "
                 "server)");
  int64_t container_retention = -1;
  app.add_option("--container-delete-retention-days", container_retention,
                 "keep deleted containers this many days, restorable (Restore Container), "
                 "before the retention pass purges them; 0 deletes them at once")
      ->default_str(std::to_string(cfg.container_delete_retention_days));
  int64_t retention_interval = -1;
  app.add_option("--retention-interval", retention_interval,
                 "seconds between passes that delete what the zones' retention (lake.yaml) "
                 "no longer keeps; 0 never")
      ->default_str(std::to_string(cfg.retention_interval_s));
  CLI11_PARSE(app, argc, argv);

  if (!config_path.empty()) {
    Status s = server::LoadConfigFile(config_path, &cfg);
    if (!s.ok()) return Fail(s.message());
  }
  if (!listen.empty()) cfg.listen = listen;
  if (!data_dir.empty()) cfg.data_dir = data_dir;
  if (!log_level.empty()) cfg.log_level = log_level;
  if (!tls_listen.empty()) cfg.tls_listen = tls_listen;
  if (!tls_cert.empty()) cfg.tls_cert = tls_cert;
  if (!tls_key.empty()) cfg.tls_key = tls_key;
  if (!ca_file.empty()) cfg.ca_file = ca_file;
  if (!studio_dir.empty()) cfg.studio_dir = studio_dir;
  if (!host_suffix.empty()) cfg.host_suffix = host_suffix;
  for (std::string& s : copy_sources) cfg.copy_sources.push_back(std::move(s));
  if (retention_interval >= 0) cfg.retention_interval_s = retention_interval;
  if (container_retention != -1) cfg.container_delete_retention_days = container_retention;
  if (Status s = server::FinishConfig(&cfg); !s.ok()) return Fail(s.message());

  auto logger = spdlog::stderr_color_mt("tarnd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  RaiseFileLimit();

  // Signals are taken synchronously by the main thread; block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) return Fail("cannot create data directory " + cfg.data_dir + ": " + ec.message());
  // Private to tarnd's user: submitted runs execute local code as other users.
  ::chmod(cfg.data_dir.c_str(), 0700);
  // One tarnd per data directory: a second one would reclaim the first one's in-flight extents.
  int lock_fd = ::open((cfg.data_dir + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Fail("data directory " + cfg.data_dir + " is in use by another tarnd (LOCK is held)");
  }
  // First, before anything writes: on a disk that is already full the reserve is released so
  // that start-up and deletes can commit.
  space::DiskGuardOptions disk_opts;
  disk_opts.reserve_bytes = cfg.disk_reserve_mb << 20;
  disk_opts.min_free_bytes = cfg.disk_min_free_mb << 20;
  disk_opts.critical_free_bytes = cfg.disk_critical_free_mb << 20;
  auto disk = space::DiskGuard::Open(cfg.data_dir, disk_opts);
  if (!disk.ok()) return Fail("disk guard: " + disk.status().ToString());
  auto meta = meta::SqliteNamespaceStore::Open(cfg.data_dir + "/meta.db");
  if (!meta.ok()) return Fail("cannot open metadata: " + meta.status().ToString());
  space::ReservingNamespaceStore guarded_meta(meta->get(), disk->get());
  auto local = extent::LocalExtentStore::Open(cfg.data_dir + "/extents");
  if (!local.ok()) return Fail("cannot open extent store: " + local.status().ToString());
  // Uploads of up to 64 KiB are kept inline in meta.db (LakeService), in their metadata
  // transaction. The packed database keeps the small extents of earlier versions readable;
  // larger extents are files.
  auto extents = extent::PackedExtentStore::Open(cfg.data_dir + "/extents/packed.db",
                                                 std::move(*local));
  if (!extents.ok()) return Fail("cannot open extent store: " + extents.status().ToString());

  lake::LakeService lake(&guarded_meta, extents->get());
  lake.SetDiskGuard(disk->get());
  auto reclaimed = lake.Recover();
  if (!reclaimed.ok()) return Fail("recovery failed: " + reclaimed.status().ToString());
  if (*reclaimed > 0) spdlog::info("recovery reclaimed {} unreferenced extents", *reclaimed);
  // The workspace catalog keeps its tables in the same metadata database; its secrets are
  // sealed under a master key kept beside it, never inside it.
  auto catalog_store = catalog::SqliteCatalogStore::Open(cfg.data_dir + "/meta.db");
  if (!catalog_store.ok()) return Fail("cannot open catalog: " + catalog_store.status().ToString());
  auto box = SecretBox::OpenOrCreate(cfg.data_dir + "/master.key");
  if (!box.ok()) return Fail(box.status().message());
  // The directory and token service: tenants, principals, groups, roles and signing keys.
  auto identity_store = identity::SqliteIdentityStore::Open(cfg.data_dir + "/meta.db");
  if (!identity_store.ok()) {
    return Fail("cannot open the directory: " + identity_store.status().ToString());
  }
  identity::IdentityOptions id_opts;
  id_opts.token_lifetime_s = cfg.token_lifetime_s;
  id_opts.key_rotation_s = cfg.key_rotation_s;
  id_opts.clock_skew_s = cfg.clock_skew_s;
  id_opts.refresh_lifetime_s = cfg.refresh_lifetime_s;
  identity::IdentityService identity(identity_store->get(), box->get(), id_opts);
  if (Status s = identity.Start(); !s.ok()) return Fail("identity: " + s.ToString());
  std::vector<std::string> account_names;
  for (const auto& a : cfg.accounts) account_names.push_back(a.name);
  catalog::CatalogService catalog(catalog_store->get(), &lake, box->get(), account_names,
                                 &identity);
  std::shared_ptr<const http::TlsContext> trust;
  {
    auto made = http::TlsContext::ForClient(cfg.ca_file);
    if (!made.ok()) return Fail("--ca-file: " + made.status().message());
    trust = std::move(made).value();
    catalog.SetTrustedCa(trust);
  }
  // Datastores on this tarnd that hold a key or a SAS have it checked again on every read.
  catalog.SetCredentialCheck([&cfg](const catalog::StoredCredential& c) {
    return protocol::CheckStoredCredential(cfg.accounts, c.type, c.account, c.secret,
                                           c.filesystem, c.path, c.list);
  });
  auto released = catalog.Recover();
  if (!released.ok()) return Fail("catalog recovery failed: " + released.status().ToString());
  if (*released > 0) spdlog::info("released the pins of {} unregistered dataset versions", *released);
  lake.StartCollector();
  // What lake.yaml's retention no longer keeps (failed staging, old raw batches) is deleted.
  zones::Retention retention(&lake, account_names);
  if (cfg.retention_interval_s > 0) {
    retention.Start(std::chrono::seconds(cfg.retention_interval_s));
  }

  // The audit log: writes, ACL changes, denials and directory changes; reads summarised.
  auto audit = audit::AuditLog::Open(cfg.data_dir + "/audit", 64 << 20);
  if (!audit.ok()) return Fail(audit.status().message());
  // Pipelines: runs a crash interrupted are failed or finished before any new one starts.
  pipeline::PipelineOptions pipeline_opts;
  pipeline_opts.work_dir = cfg.data_dir + "/pipelines";
  if (const char* url = std::getenv("OPENLINEAGE_URL")) pipeline_opts.openlineage_url = url;
  if (const char* path = std::getenv("OPENLINEAGE_ENDPOINT")) {
    pipeline_opts.openlineage_endpoint = std::string(path).rfind('/', 0) == 0
                                             ? path
                                             : "/" + std::string(path);
  }
  pipeline::PipelineService pipelines(&catalog, catalog_store->get(), &lake, pipeline_opts,
                                      &identity);
  auto recovered = pipelines.Recover();
  if (!recovered.ok()) return Fail("pipeline recovery failed: " + recovered.status().ToString());
  if (*recovered > 0) spdlog::info("ended {} pipeline runs a stop interrupted", *recovered);
  pipelines.Start();
  // Experiment tracking (MLflow's API): its own database, so that metric logging never waits on
  // the namespace's writes.
  auto tracking_store = tracking::SqliteTrackingStore::Open(cfg.data_dir + "/tracking.db");
  if (!tracking_store.ok()) {
    return Fail("cannot open tracking store: " + tracking_store.status().ToString());
  }
  tracking::TrackingService tracking(tracking_store->get(), &catalog);
  // Runs on compute targets (tarnd's own runner): the runs a stop left are taken up again, and
  // their tokens work only while they are active.
  compute::JobOptions job_opts;
  job_opts.work_root =
      cfg.compute_work_dir.empty() ? cfg.data_dir + "/runs" : cfg.compute_work_dir;
  job_opts.python = cfg.compute_python;
  job_opts.env = cfg.compute_env;
  compute::JobService jobs(job_opts, tracking_store->get(), &tracking, &identity, &lake, &catalog,
                          &pipelines);
  {
    compute::LocalTargetOptions local_opts;
    local_opts.user = cfg.compute_user;
    local_opts.work_root = job_opts.work_root;
    local_opts.max_concurrent = cfg.compute_max_concurrent;
    local_opts.max_run_s = cfg.compute_max_run_s;
    local_opts.max_memory_mb = cfg.compute_max_memory_mb;
    local_opts.max_processes = cfg.compute_max_processes;
    local_opts.run_uid_first = cfg.compute_run_uid_first;
    local_opts.run_uid_last = cfg.compute_run_uid_last;
    auto local_target = compute::LocalTarget::Create(local_opts);
    if (!local_target.ok()) return Fail(local_target.status().message());
    if (Status why = (*local_target)->Available(); !why.ok()) {
      spdlog::warn("compute target 'local' cannot take runs: {}", why.message());
    }
    jobs.AddTarget(std::move(local_target).value());
  }
  if (cfg.slurm_enabled) {
    compute::SlurmTargetOptions slurm_opts;
    slurm_opts.name = cfg.slurm_name;
    slurm_opts.user = cfg.slurm_user;
    slurm_opts.slurm_conf = cfg.slurm_conf;
    slurm_opts.partition = cfg.slurm_partition;
    slurm_opts.bin_dir = cfg.slurm_bin_dir;
    slurm_opts.max_concurrent = cfg.slurm_max_concurrent;
    slurm_opts.max_run_s = cfg.slurm_max_run_s;
    auto slurm = compute::SlurmTarget::Create(slurm_opts);
    if (!slurm.ok()) return Fail(slurm.status().message());
    if (Status why = (*slurm)->Available(); !why.ok()) {
      spdlog::warn("compute target '{}' cannot take runs: {}", cfg.slurm_name, why.message());
    }
    jobs.AddTarget(std::move(slurm).value());
  }
  identity.SetRunCheck([&jobs](const std::string& run_id) { return jobs.IsActive(run_id); });
  auto resumed = jobs.Recover();
  if (!resumed.ok()) return Fail("run recovery failed: " + resumed.status().ToString());
  if (*resumed > 0) spdlog::info("took up {} runs a stop left queued or running", *resumed);
  protocol::Frontend frontend(&lake, cfg.accounts, &catalog, &identity, audit->get());
  frontend.SetJobs(&jobs);
  frontend.SetPipelines(&pipelines);
  frontend.SetTracking(&tracking);
  protocol::ServiceProperties service_properties(cfg.data_dir + "/service-properties");
  service_properties.SetContainerRetentionDays(cfg.container_delete_retention_days);
  frontend.SetServiceProperties(&service_properties);
  frontend.SetHostSuffixes(cfg.host_suffixes);
  frontend.SetCopySources(cfg.copy_sources, trust);
  {
    // Query answers too large for memory are spooled here (unlinked files: nothing to clean).
    const std::string scratch = cfg.data_dir + "/tmp";
    std::error_code ec;
    std::filesystem::create_directories(scratch, ec);
    if (ec) return Fail("cannot create " + scratch + ": " + ec.message());
    frontend.SetScratchDir(scratch);
  }
  std::optional<protocol::StudioAssets> studio;
  if (cfg.studio_dir != "off") {
    const bool asked = !cfg.studio_dir.empty();
    const std::string dir = asked ? cfg.studio_dir : protocol::DefaultStudioDir(argv[0]);
    auto loaded = dir.empty() ? StatusOr<protocol::StudioAssets>(Status(Code::kNotFound, "none "
                                    "beside the executable"))
                              : protocol::StudioAssets::Load(dir);
    if (loaded.ok()) {
      studio = std::move(loaded).value();
      frontend.SetStudio(&*studio);
      spdlog::info("studio: {} files from {}", studio->size(), studio->dir());
    } else if (asked) {
      return Fail("studio_dir: " + loaded.status().message());
    } else {
      spdlog::info("no studio ({}); /studio/ answers 404", loaded.status().message());
    }
  }
  frontend.SetWriteObserver(
      [&pipelines](const std::string& account, const std::string& fs, const std::string& path) {
        pipelines.OnWrite(account, fs, path);
      });
  http::ServerOptions opts;
  opts.listen = cfg.listen;
  opts.max_connections = cfg.max_connections;
  opts.header_limit = cfg.header_limit_bytes;
  opts.idle_timeout = std::chrono::seconds(cfg.idle_timeout_s);
  opts.head_timeout = std::chrono::seconds(cfg.head_timeout_s);
  opts.body_timeout = std::chrono::seconds(cfg.body_timeout_s);
  opts.linger = std::chrono::milliseconds(cfg.keepalive_linger_ms);
  opts.on_bad_request = [&](int status, const std::string& why, http::ResponseWriter& w) {
    frontend.HandleBadRequest(status, why, w);
  };
  auto handler = [&](http::Request& r, http::ResponseWriter& w) { frontend.Handle(r, w); };
  http::Server server(opts, handler);
  // HTTPS on its own port, with the same handler: OAuth clients refuse plain http.
  std::unique_ptr<http::TlsContext> tls;
  std::unique_ptr<http::Server> tls_server;
  std::string tls_url;
  if (cfg.tls_listen != "off") {
    std::string cert = cfg.tls_cert, key = cfg.tls_key;
    if (cert.empty()) {
      std::vector<std::string> names;
      for (const std::string& suffix : cfg.host_suffixes) {
        names.push_back("*.blob." + suffix);
        names.push_back("*.dfs." + suffix);
      }
      if (Status s = http::EnsureSelfSigned(cfg.data_dir + "/tls", names); !s.ok()) {
        return Fail("cannot make a TLS certificate: " + s.message());
      }
      cert = cfg.data_dir + "/tls/cert.pem";
      key = cfg.data_dir + "/tls/key.pem";
    }
    auto ctx = http::TlsContext::ForServer(cert, key);
    if (!ctx.ok()) return Fail(ctx.status().message());
    tls = std::move(ctx).value();
    http::ServerOptions tls_opts = opts;
    tls_opts.listen = cfg.tls_listen;
    tls_opts.tls = tls->get();
    tls_server = std::make_unique<http::Server>(tls_opts, handler);
  }
  auto url = server.Start();
  if (!url.ok()) return Fail(url.status().message());
  if (tls_server) {
    auto u = tls_server->Start();
    if (!u.ok()) return Fail("HTTPS: " + u.status().message());
    tls_url = *u;
  }
  catalog.SetSelfUrls({*url, tls_url});
  {
    // A copy source on either of this server's own URLs is local data.
    std::vector<std::string> authorities;
    for (const std::string& u : {*url, tls_url}) {
      if (size_t p = u.find("://"); p != std::string::npos) authorities.push_back(u.substr(p + 3));
    }
    frontend.SetSelfAuthorities(std::move(authorities));
  }
  identity.SetBaseUrl(tls_url);
  jobs.SetServer(tls_url, cfg.tls_cert.empty() ? cfg.data_dir + "/tls/cert.pem" : cfg.tls_cert);
  jobs.Start();
  std::string names;
  for (const auto& a : cfg.accounts) names += (names.empty() ? "" : ",") + a.name;
  std::printf("tarnd listening on %s%s (accounts: %s; data: %s)\n", url->c_str(),
              tls_url.empty() ? "" : (" and " + tls_url).c_str(), names.c_str(),
              cfg.data_dir.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("signal {}: stopping", sig);
  if (tls_server) tls_server->Stop();
  server.Stop();
  jobs.Stop();  // runs go on: the next tarnd takes them up
  return 0;
}
