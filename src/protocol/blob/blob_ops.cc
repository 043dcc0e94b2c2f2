// Blob API operations on blobs: put, copy, get, properties, delete, metadata, headers, leases,
// blocks.
#include <pugixml.hpp>

#include "client/http_connection.h"

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/temp_file.h"
#include "common/time_util.h"
#include "protocol/ops.h"
#include "protocol/xml_writer.h"

namespace tarn::protocol::blob {
namespace {

// Azure's limits: a Put Blob body up to 5000 MiB, a block up to 4000 MiB.
constexpr int64_t kMaxPutBlob = 5000LL << 20;
constexpr int64_t kMaxBlock = 4000LL << 20;

Status RequireLength(const Ctx& c, int64_t max) {
  if (!c.req.content_length && !c.req.chunked) {
    return Error(Reason::kMissingContentLength, "Content-Length is required.");
  }
  if (c.req.content_length && *c.req.content_length > max) {
    return Error(Reason::kRequestBodyTooLarge,
                 "The request body is too large and exceeds the maximum permissible limit (" +
                     std::to_string(max >> 20) + " MiB).");
  }
  return Status::Ok();
}

// Blob content headers: x-ms-blob-content-*, falling back to the request's own headers where
// Put Blob allows it.
StatusOr<lake::ContentHeaders> BlobHeaders(const Ctx& c, bool fallback) {
  TARN_ASSIGN_OR_RETURN(auto h, ParseContentHeaders(c, "x-ms-blob-"));
  lake::ContentHeaders out = h.value_or(lake::ContentHeaders{});
  if (fallback) {
    auto fill = [&](const char* name, std::string* field) {
      if (field->empty()) {
        if (const auto* v = c.Header(name)) *field = *v;
      }
    };
    fill("content-type", &out.content_type);
    fill("content-encoding", &out.content_encoding);
    fill("content-language", &out.content_language);
    fill("cache-control", &out.cache_control);
    fill("content-disposition", &out.content_disposition);
  }
  return out;
}

StatusOr<std::optional<std::string>> RequestMd5(const Ctx& c) {
  const std::string* v = c.Header("content-md5");
  if (!v || v->empty()) return std::optional<std::string>();
  auto d = Base64Decode(*v);
  if (!d || d->size() != 16) {
    return Error(Reason::kInvalidHeaderValue, "Content-MD5 is not a base64 MD5.");
  }
  return std::optional<std::string>(*d);
}

void AddWriteResult(const lake::Node& n, http::Headers* h) {
  h->emplace_back("ETag", QuoteEtag(n.etag));
  h->emplace_back("Last-Modified", FormatHttpDate(n.modified_us));
  h->emplace_back("x-ms-request-server-encrypted", "false");
}

Status ValidateBlockId(const std::string& id) {
  auto d = Base64Decode(id);
  if (!d || d->empty() || d->size() > 64) {
    return Error(Reason::kInvalidBlockId,
                 "The specified block ID is invalid. It must be base64 and at most 64 bytes.");
  }
  return Status::Ok();
}

// x-ms-access-tier of an upload or a copy: the file gets that tier as it is written.
Status SetTierAfterWrite(Ctx& c, const std::string& tier) {
  if (tier.empty()) return Status::Ok();
  return c.lake.SetAccessTier(c.account->name, c.fs, c.path, tier, lake::Access{}).status();
}

// The bytes of a read plan (a copy source's), piece by piece, as a request body would come.
class PlanSource final : public lake::ByteSource {
 public:
  explicit PlanSource(lake::ReadPlan& plan) : plan_(plan) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    while (piece_ < plan_.pieces.size()) {
      lake::ReadPlan::Piece& p = plan_.pieces[piece_];
      if (done_ == p.length) {
        ++piece_;
        done_ = 0;
        continue;
      }
      const size_t want = static_cast<size_t>(std::min<int64_t>(p.length - done_,
                                                                static_cast<int64_t>(n)));
      TARN_ASSIGN_OR_RETURN(size_t got, p.reader->ReadAt(p.offset + done_, buf, want));
      if (got == 0) return InternalError("a copy source's extent ended early");
      done_ += static_cast<int64_t>(got);
      return got;
    }
    return size_t{0};
  }
  std::optional<int64_t> SizeHint() const override { return plan_.length; }

 private:
  lake::ReadPlan& plan_;
  size_t piece_ = 0;
  int64_t done_ = 0;
};

// A copy source on another server (copy_sources), fetched before the write into an unlinked file
// under the scratch directory: its bytes, and the properties it answered with.
class RemoteSource final : public lake::ByteSource {
 public:
  explicit RemoteSource(TempFile file) : file(std::move(file)) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    TARN_ASSIGN_OR_RETURN(size_t got, file.ReadAt(at_, buf, n));
    at_ += static_cast<int64_t>(got);
    return got;
  }
  std::optional<int64_t> SizeHint() const override { return file.size(); }

  TempFile file;
  lake::ContentHeaders headers;
  lake::Metadata metadata;

 private:
  int64_t at_ = 0;
};

Status CannotVerify(const std::string& why) {
  return Error(Reason::kCannotVerifyCopySource,
               "Could not verify the copy source within the specified time: " + why);
}

// GET of x-ms-copy-source on the other server, with the credentials the request gives it: the
// SAS in its URL, or x-ms-copy-source-authorization; the source conditions (x-ms-source-if-*)
// go along as the source's own conditions. Redirects are not followed.
StatusOr<std::unique_ptr<RemoteSource>> FetchRemote(Ctx& c,
                                                    const std::optional<lake::ByteRange>& range,
                                                    int64_t max_bytes) {
  const SourceRef& src = *c.source;
  const size_t scheme = src.url.find("://");
  const size_t slash = src.url.find('/', scheme + 3);
  if (scheme == std::string::npos || slash == std::string::npos) {
    return Error(Reason::kInvalidHeaderValue, "x-ms-copy-source must be a URL of a blob.");
  }
  TARN_ASSIGN_OR_RETURN(client::Endpoint ep, client::ParseEndpoint(src.url.substr(0, slash)));
  client::ConnectionOptions opts;
  opts.tls = src.trust;
  opts.connect_timeout_ms = 10000;
  opts.io_timeout_ms = 60000;
  client::Request req;
  req.method = "GET";
  req.target = src.url.substr(slash);
  req.headers.emplace_back("x-ms-version", "2021-10-04");
  if (range) {
    req.headers.emplace_back("x-ms-range", "bytes=" + std::to_string(range->start) + "-" +
                                               (range->end ? std::to_string(*range->end) : ""));
  }
  if (const std::string* a = c.Header("x-ms-copy-source-authorization")) {
    req.headers.emplace_back("Authorization", *a);
  }
  for (auto [ours, theirs] : {std::pair{"x-ms-source-if-match", "If-Match"},
                              std::pair{"x-ms-source-if-none-match", "If-None-Match"},
                              std::pair{"x-ms-source-if-modified-since", "If-Modified-Since"},
                              std::pair{"x-ms-source-if-unmodified-since",
                                        "If-Unmodified-Since"}}) {
    if (const std::string* v = c.Header(ours)) req.headers.emplace_back(theirs, *v);
  }
  TARN_ASSIGN_OR_RETURN(TempFile spool, TempFile::Open(std::string(c.scratch_dir)));
  auto out = std::make_unique<RemoteSource>(std::move(spool));
  client::HttpClient http(ep, opts);
  auto r = http.Send(req, [&](std::string_view piece) -> Status {
    if (out->file.size() + static_cast<int64_t>(piece.size()) > max_bytes) {
      return Error(Reason::kRequestBodyTooLarge, "The copy source is larger than " +
                                                     std::to_string(max_bytes >> 20) +
                                                     " MiB, the most this copy takes.");
    }
    return out->file.Append(piece);
  });
  if (!r.ok()) {
    if (r.status().reason() == Reason::kRequestBodyTooLarge ||
        r.status().reason() == Reason::kDiskFull) {
      return r.status();
    }
    return CannotVerify("the source server did not answer (" + r.status().message() + ").");
  }
  if (r->status != 200 && r->status != 206) {
    const std::string* code = r->Header("x-ms-error-code");
    return CannotVerify("the source server answered " + std::to_string(r->status) +
                        (code ? " " + *code : std::string()) + ".");
  }
  auto header = [&](const char* name) {
    const std::string* v = r->Header(name);
    return v ? *v : std::string();
  };
  out->headers.content_type = header("content-type");
  out->headers.content_encoding = header("content-encoding");
  out->headers.content_language = header("content-language");
  out->headers.content_disposition = header("content-disposition");
  out->headers.cache_control = header("cache-control");
  for (const auto& [name, value] : r->headers) {
    if (name.size() > 10 && EqualsIgnoreCase(name.substr(0, 10), "x-ms-meta-")) {
      out->metadata[name.substr(10)] = value;
    }
  }
  return out;
}

// The copy source's bytes (a range of them, or all), read with the source conditions.
StatusOr<lake::ReadPlan> OpenSource(Ctx& c, const std::optional<lake::ByteRange>& range) {
  const SourceRef& src = *c.source;
  lake::Access read;
  TARN_ASSIGN_OR_RETURN(read.cond, ParseSourceConditions(c));
  return c.lake.OpenRead(src.account->name, src.fs, src.path, range, read);
}

}  // namespace

StatusOr<std::vector<lake::BlockRef>> ParseBlockList(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) {
    return Error(Reason::kInvalidXml, "The XML block list is not well formed.");
  }
  pugi::xml_node list = doc.child("BlockList");
  if (!list) return Error(Reason::kInvalidXml, "The XML body must be a BlockList.");
  std::vector<lake::BlockRef> blocks;
  for (pugi::xml_node b : list.children()) {
    lake::BlockRef r;
    std::string tag = b.name();
    if (tag == "Latest") {
      r.from = lake::BlockRef::From::kLatest;
    } else if (tag == "Committed") {
      r.from = lake::BlockRef::From::kCommitted;
    } else if (tag == "Uncommitted") {
      r.from = lake::BlockRef::From::kUncommitted;
    } else {
      return Error(Reason::kInvalidXml, "Unexpected element in BlockList: " + tag);
    }
    r.id = Trim(b.child_value());
    TARN_RETURN_IF_ERROR(ValidateBlockId(r.id));
    blocks.push_back(std::move(r));
    if (blocks.size() > 50000) {
      return Error(Reason::kInvalidBlockList, "A blob may have at most 50,000 blocks.");
    }
  }
  return blocks;
}

Status PutBlob(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireLength(c, kMaxPutBlob));
  const std::string* type = c.Header("x-ms-blob-type");
  if (!type) return Error(Reason::kMissingRequiredHeader, "x-ms-blob-type is required.");
  if (*type != "BlockBlob") {
    return Error(Reason::kInvalidHeaderValue,
                 "Only block blobs are supported on a hierarchical-namespace account.");
  }
  lake::PutOptions o;
  o.creator = Creator(c);
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  o.access = ParseAccess(c, cond);
  TARN_ASSIGN_OR_RETURN(o.headers, BlobHeaders(c, true));
  TARN_ASSIGN_OR_RETURN(o.metadata, ParseMetadataHeaders(c));
  // On an account with a hierarchical namespace a blob marked hdi_isfolder=true is a directory
  // (it is how Blob-only tools make one).
  for (auto it = o.metadata.begin(); it != o.metadata.end(); ++it) {
    if (!EqualsIgnoreCase(it->first, "hdi_isfolder")) continue;
    if (!EqualsIgnoreCase(Trim(it->second), "true")) break;
    if ((c.req.content_length && *c.req.content_length > 0) || c.req.chunked) {
      return Error(Reason::kInvalidHeaderValue,
                   "A directory (x-ms-meta-hdi_isfolder: true) has no content: send an empty "
                   "body.");
    }
    o.metadata.erase(it);
    lake::CreateOptions d;
    d.is_dir = true;
    d.creator = o.creator;
    d.access = o.access;
    d.metadata = std::move(o.metadata);
    TARN_ASSIGN_OR_RETURN(auto n, c.lake.CreatePath(c.account->name, c.fs, c.path, d));
    http::Headers h;
    AddWriteResult(n, &h);
    return c.Reply(201, std::move(h));
  }
  TARN_ASSIGN_OR_RETURN(o.expected_md5, RequestMd5(c));
  TARN_ASSIGN_OR_RETURN(const std::string tier, RequestedTier(c));
  BodySource body(c.req);
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.PutFile(c.account->name, c.fs, c.path, body, o));
  TARN_RETURN_IF_ERROR(SetTierAfterWrite(c, tier));
  http::Headers h;
  AddWriteResult(n, &h);
  if (!n.headers.content_md5.empty()) h.emplace_back("Content-MD5", Base64Encode(n.headers.content_md5));
  return c.Reply(201, std::move(h));
}

// Copy Blob, Copy Blob From URL (x-ms-requires-sync) and Put Blob From URL (x-ms-blob-type),
// synchronous, from this server: within the account the copy shares the source's extents; from
// another of its accounts the bytes are read and written again.
Status CopyBlob(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  // The source was parsed from x-ms-copy-source and authorized by the pipeline.
  const SourceRef& src = *c.source;
  const bool put_from_url = c.Header("x-ms-blob-type") != nullptr;
  if (const std::string* type = c.Header("x-ms-blob-type"); type && *type != "BlockBlob") {
    return Error(Reason::kInvalidHeaderValue,
                 "Only block blobs are supported on a hierarchical-namespace account.");
  }
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto src_cond, ParseSourceConditions(c));
  TARN_ASSIGN_OR_RETURN(auto meta, ParseMetadataHeaders(c));
  std::optional<lake::Metadata> m;
  if (!meta.empty()) m = meta;
  TARN_ASSIGN_OR_RETURN(const std::string tier, RequestedTier(c));
  lake::Node n;
  std::string copy_id;
  if (src.remote) {
    TARN_ASSIGN_OR_RETURN(auto body, FetchRemote(c, std::nullopt, kMaxPutBlob));
    lake::PutOptions o;
    o.creator = Creator(c);
    o.access = ParseAccess(c, cond);
    o.headers = body->headers;
    o.metadata = m ? *m : body->metadata;
    TARN_ASSIGN_OR_RETURN(n, c.lake.PutFile(c.account->name, c.fs, c.path, *body, o));
    copy_id = NewUuid();
  } else if (src.account == c.account) {
    TARN_ASSIGN_OR_RETURN(n, c.lake.CopyFile(c.account->name, src.fs, src.path, c.fs, c.path, m,
                                             src_cond, ParseAccess(c, cond), src.url));
    copy_id = n.copy["id"];
  } else {
    TARN_ASSIGN_OR_RETURN(lake::ReadPlan plan, OpenSource(c, std::nullopt));
    lake::PutOptions o;
    o.creator = Creator(c);
    o.access = ParseAccess(c, cond);
    o.headers = plan.node.headers;
    o.metadata = m ? *m : plan.node.metadata;
    PlanSource body(plan);
    TARN_ASSIGN_OR_RETURN(n, c.lake.PutFile(c.account->name, c.fs, c.path, body, o));
    copy_id = NewUuid();
  }
  TARN_RETURN_IF_ERROR(SetTierAfterWrite(c, tier));
  http::Headers h;
  AddWriteResult(n, &h);
  if (put_from_url) {
    if (!n.headers.content_md5.empty()) {
      h.emplace_back("Content-MD5", Base64Encode(n.headers.content_md5));
    }
    return c.Reply(201, std::move(h));
  }
  h.emplace_back("x-ms-copy-id", copy_id);
  h.emplace_back("x-ms-copy-status", "success");
  return c.Reply(202, std::move(h));
}

// Put Block From URL: a block staged from a range of the copy source (x-ms-source-range).
Status PutBlockFromUrl(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  auto id = c.Query("blockid");
  if (!id) return Error(Reason::kMissingRequiredQueryParameter, "blockid is required.");
  TARN_RETURN_IF_ERROR(ValidateBlockId(*id));
  std::optional<lake::ByteRange> range;
  if (const std::string* r = c.Header("x-ms-source-range")) {
    TARN_ASSIGN_OR_RETURN(range, ParseRangeValue(*r));
  }
  std::string got;
  if (c.source->remote) {
    TARN_ASSIGN_OR_RETURN(auto body, FetchRemote(c, range, kMaxBlock));
    TARN_RETURN_IF_ERROR(c.lake.StageBlock(c.account->name, c.fs, c.path, *id, *body,
                                           std::nullopt, LeaseId(c), &got));
  } else {
    TARN_ASSIGN_OR_RETURN(lake::ReadPlan plan, OpenSource(c, range));
    if (plan.length > kMaxBlock) {
      return Error(Reason::kRequestBodyTooLarge,
                   "A block is at most 4000 MiB: give x-ms-source-range.");
    }
    PlanSource body(plan);
    TARN_RETURN_IF_ERROR(c.lake.StageBlock(c.account->name, c.fs, c.path, *id, body,
                                           std::nullopt, LeaseId(c), &got));
  }
  http::Headers h;
  h.emplace_back("Content-MD5", Base64Encode(got));
  h.emplace_back("x-ms-request-server-encrypted", "false");
  return c.Reply(201, std::move(h));
}

Status GetBlob(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto range, ParseRange(c));
  TARN_ASSIGN_OR_RETURN(auto plan,
                        c.lake.OpenRead(c.account->name, c.fs, c.path, range, ParseAccess(c, cond)));
  http::Headers h = c.StdHeaders();
  AddNodeProperties(c, plan.node, &h);
  const std::string& md5 = plan.node.headers.content_md5;
  bool want_range_md5 = false;
  if (const auto* v = c.Header("x-ms-range-get-content-md5"); v && EqualsIgnoreCase(*v, "true")) {
    if (!range) {
      return Error(Reason::kInvalidHeaderValue,
                   "x-ms-range-get-content-md5 requires a range.");
    }
    if (plan.length > 4 * 1024 * 1024) {
      return Error(Reason::kOutOfRangeInput,
                   "x-ms-range-get-content-md5 is allowed only for ranges up to 4 MiB.");
    }
    want_range_md5 = true;
  }
  int status = 200;
  if (range) {
    status = 206;
    h.emplace_back("Content-Range", "bytes " + std::to_string(plan.start) + "-" +
                                        std::to_string(plan.start + plan.length - 1) + "/" +
                                        std::to_string(plan.node.length));
    if (!md5.empty()) h.emplace_back("x-ms-blob-content-md5", Base64Encode(md5));
  } else if (!md5.empty()) {
    h.emplace_back("Content-MD5", Base64Encode(md5));
  }
  if (want_range_md5) {
    std::string data;
    data.reserve(static_cast<size_t>(plan.length));
    for (auto& p : plan.pieces) {
      std::string chunk(static_cast<size_t>(p.length), '\0');
      TARN_ASSIGN_OR_RETURN(size_t n, p.reader->ReadAt(p.offset, chunk.data(), chunk.size()));
      if (static_cast<int64_t>(n) != p.length) return InternalError("short extent read");
      data += chunk;
    }
    h.emplace_back("Content-MD5", Base64Encode(Md5(data)));
    TARN_RETURN_IF_ERROR(c.w.Start(status, h, plan.length));
    return c.w.Write(data);
  }
  TARN_RETURN_IF_ERROR(c.w.Start(status, h, plan.length));
  return StreamPlan(c, plan);
}

Status GetBlobProperties(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.GetPath(c.account->name, c.fs, c.path, ParseAccess(c, cond)));
  http::Headers h = c.StdHeaders();
  AddNodeProperties(c, n, &h);
  if (!n.headers.content_md5.empty()) h.emplace_back("Content-MD5", Base64Encode(n.headers.content_md5));
  AddTierHeaders(n, &h);
  return c.w.Start(200, h, n.length);
}

Status GetBlobMetadata(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.GetPath(c.account->name, c.fs, c.path, ParseAccess(c, cond)));
  http::Headers h;
  h.emplace_back("ETag", QuoteEtag(n.etag));
  h.emplace_back("Last-Modified", FormatHttpDate(n.modified_us));
  lake::Metadata m = n.metadata;
  if (n.is_dir) m["hdi_isfolder"] = "true";
  AddMetadataHeaders(m, &h);
  return c.Reply(200, std::move(h));
}

Status DeleteBlob(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  // Under a delete retention policy the blob is kept, restorable, until its retention ends.
  const int64_t retain = RetentionMicros(c);
  http::Headers h;
  if (retain > 0) {
    TARN_ASSIGN_OR_RETURN(auto d, c.lake.SoftDelete(c.account->name, c.fs, c.path, false,
                                                    ParseAccess(c, cond), retain));
    h.emplace_back("x-ms-delete-type-permanent", "false");
    h.emplace_back("x-ms-deletion-id", std::to_string(d.id));
  } else {
    TARN_RETURN_IF_ERROR(
        c.lake.Delete(c.account->name, c.fs, c.path, false, ParseAccess(c, cond)));
    h.emplace_back("x-ms-delete-type-permanent", "true");
  }
  return c.Reply(202, std::move(h));
}

Status UndeleteBlob(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  // DFS's Path Undelete names the deletion: x-ms-undelete-source: <path>?deletionid=<id>.
  // Without it (Blob's Undelete Blob) the most recent deletion of the path comes back.
  std::optional<int64_t> id;
  if (const std::string* src = c.Header("x-ms-undelete-source")) {
    const size_t q = src->find('?');
    auto decoded = PercentDecode(std::string_view(*src).substr(0, q));
    auto path = decoded ? lake::NormalizePath(*decoded) : StatusOr<std::string>(std::string());
    int64_t n = 0;
    const std::string query = q == std::string::npos ? "" : src->substr(q + 1);
    if (!path.ok() || *path != c.path || !StartsWith(query, "deletionid=") ||
        !ParseInt64(query.substr(11), &n)) {
      return Error(Reason::kInvalidHeaderValue,
                   "x-ms-undelete-source must be the request's path and its deletion id: "
                   "<path>?deletionid=<id> (List Deleted Paths gives the id).");
    }
    id = n;
  }
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.Undelete(c.account->name, c.fs, c.path, id));
  http::Headers h;
  h.emplace_back("x-ms-resource-type", n.is_dir ? "directory" : "file");
  return c.Reply(200, std::move(h));
}

Status SetBlobMetadata(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto meta, ParseMetadataHeaders(c));
  meta.erase("hdi_isfolder");
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.SetProperties(c.account->name, c.fs, c.path, meta,
                                                     std::nullopt, ParseAccess(c, cond)));
  http::Headers h;
  AddWriteResult(n, &h);
  return c.Reply(200, std::move(h));
}

Status SetBlobHttpHeaders(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  // Set Blob Properties replaces every content header; those not sent are cleared.
  TARN_ASSIGN_OR_RETURN(auto headers, BlobHeaders(c, false));
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.SetProperties(c.account->name, c.fs, c.path, std::nullopt,
                                                     headers, ParseAccess(c, cond)));
  http::Headers h;
  AddWriteResult(n, &h);
  return c.Reply(200, std::move(h));
}

Status LeaseBlob(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto req, ParseLeaseRequest(c));
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto r, c.lake.LeasePath(c.account->name, c.fs, c.path, req, cond));
  return ReplyLease(c, req, r);
}

Status SetBlobTier(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(std::string tier, RequestedTier(c));
  if (tier.empty()) return Error(Reason::kMissingRequiredHeader, "x-ms-access-tier is required.");
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_RETURN_IF_ERROR(
      c.lake.SetAccessTier(c.account->name, c.fs, c.path, tier, ParseAccess(c, cond)).status());
  return c.Reply(200, {});
}

Status PutBlock(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireLength(c, kMaxBlock));
  auto id = c.Query("blockid");
  if (!id) return Error(Reason::kMissingRequiredQueryParameter, "blockid is required.");
  TARN_RETURN_IF_ERROR(ValidateBlockId(*id));
  TARN_ASSIGN_OR_RETURN(auto md5, RequestMd5(c));
  BodySource body(c.req);
  std::string got;
  TARN_RETURN_IF_ERROR(
      c.lake.StageBlock(c.account->name, c.fs, c.path, *id, body, md5, LeaseId(c), &got));
  http::Headers h;
  h.emplace_back("Content-MD5", Base64Encode(got));
  h.emplace_back("x-ms-request-server-encrypted", "false");
  return c.Reply(201, std::move(h));
}

Status PutBlockList(Ctx& c) {
  std::string body;
  TARN_RETURN_IF_ERROR(ReadSmallBody(c, 16 * 1024 * 1024, &body));
  TARN_ASSIGN_OR_RETURN(std::vector<lake::BlockRef> blocks, ParseBlockList(body));
  lake::PutOptions o;
  o.creator = Creator(c);
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  o.access = ParseAccess(c, cond);
  TARN_ASSIGN_OR_RETURN(o.headers, BlobHeaders(c, false));
  TARN_ASSIGN_OR_RETURN(o.metadata, ParseMetadataHeaders(c));
  TARN_ASSIGN_OR_RETURN(const std::string tier, RequestedTier(c));
  TARN_ASSIGN_OR_RETURN(auto n,
                        c.lake.CommitBlockList(c.account->name, c.fs, c.path, blocks, o));
  TARN_RETURN_IF_ERROR(SetTierAfterWrite(c, tier));
  http::Headers h;
  AddWriteResult(n, &h);
  return c.Reply(201, std::move(h));
}

Status GetBlockList(Ctx& c) {
  std::string type = ToLower(c.Query("blocklisttype").value_or("committed"));
  if (type != "committed" && type != "uncommitted" && type != "all") {
    return Error(Reason::kInvalidQueryParameterValue,
                 "blocklisttype must be committed, uncommitted or all.");
  }
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto bl, c.lake.GetBlockList(c.account->name, c.fs, c.path,
                                                     ParseAccess(c, cond)));
  XmlWriter x;
  x.Open("BlockList");
  auto emit = [&](const char* tag, const std::vector<lake::BlockInfo>& v) {
    x.Open(tag);
    for (const auto& b : v) {
      x.Open("Block").Leaf("Name", b.id).Leaf("Size", std::to_string(b.size)).Close("Block");
    }
    x.Close(tag);
  };
  if (type != "uncommitted") emit("CommittedBlocks", bl.committed);
  if (type != "committed") emit("UncommittedBlocks", bl.uncommitted);
  x.Close("BlockList");
  http::Headers h;
  if (bl.node) {
    h.emplace_back("ETag", QuoteEtag(bl.node->etag));
    h.emplace_back("Last-Modified", FormatHttpDate(bl.node->modified_us));
    h.emplace_back("x-ms-blob-content-length", std::to_string(bl.node->length));
  }
  return c.Reply(200, std::move(h), x.str(), "application/xml");
}

}  // namespace tarn::protocol::blob
