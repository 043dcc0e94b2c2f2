#include "pipeline/gate.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

namespace tarn::pipeline {
namespace {

constexpr int kExampleRows = 5;

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

nlohmann::json Examples(const tabular::QueryAnswer& a) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : a.rows) {
    nlohmann::json r = nlohmann::json::array();
    for (const auto& v : row) r.push_back(v ? nlohmann::json(*v) : nlohmann::json());
    rows.push_back(r);
  }
  return {{"columns", a.columns}, {"rows", rows}};
}

// The rows of the output for a change check: the step's own count, with no query.
constexpr int64_t kNoRows = -1;

}  // namespace

Gate::Gate(const std::vector<Check>& checks, std::optional<int64_t> previous_rows)
    : checks_(checks), previous_rows_(previous_rows), plan_(checks.size()) {}

std::vector<std::string> Gate::NextQueries(const std::vector<tabular::ColumnInfo>& schema,
                                           const std::vector<tabular::QueryAnswer>& answers) {
  std::vector<std::string> out;
  const int base = static_cast<int>(answers.size());
  const int round = round_++;
  if (round == 0) {
    std::set<std::string> have;
    std::string names;
    for (const auto& c : schema) {
      have.insert(c.name);
      names += (names.empty() ? "" : ", ") + c.name;
    }
    std::string combined;
    std::vector<size_t> in_combined;
    for (size_t k = 0; k < checks_.size(); ++k) {
      const Check& c = checks_[k];
      for (const std::string& col : c.columns) {
        if (!have.count(col) && plan_[k].error.empty()) {
          plan_[k].error = "the output has no column '" + col + "' (it has: " + names + ")";
        }
      }
      if (!plan_[k].error.empty()) continue;
      if (std::string agg = MetricAggregate(c); !agg.empty()) {
        plan_[k].column = in_combined.size();
        in_combined.push_back(k);
        combined += (combined.empty() ? "SELECT " : ", ") + ("(" + agg + ")::DOUBLE");
      } else if (std::string sql = MetricSql(c); !sql.empty()) {
        plan_[k].metric = base + static_cast<int>(out.size());
        out.push_back(sql);
      }
    }
    if (!in_combined.empty()) {
      for (size_t k : in_combined) plan_[k].metric = base + static_cast<int>(out.size());
      out.push_back(combined + " FROM output");
    }
    return out;
  }
  if (round == 1) {
    for (size_t k = 0; k < checks_.size(); ++k) {
      if (Measure(k, schema, answers, kNoRows).outcome == "pass") continue;
      if (std::string sql = FailingRowsSql(checks_[k], kExampleRows); !sql.empty() &&
                                                                        plan_[k].error.empty()) {
        plan_[k].rows = base + static_cast<int>(out.size());
        out.push_back(sql);
      }
    }
  }
  return out;
}

Gate::Outcome Gate::Measure(size_t k, const std::vector<tabular::ColumnInfo>& schema,
                            const std::vector<tabular::QueryAnswer>& answers,
                            int64_t rows_out) const {
  const Check& c = checks_[k];
  const Plan& p = plan_[k];
  Outcome o;
  if (!p.error.empty()) {
    o.outcome = "error";
    o.message = p.error;
  } else if (p.metric >= 0 && static_cast<size_t>(p.metric) < answers.size()) {
    const tabular::QueryAnswer& a = answers[static_cast<size_t>(p.metric)];
    if (!a.status.ok()) {
      o.outcome = "error";
      o.message = a.status.message();
    } else if (!a.rows.empty() && p.column < a.rows[0].size() && a.rows[0][p.column]) {
      o.value = std::strtod(a.rows[0][p.column]->c_str(), nullptr);
      o.outcome = Passes(c, *o.value) ? "pass" : "fail";
    } else {
      o.message = "no value (the output has no rows)";
    }
  } else if (c.kind == Check::Kind::kSchema) {
    std::map<std::string, std::string> have;
    for (const auto& col : schema) have[col.name] = col.type;
    o.outcome = "pass";
    auto add = [&](const std::string& m) {
      o.outcome = "fail";
      o.message += (o.message.empty() ? "" : "; ") + m;
    };
    for (const std::string& col : c.required_columns) {
      if (!have.count(col)) add("missing column " + col);
    }
    for (const auto& [col, type] : c.column_types) {
      auto it = have.find(col);
      if (it != have.end() && it->second != type) add(col + " is " + it->second + ", not " + type);
      if (it == have.end()) add("missing column " + col);
    }
  } else if (c.kind == Check::Kind::kChange) {
    if (rows_out == kNoRows) {
      o.outcome = "pass";  // measured in Report; it has no example rows
    } else if (!previous_rows_) {
      o.outcome = "pass";
      o.message = "no previous version to compare with";
    } else {
      double change = static_cast<double>(rows_out - *previous_rows_);
      if (c.percent) {
        change = *previous_rows_ == 0 ? (rows_out == 0 ? 0 : 1e300)
                                      : 100.0 * change / static_cast<double>(*previous_rows_);
      }
      o.value = change;
      o.outcome = Passes(c, change) ? "pass" : "fail";
      o.message = "the previous version had " + std::to_string(*previous_rows_) + " rows";
    }
  }
  return o;
}

nlohmann::json Gate::Report(const tabular::StepResult& r, std::string* first_failure) const {
  nlohmann::json out = nlohmann::json::array();
  for (size_t k = 0; k < checks_.size(); ++k) {
    const Check& c = checks_[k];
    const Outcome o = Measure(k, r.schema, r.answers, r.rows_out);
    nlohmann::json j{{"check", c.text}, {"line", c.line}, {"outcome", o.outcome}};
    if (o.value) j["value"] = *o.value;
    if (!o.message.empty()) j["message"] = o.message;
    const int rows = plan_[k].rows;
    if (o.outcome != "pass" && rows >= 0 && static_cast<size_t>(rows) < r.answers.size() &&
        r.answers[static_cast<size_t>(rows)].status.ok()) {
      j["examples"] = Examples(r.answers[static_cast<size_t>(rows)]);
    }
    if (o.outcome != "pass" && first_failure->empty()) {
      *first_failure = c.text + (o.value ? " (value " + Number(*o.value) + ")" : "") +
                       (o.message.empty() ? "" : ": " + o.message);
    }
    out.push_back(j);
  }
  return out;
}

}  // namespace tarn::pipeline
