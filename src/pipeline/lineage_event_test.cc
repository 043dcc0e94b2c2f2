// pipeline::LineageRecordOf: what a client's OpenLineage RunEvent must be to be kept.
#include <gtest/gtest.h>

#include "pipeline/pipeline_service.h"

namespace tarn::pipeline {
namespace {

Json Event() {
  return Json::parse(R"({
    "eventType": "COMPLETE", "eventTime": "2026-12-07T05:00:00Z",
    "producer": "https://example.com/ingest",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "0193a6c4-3b1e-7a5e-9a41-2f5c8e1d2b3a"},
    "job": {"namespace": "tarn/ws", "name": "ingest.pos"},
    "inputs": [{"namespace": "file://host", "name": "/landing/day1.csv"}],
    "outputs": [{"namespace": "abfss://raw@acct.dfs.core.windows.net", "name": "pos/b",
                 "facets": {"tarn_dataset": {"name": "pos_raw", "version": 3}}}]})");
}

TEST(LineageEvent, KeysDatasetsByVersionOrPath) {
  auto rec = LineageRecordOf("ws", Event());
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(rec->id, "0193a6c4-3b1e-7a5e-9a41-2f5c8e1d2b3a:COMPLETE");
  EXPECT_EQ(rec->inputs, (std::vector<std::string>{"path:file://host//landing/day1.csv"}));
  EXPECT_EQ(rec->outputs, (std::vector<std::string>{"dataset:pos_raw:3"}));
}

TEST(LineageEvent, RefusesWhatIsNotARunEvent) {
  auto refused = [](Json e, const std::string& fragment) {
    auto rec = LineageRecordOf("ws", e);
    ASSERT_FALSE(rec.ok()) << e.dump();
    EXPECT_NE(rec.status().message().find(fragment), std::string::npos)
        << rec.status().message();
  };
  Json e = Event();
  e["eventType"] = "DONE";
  refused(e, "eventType");
  e = Event();
  e["eventTime"] = "yesterday";
  refused(e, "eventTime");
  e = Event();
  e.erase("run");
  refused(e, "run and job");
  e = Event();
  e["outputs"][0]["facets"]["tarn_dataset"]["version"] = 0;
  refused(e, "positive integer");
  // Names are printed on terminals: no escape sequences.
  e = Event();
  e["inputs"][0]["name"] = "/landing/\x1b]0;owned\x07.csv";
  refused(e, "control characters");
  e = Event();
  e["job"]["name"] = "ingest\npos";
  refused(e, "control characters");
}

}  // namespace
}  // namespace tarn::pipeline
