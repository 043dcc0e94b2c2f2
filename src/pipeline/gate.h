// A step's gate: the queries that measure its checks on the written output, and their outcomes.
//
//   Gate gate(step.checks, previous_row_count);
//   req.next_queries = [&](auto& schema, auto& answers) { return gate.NextQueries(schema, answers); };
//   StatusOr<StepResult> r = engine.RunStep(req);
//   std::string failure;
//   Json report = gate.Report(*r, &failure);   // failure: "" when every check passed
//
// Queries come in two rounds: first every check's value, the checks one scan can measure
// (row_count, missing_count, invalid_count, freshness) together as one aggregate; then example
// rows of the checks that failed, only those. A check naming a column the output does not have
// is an error outcome (the gate fails) without a query.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/pipeline_spec.h"
#include "tabular/tabular.h"

namespace tarn::pipeline {

class Gate {
 public:
  // previous_rows: the row count of the output dataset's latest version (change checks).
  Gate(const std::vector<Check>& checks, std::optional<int64_t> previous_rows);

  // For tabular::StepRequest::next_queries.
  std::vector<std::string> NextQueries(const std::vector<tabular::ColumnInfo>& schema,
                                       const std::vector<tabular::QueryAnswer>& answers);

  // Each check's {"check","line","outcome":"pass"|"fail"|"error","value","message","examples"};
  // *first_failure says the first check that did not pass, or stays "".
  nlohmann::json Report(const tabular::StepResult& r, std::string* first_failure) const;

 private:
  struct Outcome {
    std::string outcome = "fail";  // pass, fail or error
    std::optional<double> value{};
    std::string message{};
  };
  Outcome Measure(size_t k, const std::vector<tabular::ColumnInfo>& schema,
                  const std::vector<tabular::QueryAnswer>& answers, int64_t rows_out) const;

  struct Plan {
    int metric = -1;  // the answer holding the value, -1: none
    size_t column = 0;
    int rows = -1;    // the answer holding example rows
    std::string error{};
  };
  const std::vector<Check>& checks_;
  std::optional<int64_t> previous_rows_;
  std::vector<Plan> plan_;
  int round_ = 0;
};

}  // namespace tarn::pipeline
