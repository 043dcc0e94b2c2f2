// The runs' REST front, /workspaces/<ws>/jobs... and /workspaces/<ws>/computes (docs/api.md):
// submitting a run to a compute target, following it (status, logs) and cancelling it, one
// operation per route of the route table. Served when tarnd runs a JobService (c.jobs);
// otherwise 501.
#pragma once

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol::job_ops {

Status SubmitJob(Ctx& c);
Status ListJobs(Ctx& c);
Status GetJob(Ctx& c);
Status GetJobLogs(Ctx& c);
Status CancelJob(Ctx& c);
Status ListComputes(Ctx& c);

}  // namespace tarn::protocol::job_ops
