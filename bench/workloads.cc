#include "bench/workloads.h"

#include <algorithm>
#include <atomic>
#include <functional>

namespace tarn::bench {
namespace {

using nlohmann::json;

Status TimeLimit() { return Status(Code::kUnavailable, "the workload's time limit passed"); }

double MbPerS(int64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0;
}

// Starts a workload: false, with the reason logged, when its options are not valid (`need`
// says what they must be) or the target's filesystem cannot be created.
bool Ready(const Target& t, bool valid, const char* need, ErrorLog* errors) {
  if (!valid) {
    errors->Add(Status(Code::kInvalidArgument, std::string("need ") + need));
    return false;
  }
  Status s = EnsureFilesystem(t);
  errors->Add(s);
  return s.ok();
}

// Writes `data` to name(0) .. name(n - 1) with Put Blob from `clients` parallel clients (an
// untimed set-up). False when anything failed or the deadline passed.
bool SeedBlobs(const Target& t, int64_t n, int clients,
               const std::function<std::string(int64_t)>& name, std::string_view data,
               const Deadline& deadline, ErrorLog* errors) {
  std::atomic<int64_t> next{0};
  RunParallel(clients, [&](int) {
    auto c = NewClient(t);
    if (!c.ok()) return errors->Add(c.status());
    for (int64_t i; (i = next.fetch_add(1)) < n && !deadline.passed();) {
      errors->Add((*c)->PutBlob(t.filesystem, name(i), data));
    }
  });
  return errors->count() == 0 && !deadline.passed();
}

// Moves every blob under from/ to to/, one Copy Blob and one Delete Blob each, with `clients`
// parallel clients: the rename a flat namespace leaves to its clients. Returns the blobs moved.
StatusOr<int64_t> FlatRename(const Target& t, const std::string& from, const std::string& to,
                             int clients, const Deadline& deadline) {
  std::vector<std::string> names;
  {
    TARN_ASSIGN_OR_RETURN(auto c, NewClient(t));
    std::string marker;
    do {
      TARN_ASSIGN_OR_RETURN(client::BlobPage page, c->ListBlobs(t.filesystem, from + "/", marker));
      for (auto& n : page.names) names.push_back(std::move(n));
      marker = page.next_marker;
      if (deadline.passed()) return TimeLimit();
    } while (!marker.empty());
  }
  ErrorLog errors;
  std::atomic<size_t> next{0};
  std::atomic<int64_t> moved{0};
  RunParallel(clients, [&](int) {
    auto c = NewClient(t);
    if (!c.ok()) return errors.Add(c.status());
    for (size_t i; errors.count() == 0 && (i = next.fetch_add(1)) < names.size();) {
      if (deadline.passed()) return errors.Add(TimeLimit());
      const std::string& name = names[i];
      std::string dest = to + name.substr(from.size());
      Status s = (*c)->CopyBlob(t.filesystem, name, dest);
      if (s.ok()) s = (*c)->DeleteBlob(t.filesystem, name);
      if (!s.ok()) return errors.Add(s);
      moved.fetch_add(1);
    }
  });
  if (errors.count() > 0) return Status(Code::kInternal, errors.first());
  return moved.load();
}

}  // namespace

int RunUpload(const Target& t, const UploadOptions& o) {
  const bool dfs = o.block > 0 && o.block < o.size;
  json j = {{"bench", "upload"},
            {"mode", dfs ? "dfs-append" : "put-blob"},
            {"streams", o.streams},
            {"size", o.size},
            {"block", dfs ? o.block : o.size}};
  ErrorLog errors;
  const bool valid =
      !(o.size < 1 || o.streams < 1 || o.streams > 256 || o.block < 0 || (dfs && t.flat));
  if (!Ready(t, valid, "size >= 1, 1 <= streams <= 256, block >= 0 (0 on a flat target)",
             &errors)) {
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
  json j = {
      {"bench", "download"}, {"streams", o.streams}, {"repeat", o.repeat}, {"verify", o.verify}};
  ErrorLog errors;
  if (o.paths.empty() || o.streams < 1 || o.streams > 256 || o.repeat < 1 || o.repeat > 100 ||
      (o.paths.size() > 1 && o.streams != 1 && static_cast<size_t>(o.streams) != o.paths.size())) {
    errors.Add(
        Status(Code::kInvalidArgument,
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
  const bool valid = !(o.clients < 1 || o.clients > 1024 || o.ops < 1 || o.size < 0 ||
                       o.size > static_cast<int64_t>(kPatternSize) || o.read_files < 1 ||
                       o.duration < 0 || (t.flat && o.mode == SmallOptions::Mode::kDfsWrite));
  if (!Ready(t, valid,
             "1 <= clients <= 1024, ops >= 1, 0 <= size <= 4 MiB, read-files >= 1, "
             "duration >= 0, and no DFS write mode on a flat target",
             &errors)) {
    return Report(j, errors, false);
  }
  const std::string prefix = RunPrefix("small");
  const std::string_view data(Pattern().data(), static_cast<size_t>(o.size));
  Deadline deadline(t.max_seconds);
  auto name = [&](int64_t i) { return prefix + "/f" + std::to_string(i); };

  const bool read = o.mode == SmallOptions::Mode::kRead;
  const int64_t files = read ? std::min(o.read_files, o.ops) : o.ops;
  if (read) {
    if (!SeedBlobs(t, files, o.clients, name, data, deadline, &errors)) {
      return Report(j, errors, false);
    }
  }

  std::atomic<int64_t> next{0}, done{0};
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(o.clients));
  const Deadline stop(o.duration > 0 ? std::min(o.duration, t.max_seconds) : t.max_seconds);
  int64_t start = NowUs();
  RunParallel(o.clients, [&](int w) {
    auto c = NewClient(t);
    if (!c.ok()) return errors.Add(c.status());
    auto& lat = latencies[static_cast<size_t>(w)];
    for (int64_t i; !stop.passed() && (i = next.fetch_add(1)) < o.ops;) {
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
  const int64_t attempted = std::min(next.load(), o.ops);
  // Untimed: the last file written holds what was written.
  if (!read && done.load() > 0 && errors.count() == 0) {
    auto c = NewClient(t);
    if (!c.ok()) {
      errors.Add(c.status());
    } else {
      auto body = (*c)->GetBlob(t.filesystem, name(attempted - 1));
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
  j["stopped_by_duration"] = attempted < o.ops;
  return Report(j, errors, done.load() == attempted && (attempted == o.ops || o.duration > 0));
}

int RunRename(const Target& t, const RenameOptions& o) {
  json j = {{"bench", "rename"},
            {"descendants", o.descendants},
            {"clients", o.clients},
            {"mode", t.flat ? "copy+delete per blob" : "dfs-rename"}};
  ErrorLog errors;
  const bool valid = !(o.descendants < 1 || o.descendants > 10'000'000 || o.clients < 1 ||
                       o.clients > 1024 || o.repeats < 1 || o.repeats > 100);
  if (!Ready(t, valid, "1 <= descendants <= 1e7, 1 <= clients <= 1024, 1 <= repeats <= 100",
             &errors)) {
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
    Status s;
    if (t.flat) {
      auto moved = FlatRename(t, from, to, o.clients, deadline);
      s = moved.status();
      if (moved.ok() && *moved != built->created) {
        s = Status(Code::kInternal, "moved " + std::to_string(*moved) + " of " +
                                        std::to_string(built->created) + " blobs");
      }
    } else {
      s = (*c)->Rename(t.filesystem, from, to);
    }
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
  json j = {{"bench", "list"},
            {"paths", o.paths},
            {"page_size", o.page_size},
            {"mode", t.flat ? "list-blobs" : "list-paths"}};
  ErrorLog errors;
  const bool valid = !(o.paths < 1 || o.paths > 10'000'000 || o.clients < 1 || o.clients > 1024 ||
                       o.repeats < 1 || o.repeats > 100 || o.page_size < 1 || o.page_size > 5000);
  if (!Ready(t, valid,
             "1 <= paths <= 1e7, 1 <= clients <= 1024, 1 <= repeats <= 100, "
             "1 <= page-size <= 5000",
             &errors)) {
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
      Status s;
      if (t.flat) {
        auto page = (*c)->ListBlobs(t.filesystem, dir + "/", cont, o.page_size);
        s = page.status();
        if (page.ok()) {
          seen += static_cast<int64_t>(page->names.size());
          cont = page->next_marker;
        }
      } else {
        auto page = (*c)->ListPaths(t.filesystem, dir, /*recursive=*/true, cont, o.page_size);
        s = page.status();
        if (page.ok()) {
          seen += static_cast<int64_t>(page->paths.size());
          cont = page->continuation;
        }
      }
      if (!s.ok()) {
        errors.Add(s);
        break;
      }
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

int RunSoak(const Target& t, const SoakOptions& o) {
  json j = {{"bench", "soak"},        {"clients", o.clients},
            {"duration", o.duration}, {"read_percent", o.read_percent},
            {"objects", o.objects},   {"size", o.size}};
  ErrorLog errors;
  const bool valid = !(o.clients < 1 || o.clients > 1024 || o.duration <= 0 || o.read_percent < 0 ||
                       o.read_percent > 100 || o.objects < 1 || o.objects > 1'000'000 ||
                       o.size < 0 || o.size > static_cast<int64_t>(kPatternSize) || o.max_ops < 1);
  if (!Ready(t, valid,
             "1 <= clients <= 1024, duration > 0, 0 <= read-percent <= 100, "
             "1 <= objects <= 1e6, 0 <= size <= 4 MiB, max-ops >= 1",
             &errors)) {
    return Report(j, errors, false);
  }
  const std::string prefix = RunPrefix("soak");
  const std::string_view data(Pattern().data(), static_cast<size_t>(o.size));
  auto name = [&](int64_t i) { return prefix + "/o" + std::to_string(i); };
  Deadline deadline(t.max_seconds);
  if (!SeedBlobs(t, o.objects, std::min(o.clients, 16), name, data, deadline, &errors)) {
    return Report(j, errors, false);
  }
  std::atomic<int64_t> issued{0}, reads{0}, writes{0};
  std::vector<std::vector<int64_t>> read_us(static_cast<size_t>(o.clients)),
      write_us(static_cast<size_t>(o.clients));
  const Deadline stop(std::min(o.duration, t.max_seconds));
  int64_t start = NowUs();
  RunParallel(o.clients, [&](int w) {
    auto c = NewClient(t);
    if (!c.ok()) return errors.Add(c.status());
    uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(w + 1);  // xorshift per client
    auto next_random = [&x] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x;
    };
    while (!stop.passed() && issued.fetch_add(1) < o.max_ops) {
      const int64_t key = static_cast<int64_t>(next_random() % static_cast<uint64_t>(o.objects));
      const bool read = static_cast<int>(next_random() % 100) < o.read_percent;
      int64_t t0 = NowUs();
      Status s;
      if (read) {
        auto body = (*c)->GetBlob(t.filesystem, name(key));
        s = body.status();
        if (body.ok() && *body != data) {
          s = Status(Code::kInternal, "read back different bytes from " + name(key));
        }
      } else {
        s = (*c)->PutBlob(t.filesystem, name(key), data);
      }
      const int64_t us = NowUs() - t0;
      if (!s.ok()) {
        errors.Add(s);
        continue;
      }
      (read ? read_us : write_us)[static_cast<size_t>(w)].push_back(us);
      (read ? reads : writes).fetch_add(1);
    }
  });
  double seconds = Seconds(start, NowUs());
  auto merged = [](std::vector<std::vector<int64_t>>& per) {
    std::vector<int64_t> all;
    for (auto& v : per) all.insert(all.end(), v.begin(), v.end());
    return all;
  };
  std::vector<int64_t> r_all = merged(read_us), w_all = merged(write_us);
  std::vector<int64_t> both = r_all;
  both.insert(both.end(), w_all.begin(), w_all.end());
  Percentiles pr = Summarize(std::move(r_all)), pw = Summarize(std::move(w_all)),
              pb = Summarize(std::move(both));
  const int64_t ops = reads.load() + writes.load();
  j["seconds"] = seconds;
  j["ops"] = ops;
  j["reads"] = reads.load();
  j["writes"] = writes.load();
  j["ops_s"] = seconds > 0 ? static_cast<double>(ops) / seconds : 0;
  j["mb_s"] = seconds > 0 ? static_cast<double>(ops * o.size) / seconds / 1e6 : 0;
  j["p50_ms"] = pb.p50_ms;
  j["p99_ms"] = pb.p99_ms;
  j["read_p50_ms"] = pr.p50_ms;
  j["read_p99_ms"] = pr.p99_ms;
  j["write_p50_ms"] = pw.p50_ms;
  j["write_p99_ms"] = pw.p99_ms;
  j["max_ms"] = pb.max_ms;
  return Report(j, errors, ops > 0);
}

int RunDrop(const Target& t) {
  json j = {{"bench", "drop"}, {"filesystem", t.filesystem}};
  ErrorLog errors;
  int64_t start = NowUs();
  auto c = NewClient(t);
  Status s = c.ok() ? (*c)->DeleteFilesystem(t.filesystem) : c.status();
  j["existed"] = s.code() != Code::kNotFound;
  if (s.code() != Code::kNotFound) errors.Add(s);  // absent already is what was asked
  j["seconds"] = Seconds(start, NowUs());
  return Report(j, errors, true);
}

}  // namespace tarn::bench
