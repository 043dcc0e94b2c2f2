// Listing: DFS List Paths (recursive or one level) and Blob List Blobs (flat or by delimiter).
//
// Recursive listings walk the tree depth-first, children in byte order of name. A continuation
// token is the path of the last entry returned (base64 so it survives any client's encoding);
// resuming re-descends that path and carries on after it. Nothing is materialised beyond one
// page, so listing 100,000 paths costs one page of memory at a time.
#include <algorithm>

#include "common/encoding.h"
#include "lake/lake_internal.h"
#include "lake/lake_service.h"

namespace tarn::lake {

using namespace internal;  // NOLINT
using meta::ReadTxn;

namespace {

struct Frame {
  Node dir;
  std::string path;   // path of dir, relative to the filesystem root
  std::string after;  // resume after this child name
  std::string prefix;  // only children whose names start with this
  // Children fetched and not walked yet: a directory of many subdirectories is read once per
  // batch, not once per subdirectory it descends into.
  std::vector<Node> kids{};
  size_t next = 0;
};

// Depth-first walk from a set of frames. `emit` returns false to stop. Children that are
// directories are descended right after they are emitted.
Status Walk(ReadTxn& t, std::vector<Frame>& frames, int budget,
            const std::function<bool(const std::string&, const Node&)>& emit) {
  while (!frames.empty()) {
    Frame& top = frames.back();
    if (top.next >= top.kids.size()) {
      int batch = std::clamp(budget + 1, 16, 1000);
      TARN_ASSIGN_OR_RETURN(top.kids, t.ListChildren(top.dir.id, top.prefix, top.after, batch));
      top.next = 0;
      if (top.kids.empty()) {
        frames.pop_back();
        continue;
      }
    }
    while (top.next < top.kids.size()) {
      const Node& k = top.kids[top.next++];
      std::string p = JoinPath(top.path, k.name);
      top.after = k.name;
      if (!emit(p, k)) return Status::Ok();
      --budget;
      if (k.is_dir) {
        Frame f{k, p, "", ""};
        frames.push_back(std::move(f));  // `top` and `k` are not used after this
        break;  // the new frame is walked first; this one resumes after k
      }
    }
  }
  return Status::Ok();
}

// Frames that resume a walk rooted at `base` (path base_path) right after `last` (a path
// relative to the filesystem root, inside base). A vanished component resumes at its place
// in name order, so concurrent deletes do not break a listing.
StatusOr<std::vector<Frame>> ResumeFrames(ReadTxn& t, const Filesystem& fs, const Node& base,
                                          const std::string& base_path, const std::string& last,
                                          const std::string& base_prefix) {
  std::vector<Frame> frames;
  frames.push_back(Frame{base, base_path, "", base_prefix});
  if (last.empty()) return frames;
  std::string rel = base_path.empty() ? last : last.substr(base_path.size() + 1);
  auto parts = Components(rel);
  for (size_t i = 0; i < parts.size(); ++i) {
    Frame& top = frames.back();
    top.after = parts[i];
    TARN_ASSIGN_OR_RETURN(auto child, t.Lookup(fs.id, top.dir.id, parts[i]));
    if (!child || !child->is_dir) break;
    // Descend: the next component resumes inside it, or, when this directory was the last
    // entry returned, its children come next.
    frames.push_back(Frame{*child, JoinPath(top.path, parts[i]), "", ""});
  }
  return frames;
}

bool InsideOrEqual(const std::string& base, const std::string& p) {
  return base.empty() || p == base || (p.size() > base.size() && p.compare(0, base.size(), base) == 0 &&
                                       p[base.size()] == '/');
}

}  // namespace

StatusOr<ListPathsPage> LakeService::ListPaths(const std::string& account,
                                               const std::string& fs_name,
                                               const std::string& directory, bool recursive,
                                               const std::string& continuation,
                                               int max_results) {
  ListPathsPage page;
  std::string last;
  if (!continuation.empty()) {
    auto d = Base64Decode(continuation);
    if (!d) return Error(Reason::kInvalidQueryParameterValue, "The continuation token is invalid.");
    last = *d;
    if (!InsideOrEqual(directory, last) || last == directory) {
      return Error(Reason::kInvalidQueryParameterValue, "The continuation token is invalid.");
    }
  }
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(auto base, Resolve(t, fs, directory));
    if (!base) return Error(Reason::kPathNotFound, "The specified path does not exist.");
    if (!base->is_dir) {
      page.entries.push_back(PathEntry{directory, *base});
      return Status::Ok();
    }
    std::vector<Frame> frames;
    if (recursive) {
      TARN_ASSIGN_OR_RETURN(frames, ResumeFrames(t, fs, *base, directory, last, ""));
    } else {
      std::string after = last.empty() ? "" : Components(last).back();
      frames.push_back(Frame{*base, directory, after, ""});
    }
    int remaining = max_results;
    auto emit = [&](const std::string& p, const Node& n) {
      if (remaining == 0) {
        page.continuation = Base64Encode(page.entries.back().path);
        return false;
      }
      page.entries.push_back(PathEntry{p, n});
      --remaining;
      return true;
    };
    if (recursive) {
      return Walk(t, frames, max_results, emit);
    }
    TARN_ASSIGN_OR_RETURN(auto kids,
                          t.ListChildren(base->id, "", frames[0].after, max_results + 1));
    for (auto& k : kids) {
      if (!emit(JoinPath(directory, k.name), k)) break;
    }
    return Status::Ok();
  }));
  return page;
}

StatusOr<ListBlobsPage> LakeService::ListBlobs(const std::string& account,
                                               const std::string& fs_name,
                                               const std::string& prefix,
                                               const std::string& delimiter,
                                               const std::string& marker_in,
                                               int max_results) {
  ListBlobsPage page;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    // The directory that holds every match: the prefix up to its last '/'.
    size_t slash = prefix.rfind('/');
    std::string dir_path = slash == std::string::npos ? "" : prefix.substr(0, slash);
    std::string name_prefix = slash == std::string::npos ? prefix : prefix.substr(slash + 1);
    // Markers come from clients: one naming the directory itself sorts before everything in it.
    const std::string marker = marker_in == dir_path ? std::string() : marker_in;
    TARN_ASSIGN_OR_RETURN(auto dir, Resolve(t, fs, dir_path));
    if (!dir || !dir->is_dir) return Status::Ok();
    int remaining = max_results;
    std::string last_emitted;
    auto emit_blob = [&](const std::string& p, const Node& n) {
      if (remaining == 0) {
        page.next_marker = last_emitted;
        return false;
      }
      page.blobs.push_back(PathEntry{p, n});
      last_emitted = p;
      --remaining;
      return true;
    };
    if (delimiter == "/") {
      std::string after;
      if (!marker.empty()) {
        if (!InsideOrEqual(dir_path, marker)) return Status::Ok();
        std::string rel = dir_path.empty() ? marker : marker.substr(dir_path.size() + 1);
        auto parts = Components(rel);  // empty for a marker of "dir/" itself
        if (!parts.empty()) after = parts.front();
      }
      TARN_ASSIGN_OR_RETURN(auto kids, t.ListChildren(dir->id, name_prefix, after, max_results + 1));
      for (auto& k : kids) {
        std::string p = JoinPath(dir_path, k.name);
        if (remaining == 0) {
          page.next_marker = last_emitted;
          break;
        }
        if (k.is_dir) {
          page.prefixes.push_back(p + "/");
        } else {
          page.blobs.push_back(PathEntry{p, k});
        }
        last_emitted = p;
        --remaining;
      }
      return Status::Ok();
    }
    // Flat listing (any other delimiter is applied to the flat order).
    std::vector<Frame> frames;
    if (!marker.empty()) {
      if (!InsideOrEqual(dir_path, marker)) return Status::Ok();
      TARN_ASSIGN_OR_RETURN(frames, ResumeFrames(t, fs, *dir, dir_path, marker, name_prefix));
    } else {
      frames.push_back(Frame{*dir, dir_path, "", name_prefix});
    }
    std::string last_prefix;
    auto emit = [&](const std::string& p, const Node& n) {
      if (!delimiter.empty()) {
        size_t d = p.find(delimiter, prefix.size());
        if (d != std::string::npos) {
          std::string pre = p.substr(0, d + delimiter.size());
          if (pre == last_prefix) return true;
          if (remaining == 0) {
            page.next_marker = last_emitted;
            return false;
          }
          last_prefix = pre;
          page.prefixes.push_back(pre);
          last_emitted = p;
          --remaining;
          return true;
        }
      }
      return emit_blob(p, n);
    };
    return Walk(t, frames, max_results, emit);
  }));
  return page;
}

}  // namespace tarn::lake
