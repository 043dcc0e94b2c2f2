#include "protocol/catalog/job_ops.h"

#include <algorithm>
#include <string>

#include "compute/job_service.h"

namespace tarn::protocol::job_ops {
namespace {

// A job's snapshot travels in its body as base64: 64 MiB of files, with room for the encoding.
constexpr size_t kMaxJob = 90u << 20;
// A long poll holds one of the server's request threads: kept short.
constexpr int64_t kMaxWaitMs = 10000;

const std::string& Workspace(const Ctx& c) { return c.segments.at(1); }
const std::string& RunId(const Ctx& c) { return c.segments.at(3); }

StatusOr<compute::JobService*> Service(const Ctx& c) {
  if (!c.jobs) return Error(Reason::kNotImplemented, "this server does not run jobs");
  return c.jobs;
}

}  // namespace

Status SubmitJob(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(compute::Json body, ReadJsonBody(c, kMaxJob));
  compute::Submitter who;
  if (c.identity.kind == Identity::Kind::kBearer) who.caller = CallerOf(c.identity);
  who.name = PrincipalName(c.identity);
  return ReplyJson(c, 201, svc->Submit(Workspace(c), body, who));
}

Status ListJobs(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(int64_t limit, ParseIntQuery(c, "limit", 100));
  return ReplyJson(c, 200,
                   svc->List(Workspace(c), c.Query("experiment_name").value_or(""), limit));
}

Status GetJob(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(int64_t wait, ParseIntQuery(c, "wait", 0));
  return ReplyJson(c, 200, svc->Get(Workspace(c), RunId(c), std::clamp<int64_t>(wait, 0,
                                                                                 kMaxWaitMs)));
}

Status GetJobLogs(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(int64_t offset, ParseIntQuery(c, "offset", 0));
  TARN_ASSIGN_OR_RETURN(int64_t limit, ParseIntQuery(c, "limit", 0));
  return ReplyJson(c, 200, svc->Logs(Workspace(c), RunId(c), offset, limit));
}

Status CancelJob(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  return ReplyJson(c, 200, svc->Cancel(Workspace(c), RunId(c)));
}

Status ListComputes(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  return ReplyJson(c, 200, svc->Computes());
}

}  // namespace tarn::protocol::job_ops
