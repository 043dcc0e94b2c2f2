#include "catalog/glob.h"

#include <string_view>

namespace tarn::catalog {
namespace {

bool IsWild(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// Matches one segment against a segment pattern (no '/').
bool MatchSegment(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star_p = std::string_view::npos, star_i = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star_p = p++;
      star_i = i;
      continue;
    }
    if (p < pat.size() && pat[p] == '[') {
      size_t close = pat.find(']', p + 1);
      if (close == std::string_view::npos) return false;  // Parse refuses such patterns
      bool negate = p + 1 < close && (pat[p + 1] == '!' || pat[p + 1] == '^');
      bool hit = false;
      for (size_t k = p + 1 + (negate ? 1 : 0); k < close; ++k) {
        if (k + 2 < close && pat[k + 1] == '-') {
          hit = hit || (s[i] >= pat[k] && s[i] <= pat[k + 2]);
          k += 2;
        } else {
          hit = hit || s[i] == pat[k];
        }
      }
      if (hit != negate) {
        p = close + 1;
        ++i;
        continue;
      }
    } else if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p;
      ++i;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    i = ++star_i;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

// failed[pi * (segs + 1) + si] remembers the (pattern, path) positions already known not to
// match, so that several '**' cost O(pattern x path) rather than exponential time.
bool MatchFrom(const std::vector<std::string>& pat, size_t pi,
               const std::vector<std::string_view>& segs, size_t si, std::vector<bool>& failed) {
  if (pi == pat.size()) return si == segs.size();
  const size_t key = pi * (segs.size() + 1) + si;
  if (failed[key]) return false;
  bool ok = false;
  if (pat[pi] == "**") {
    for (size_t k = si; k <= segs.size() && !ok; ++k) ok = MatchFrom(pat, pi + 1, segs, k, failed);
  } else {
    ok = si < segs.size() && MatchSegment(pat[pi], segs[si]) &&
         MatchFrom(pat, pi + 1, segs, si + 1, failed);
  }
  if (!ok) failed[key] = true;
  return ok;
}

}  // namespace

StatusOr<Glob> Glob::Parse(const std::string& pattern) {
  auto bad = [&](const std::string& why) {
    return Error(Reason::kInvalidPaths, "invalid path pattern '" + pattern + "': " + why);
  };
  std::string_view p = pattern;
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p.empty()) return bad("it is empty (use '**' for every file)");
  Glob g;
  g.pattern_ = std::string(p);
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    std::string_view seg = p.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (seg.empty()) return bad("it has an empty segment ('//')");
    if (seg == "." || seg == "..") return bad("'.' and '..' segments are not allowed");
    // Every class must be closed, not only the first ("a[x]*[" once read past the pattern).
    for (size_t open = seg.find('['); open != std::string_view::npos;
         open = seg.find('[', open)) {
      size_t close = seg.find(']', open + 1);
      if (close == std::string_view::npos) return bad("'[' without a closing ']'");
      open = close + 1;
    }
    if (seg.find("**") != std::string_view::npos && seg != "**") {
      return bad("'**' must be a whole segment, as in 'a/**/b.csv'");
    }
    g.segments_.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  size_t literal = 0;
  while (literal < g.segments_.size() && !IsWild(g.segments_[literal])) ++literal;
  g.wild_ = literal < g.segments_.size();
  // The directory part of the literal prefix: all literal segments but the last matching one.
  size_t base_n = g.wild_ ? literal : g.segments_.size();
  for (size_t i = 0; i < base_n; ++i) g.base_ += (i ? "/" : "") + g.segments_[i];
  if (g.wild_) {
    g.recursive_ = g.segments_.size() - literal > 1 || g.segments_[literal] == "**";
  } else {
    g.recursive_ = true;  // a directory name means everything under it
  }
  return g;
}

bool Glob::Matches(const std::string& path) const {
  std::vector<std::string_view> segs;
  std::string_view p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    segs.push_back(p.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (!wild_) {
    // The named file itself, or anything under the named directory.
    return path == pattern_ || path.compare(0, pattern_.size() + 1, pattern_ + "/") == 0;
  }
  std::vector<bool> failed((segments_.size() + 1) * (segs.size() + 1), false);
  return MatchFrom(segments_, 0, segs, 0, failed);
}

}  // namespace tarn::catalog
