#include "bench/workloads.h"

#include <algorithm>
#include <atomic>

namespace tarn::bench {
namespace {

using nlohmann::json;

Status TimeLimit() { return Status(Code::kUnavailable, "the workload's time limit passed"); }

double MbPerS(int64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0;
}

}  // namespace

int RunUpload(const Target& t, const UploadOptions& o) {
  const bool dfs = o.block > 0 && o.block < o.size;
  json j = {{"bench", "upload"}, {"mode", dfs ? "dfs-append" : "put-blob"},
            {"streams", o.streams}, {"size", o.size}, {"block", dfs ? o.block : o.size}};
  ErrorLog errors;
  if (o.size < 1 || o.streams < 1 || o.streams > 256 || o.block < 0) {
    errors.Add(Status(Code::kInvalidArgument, "need size >= 1, 1 <= streams <= 256, block >= 0"));
    return Report(j, errors, false);
  }
  if (Status s = EnsureFilesystem(t); !s.ok()) {
    errors.Add(s);
    return Report(j, errors, false);
  }
  const std::string prefix = RunPrefix("upload");
  std::vector<std::string> paths;
  for (int i = 0; i < o.streams; ++i) paths.push_back(prefix + "/s" + std::to_string(i));
  Deadline deadline(t.max_seconds);
  int64_t start = NowUs();
  RunParallel(o.streams, [&](int i) {
    Status s = [&]() -> Status {
      TARN_ASSIGN_OR_RETURN(auto c, NewClient(t));
      const std::string& path = paths[static_cast<size_t>(i)];
      if (!dfs) return c->PutBlob(t.filesystem, path, o.size, PatternSource(0, o.size));
      TARN_RETURN_IF_ERROR(c->CreateFile(t.filesystem, path));
      for (int64_t at = 0; at < o.size; at += o.block) {
        if (deadline.passed()) return TimeLimit();
        int64_t n = std::min(o.block, o.size - at);
        TARN_RETURN_IF_ERROR(c->Append(t.filesystem, path, at, n, PatternSource(at, n)));
      }
      return c->Flush(t.filesystem, path, o.size, /*close=*/true);
    }();
    errors.Add(s);
  });
  double seconds = Seconds(start, NowUs());
  // Untimed: every file is there with its full length.
  if (errors.count() == 0) {
    if (auto c = NewClient(t); c.ok()) {
      for (const auto& p : paths) {
        auto props = (*c)->GetPathProperties(t.filesystem, p);
        if (!props.ok()) {
          errors.Add(props.status());
        } else if (props->content_length != o.size) {
          errors.Add(Status(Code::kInternal, p + " has " + std::to_string(props->content_length) +
                                                 " bytes after the upload"));
        }
      }
    } else {
      errors.Add(c.status());
    }
  }
  int64_t bytes = o.size * o.streams;
  j["bytes"] = bytes;
  j["seconds"] = seconds;
  j["mb_s"] = MbPerS(bytes, seconds);
  json jp = json::array();
  for (const auto& p : paths) jp.push_back(t.filesystem + "/" + p);
  j["paths"] = jp;
  return Report(j, errors, /*complete=*/true);  // a time limit shows up as an error
}

int RunDownload(const Target& t, const DownloadOptions& o) {
  json j = {{"bench", "download"}, {"streams", o.streams}, {"repeat", o.repeat},
            {"verify", o.verify}};
  ErrorLog errors;
  if (o.paths.empty() || o.streams < 1 || o.streams > 256 || o.repeat < 1 || o.repeat > 100 ||
      (o.paths.size() > 1 && o.streams != 1 && static_cast<size_t>(o.streams) != o.paths.size())) {
    errors.Add(Status(Code::kInvalidArgument,
                      "need --path (one, or one per stream), 1 <= streams <= 256, 1 <= repeat <= 100"));
    return Report(j, errors, false);
  }
  // One stream per piece: (path, offset, length).
  struct Piece {
    std::string path;
    int64_t offset = 0, length = 0;
  };
  std::vector<Piece> pieces;
  {
    auto c = NewClient(t);
    if (!c.ok()) {
      errors.Add(c.status());
      return Report(j, errors, false);
    }
    for (const auto& p : o.paths) {
      auto props = (*c)->GetPathProperties(t.filesystem, p);
      if (!props.ok()) {
        errors.Add(props.status());
        return Report(j, errors, false);
      }
      if (o.paths.size() == 1) {
        int64_t per = (props->content_length + o.streams - 1) / o.streams;
        for (int64_t at = 0; at < props->content_length; at += per) {
          pieces.push_back({p, at, std::min(per, props->content_length - at)});
        }
      } else {
        pieces.push_back({p, 0, props->content_length});
      }
    }
  }
  int64_t bytes = 0;
  for (const auto& p : pieces) bytes += p.length;
  j["streams"] = pieces.size();
  Deadline deadline(t.max_seconds);
  std::vector<double> runs;
  for (int r = 0; r < o.repeat && !deadline.passed() && errors.count() == 0; ++r) {
    std::atomic<int64_t> got{0};
    int64_t start = NowUs();
    RunParallel(static_cast<int>(pieces.size()), [&](int i) {
      const Piece& p = pieces[static_cast<size_t>(i)];
      Status s = [&]() -> Status {
        TARN_ASSIGN_OR_RETURN(auto c, NewClient(t));
        PatternChecker check(p.offset);
        int64_t mine = 0;
        auto sink = [&](std::string_view piece) -> Status {
          mine += static_cast<int64_t>(piece.size());
          return o.verify ? check.Check(piece) : Status::Ok();
        };
        std::optional<client::ByteRange> range;
        if (p.offset != 0 || o.paths.size() == 1) {
          if (p.length > 0) range = client::ByteRange{p.offset, p.length};
        }
        TARN_ASSIGN_OR_RETURN(int64_t n, c->GetBlob(t.filesystem, p.path, range, sink));
        got.fetch_add(n);
        if (mine != p.length) {
          return Status(Code::kInternal, "received " + std::to_string(mine) + " of " +
                                             std::to_string(p.length) + " bytes of " + p.path);
        }
        return Status::Ok();
      }();
      errors.Add(s);
    });
    runs.push_back(Seconds(start, NowUs()));
    if (got.load() != bytes && errors.count() == 0) {
      errors.Add(Status(Code::kInternal, "received " + std::to_string(got.load()) + " of " +
                                             std::to_string(bytes) + " bytes"));
    }
  }
  double seconds = Median(runs);
  j["bytes"] = bytes;
  j["seconds"] = seconds;
  j["mb_s"] = MbPerS(bytes, seconds);
  json jr = json::array();
  for (double s : runs) jr.push_back(MbPerS(bytes, s));
  j["runs_mb_s"] = jr;
  return Report(j, errors, static_cast<int>(runs.size()) == o.repeat);
}

int RunSmall(const Target& t, const SmallOptions& o) {
  const char* mode = o.mode == SmallOptions::Mode::kDfsWrite    ? "dfs-create-append-flush"
                     : o.mode == SmallOptions::Mode::kBlobWrite ? "put-blob"
                                                                : "read";
  json j = {{"bench", "small"}, {"mode", mode}, {"clients", o.clients}, {"size", o.size}};
  ErrorLog errors;
  if (o.clients < 1 || o.clients > 1024 || o.ops < 1 || o.size < 0 || o.size > static_cast<int64_t>(kPatternSize) ||
      o.read_files < 1) {
    errors.Add(Status(Code::kInvalidArgument,
                      "need 1 <= clients <= 1024, ops >= 1, 0 <= size <= 4 MiB, read-files >= 1"));
    return Report(j, errors, false);
  }
  if (Status s = EnsureFilesystem(t); !s.ok()) {
    errors.Add(s);
    return Report(j, errors, false);
  }
  const std::string prefix = RunPrefix("small");
  const std::string_view data(Pattern().data(), static_cast<size_t>(o.size));
  Deadline deadline(t.max_seconds);
  auto name = [&](int64_t i) { return prefix + "/f" + std::to_string(i); };

  const bool read = o.mode == SmallOptions::Mode::kRead;
  const int64_t files = read ? std::min(o.read_files, o.ops) : o.ops;
  if (read) {
    // Untimed: the files to read.
    std::atomic<int64_t> next{0};
    RunParallel(o.clients, [&](int) {
      auto c = NewClient(t);
      if (!c.ok()) return errors.Add(c.status());
      for (int64_t i; (i = next.fetch_add(1)) < files && !deadline.passed();) {
        errors.Add((*c)->PutBlob(t.filesystem, name(i), data));
      }
    });
    if (errors.count() > 0 || deadline.passed()) return Report(j, errors, false);
  }

  std::atomic<int64_t> next{0}, done{0};
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(o.clients));
  int64_t start = NowUs();
  RunParallel(o.clients, [&](int w) {
    auto c = NewClient(t);
    if (!c.ok()) return errors.Add(c.status());
    auto& lat = latencies[static_cast<size_t>(w)];
    for (int64_t i; (i = next.fetch_add(1)) < o.ops && !deadline.passed();) {
      int64_t t0 = NowUs();
      Status s;
      switch (o.mode) {
        case SmallOptions::Mode::kDfsWrite:
          s = (*c)->CreateFile(t.filesystem, name(i));
          if (s.ok()) s = (*c)->Append(t.filesystem, name(i), 0, data);
          if (s.ok()) s = (*c)->Flush(t.filesystem, name(i), o.size, /*close=*/true);
          break;
        case SmallOptions::Mode::kBlobWrite:
          s = (*c)->PutBlob(t.filesystem, name(i), data);
          break;
        case SmallOptions::Mode::kRead: {
          auto body = (*c)->GetBlob(t.filesystem, name(i % files));
          if (!body.ok()) {
            s = body.status();
          } else if (*body != data) {
            s = Status(Code::kInternal, "read back different bytes from " + name(i % files));
          }
          break;
        }
      }
      lat.push_back(NowUs() - t0);
      if (!s.ok()) {
        errors.Add(s);
        if (errors.count() > 100) return;
        continue;
      }
      done.fetch_add(1);
    }
  });
  double seconds = Seconds(start, NowUs());
  // Untimed: the last file written holds what was written.
  if (!read && done.load() > 0 && errors.count() == 0) {
    auto c = NewClient(t);
    if (!c.ok()) {
      errors.Add(c.status());
    } else {
      auto body = (*c)->GetBlob(t.filesystem, name(o.ops - 1));
      if (!body.ok()) {
        errors.Add(body.status());
      } else if (*body != data) {
        errors.Add(Status(Code::kInternal, "a small file reads back different bytes"));
      }
    }
  }
  std::vector<int64_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Percentiles p = Summarize(std::move(all));
  j["ops"] = done.load();
  j["requests_per_op"] = o.mode == SmallOptions::Mode::kDfsWrite ? 3 : 1;
  j["seconds"] = seconds;
  j["ops_s"] = seconds > 0 ? static_cast<double>(done.load()) / seconds : 0;
  j["p50_ms"] = p.p50_ms;
  j["p90_ms"] = p.p90_ms;
  j["p99_ms"] = p.p99_ms;
  j["max_ms"] = p.max_ms;
  return Report(j, errors, done.load() == o.ops);
}

int RunRename(const Target& t, const RenameOptions& o) {
  json j = {{"bench", "rename"}, {"descendants", o.descendants}, {"clients", o.clients}};
  ErrorLog errors;
  if (o.descendants < 1 || o.descendants > 10'000'000 || o.clients < 1 || o.clients > 1024 ||
      o.repeats < 1 || o.repeats > 100) {
    errors.Add(Status(Code::kInvalidArgument,
                      "need 1 <= descendants <= 1e7, 1 <= clients <= 1024, 1 <= repeats <= 100"));
    return Report(j, errors, false);
  }
  if (Status s = EnsureFilesystem(t); !s.ok()) {
    errors.Add(s);
    return Report(j, errors, false);
  }
  Deadline deadline(t.max_seconds);
  const std::string prefix = RunPrefix("rename");
  const std::string names[2] = {prefix + "/src", prefix + "/dst"};
  auto built = Populate(t, names[0], o.descendants, o.clients, deadline, &errors);
  if (!built.ok()) {
    errors.Add(built.status());
    return Report(j, errors, false);
  }
  j["build_seconds"] = built->seconds;
  j["build_paths_s"] = static_cast<double>(built->created) / built->seconds;
  auto c = NewClient(t);
  if (!c.ok()) {
    errors.Add(c.status());
    return Report(j, errors, false);
  }
  std::vector<double> runs;
  for (int r = 0; r < o.repeats && !deadline.passed(); ++r) {
    const std::string& from = names[r % 2];
    const std::string& to = names[(r + 1) % 2];
    int64_t start = NowUs();
    Status s = (*c)->Rename(t.filesystem, from, to);
    runs.push_back(Seconds(start, NowUs()));
    if (!s.ok()) {
      errors.Add(s);
      break;
    }
    // Untimed: the sample file moved with its directory.
    auto moved = (*c)->GetPathProperties(t.filesystem, to + "/" + built->sample_file);
    if (!moved.ok()) errors.Add(moved.status());
    auto old = (*c)->GetPathProperties(t.filesystem, from + "/" + built->sample_file);
    if (old.ok() || old.status().code() != Code::kNotFound) {
      errors.Add(Status(Code::kInternal, "the old path is still reachable after the rename: " +
                                             old.status().ToString()));
    }
    if (errors.count() > 0) break;
  }
  j["seconds"] = Median(runs);
  j["first_seconds"] = runs.empty() ? 0.0 : runs.front();
  j["runs_seconds"] = runs;
  j["sample_file"] = built->sample_file;
  return Report(j, errors, static_cast<int>(runs.size()) == o.repeats);
}

int RunList(const Target& t, const ListOptions& o) {
  json j = {{"bench", "list"}, {"paths", o.paths}, {"page_size", o.page_size}};
  ErrorLog errors;
  if (o.paths < 1 || o.paths > 10'000'000 || o.clients < 1 || o.clients > 1024 ||
      o.repeats < 1 || o.repeats > 100 || o.page_size < 1 || o.page_size > 5000) {
    errors.Add(Status(Code::kInvalidArgument,
                      "need 1 <= paths <= 1e7, 1 <= clients <= 1024, 1 <= repeats <= 100, "
                      "1 <= page-size <= 5000"));
    return Report(j, errors, false);
  }
  if (Status s = EnsureFilesystem(t); !s.ok()) {
    errors.Add(s);
    return Report(j, errors, false);
  }
  Deadline deadline(t.max_seconds);
  const std::string dir = RunPrefix("list");
  auto built = Populate(t, dir, o.paths, o.clients, deadline, &errors);
  if (!built.ok()) {
    errors.Add(built.status());
    return Report(j, errors, false);
  }
  j["build_seconds"] = built->seconds;
  auto c = NewClient(t);
  if (!c.ok()) {
    errors.Add(c.status());
    return Report(j, errors, false);
  }
  std::vector<double> runs;
  int64_t pages = 0;
  for (int r = 0; r < o.repeats && !deadline.passed() && errors.count() == 0; ++r) {
    int64_t start = NowUs();
    int64_t seen = 0;
    pages = 0;
    std::string cont;
    do {
      auto page = (*c)->ListPaths(t.filesystem, dir, /*recursive=*/true, cont, o.page_size);
      if (!page.ok()) {
        errors.Add(page.status());
        break;
      }
      seen += static_cast<int64_t>(page->paths.size());
      cont = page->continuation;
      ++pages;
    } while (!cont.empty() && !deadline.passed());
    runs.push_back(Seconds(start, NowUs()));
    if (errors.count() == 0 && seen != o.paths) {
      errors.Add(Status(Code::kInternal, "listed " + std::to_string(seen) + " of " +
                                             std::to_string(o.paths) + " paths"));
    }
  }
  double seconds = Median(runs);
  j["pages"] = pages;
  j["seconds"] = seconds;
  j["paths_s"] = seconds > 0 ? static_cast<double>(o.paths) / seconds : 0;
  j["runs_seconds"] = runs;
  return Report(j, errors, static_cast<int>(runs.size()) == o.repeats);
}

}  // namespace tarn::bench
