// The pipelines' REST front, /workspaces/<ws>/pipelines... and /workspaces/<ws>/pipeline-runs/<id>
// (docs/pipelines.md), one operation per route of the route table. Served when tarnd runs a
// PipelineService (c.pipelines); otherwise 501.
#pragma once

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol::pipeline_ops {

Status ListPipelines(Ctx& c);
Status PutPipeline(Ctx& c);
Status GetPipeline(Ctx& c);
Status DeletePipeline(Ctx& c);
Status StartRun(Ctx& c);
Status ListRuns(Ctx& c);
Status GetRun(Ctx& c);
Status GetLineage(Ctx& c);
Status ListLineageEvents(Ctx& c);
Status PostLineageEvent(Ctx& c);

}  // namespace tarn::protocol::pipeline_ops
