// Blob API container operations, List Blobs and List Deleted Paths.
#include <algorithm>

#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "protocol/access_policy.h"
#include "protocol/ops.h"
#include "protocol/xml_writer.h"

namespace tarn::protocol::blob {
namespace {

StatusOr<std::string> PublicAccess(const Ctx& c) {
  const std::string* v = c.Header("x-ms-blob-public-access");
  if (!v || v->empty()) return std::string();
  if (*v == "container" || *v == "blob") return *v;
  return Error(Reason::kInvalidHeaderValue, "x-ms-blob-public-access must be container or blob.");
}

void AddContainerHeaders(const lake::Filesystem& fs, http::Headers* h) {
  h->emplace_back("ETag", QuoteEtag(fs.etag));
  h->emplace_back("Last-Modified", FormatHttpDate(fs.modified_us));
}

// The account's URL as the client addressed it: https://<account>.blob.<suffix>/ for a virtual
// host, http://<host>/<account>/ path-style.
std::string ServiceEndpoint(const Ctx& c) {
  const std::string* host = c.Header("host");
  return std::string(c.req.secure ? "https://" : "http://") +
         (host ? *host : std::string("localhost")) + "/" +
         (c.virtual_host ? "" : c.account->name + "/");
}

void LeaseXml(XmlWriter& x, const meta::Lease& l) {
  http::Headers h;
  AddLeaseHeaders(l, &h);
  for (const auto& [k, v] : h) {
    if (k == "x-ms-lease-status") x.Leaf("LeaseStatus", v);
    if (k == "x-ms-lease-state") x.Leaf("LeaseState", v);
    if (k == "x-ms-lease-duration") x.Leaf("LeaseDuration", v);
  }
}

}  // namespace

Status ListContainers(Ctx& c) {
  std::string prefix = c.Query("prefix").value_or("");
  std::string marker = c.Query("marker").value_or("");
  TARN_ASSIGN_OR_RETURN(int64_t max, ParseIntQuery(c, "maxresults", 5000));
  if (max < 1 || max > 5000) {
    return Error(Reason::kOutOfRangeInput, "maxresults must be between 1 and 5000.");
  }
  const std::string include = c.Query("include").value_or("");
  const bool with_meta = include.find("metadata") != std::string::npos;
  TARN_ASSIGN_OR_RETURN(auto page, c.lake.ListFilesystems(c.account->name, prefix, marker,
                                                          static_cast<int>(max)));
  // include=deleted: the soft-deleted containers whose names fall in this page's range, each
  // after the live one of its name, if any.
  struct Entry {
    const lake::Filesystem* fs;
    const lake::DeletedFilesystem* deleted;
  };
  std::vector<lake::DeletedFilesystem> deleted;
  if (include.find("deleted") != std::string::npos) {
    TARN_ASSIGN_OR_RETURN(deleted, c.lake.ListDeletedFilesystems(c.account->name, prefix));
  }
  std::vector<Entry> entries;
  for (const auto& fs : page.items) entries.push_back({&fs, nullptr});
  for (const auto& d : deleted) {
    if (d.fs.name <= marker && !marker.empty()) continue;
    if (!page.next_marker.empty() && d.fs.name > page.next_marker) continue;
    entries.push_back({&d.fs, &d});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.fs->name < b.fs->name;
  });
  const int64_t now = NowMicros();
  XmlWriter x;
  x.OpenWithAttrs("EnumerationResults", {{"ServiceEndpoint", ServiceEndpoint(c)}});
  if (!prefix.empty()) x.Leaf("Prefix", prefix);
  if (!marker.empty()) x.Leaf("Marker", marker);
  if (c.Query("maxresults")) x.Leaf("MaxResults", std::to_string(max));
  x.Open("Containers");
  for (const Entry& e : entries) {
    const lake::Filesystem& fs = *e.fs;
    x.Open("Container").Leaf("Name", fs.name);
    if (e.deleted) x.Leaf("Deleted", "true").Leaf("Version", e.deleted->version);
    x.Open("Properties");
    x.Leaf("Last-Modified", FormatHttpDate(fs.modified_us));
    x.Leaf("Etag", QuoteEtag(fs.etag));
    LeaseXml(x, fs.lease);
    if (!fs.public_access.empty()) x.Leaf("PublicAccess", fs.public_access);
    x.Leaf("HasImmutabilityPolicy", "false").Leaf("HasLegalHold", "false");
    if (e.deleted) {
      const int64_t left = std::max<int64_t>(0, e.deleted->expires_us - now);
      x.Leaf("DeletedTime", FormatHttpDate(e.deleted->deleted_us));
      x.Leaf("RemainingRetentionDays", std::to_string((left + 86400000000LL - 1) / 86400000000LL));
    }
    x.Close("Properties");
    if (with_meta) {
      x.Open("Metadata");
      for (const auto& [k, v] : fs.metadata) x.Leaf(k, v);
      x.Close("Metadata");
    }
    x.Close("Container");
  }
  x.Close("Containers");
  x.Leaf("NextMarker", page.next_marker);
  x.Close("EnumerationResults");
  return c.Reply(200, {}, x.str(), "application/xml");
}

Status CreateContainer(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  TARN_ASSIGN_OR_RETURN(auto meta, ParseMetadataHeaders(c));
  TARN_ASSIGN_OR_RETURN(std::string access, PublicAccess(c));
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.CreateFilesystem(c.account->name, c.fs, meta, access));
  http::Headers h;
  AddContainerHeaders(fs, &h);
  return c.Reply(201, std::move(h));
}

Status GetContainerProperties(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.GetFilesystem(c.account->name, c.fs));
  if (auto id = LeaseId(c)) {
    lake::LeaseView v = lake::ViewLease(fs.lease, NowMillis());
    if (v.state != meta::Lease::State::kLeased && v.state != meta::Lease::State::kBreaking) {
      return Error(Reason::kLeaseNotPresent, "There is currently no lease on the container.");
    }
    if (!EqualsIgnoreCase(*id, fs.lease.id)) {
      return Error(Reason::kLeaseIdMismatchWithContainerOperation,
                   "The lease ID specified did not match the lease ID for the container.");
    }
  }
  http::Headers h;
  AddContainerHeaders(fs, &h);
  AddMetadataHeaders(fs.metadata, &h);
  AddLeaseHeaders(fs.lease, &h);
  if (!fs.public_access.empty()) h.emplace_back("x-ms-blob-public-access", fs.public_access);
  h.emplace_back("x-ms-has-immutability-policy", "false");
  h.emplace_back("x-ms-has-legal-hold", "false");
  h.emplace_back("x-ms-default-encryption-scope", "$account-encryption-key");
  h.emplace_back("x-ms-deny-encryption-scope-override", "false");
  h.emplace_back("x-ms-namespace-enabled", "true");
  return c.Reply(200, std::move(h));
}

Status DeleteContainer(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  if (cond.if_match || cond.if_none_match) {
    return Error(Reason::kInvalidHeaderValue,
                 "If-Match and If-None-Match are not supported when deleting a container.");
  }
  TARN_RETURN_IF_ERROR(DeleteFilesystemAsConfigured(c, ParseAccess(c, cond)));
  return c.Reply(202, {});
}

// Restore Container: a soft-deleted container back under its name (x-ms-deleted-container-name,
// which is the URL's container, and x-ms-deleted-container-version).
Status UndeleteContainer(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  const std::string* name = c.Header("x-ms-deleted-container-name");
  const std::string* version = c.Header("x-ms-deleted-container-version");
  if (!name || !version) {
    return Error(Reason::kMissingRequiredHeader,
                 "Restore Container needs x-ms-deleted-container-name and "
                 "x-ms-deleted-container-version (List Containers with include=deleted gives "
                 "them).");
  }
  if (*name != c.fs) {
    return Error(Reason::kInvalidHeaderValue,
                 "A deleted container comes back under its own name: send the request to the "
                 "URL of '" + *name + "'.");
  }
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.RestoreFilesystem(c.account->name, c.fs, *version));
  http::Headers h;
  AddContainerHeaders(fs, &h);
  return c.Reply(201, std::move(h));
}

Status SetContainerMetadata(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto meta, ParseMetadataHeaders(c));
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.SetFilesystemMetadata(c.account->name, c.fs, meta,
                                                               ParseAccess(c, cond)));
  http::Headers h;
  AddContainerHeaders(fs, &h);
  return c.Reply(200, std::move(h));
}

Status GetContainerAcl(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.GetFilesystem(c.account->name, c.fs));
  http::Headers h;
  AddContainerHeaders(fs, &h);
  if (!fs.public_access.empty()) h.emplace_back("x-ms-blob-public-access", fs.public_access);
  std::string body = fs.signed_identifiers;
  if (body.empty()) {
    XmlWriter x;
    x.Leaf("SignedIdentifiers", "");
    body = x.str();
  }
  return c.Reply(200, std::move(h), body, "application/xml");
}

Status SetContainerAcl(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(std::string access, PublicAccess(c));
  std::string body;
  TARN_RETURN_IF_ERROR(ReadSmallBody(c, 64 * 1024, &body));
  // Stored access policies: SAS tokens that name one (si=) are checked against them as they are
  // on every request, so replacing or removing one changes those tokens at once.
  TARN_ASSIGN_OR_RETURN(std::vector<AccessPolicy> policies, ParseSignedIdentifiers(body));
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.SetFilesystemAcl(c.account->name, c.fs, access,
                                                         FormatSignedIdentifiers(policies),
                                                         ParseAccess(c, cond)));
  http::Headers h;
  AddContainerHeaders(fs, &h);
  return c.Reply(200, std::move(h));
}

Status LeaseContainer(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto req, ParseLeaseRequest(c));
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto r, c.lake.LeaseFilesystem(c.account->name, c.fs, req, cond));
  return ReplyLease(c, req, r);
}

namespace {

// A container listing's head: <EnumerationResults> and the parameters it answers.
void OpenBlobListing(const Ctx& c, XmlWriter& x, const std::string& prefix,
                     const std::string& marker, int64_t max) {
  x.OpenWithAttrs("EnumerationResults",
                  {{"ServiceEndpoint", ServiceEndpoint(c)}, {"ContainerName", c.fs}});
  if (!prefix.empty()) x.Leaf("Prefix", prefix);
  if (!marker.empty()) x.Leaf("Marker", marker);
  if (c.Query("maxresults")) x.Leaf("MaxResults", std::to_string(max));
}

// List Deleted Paths (List Blobs with showonly=deleted): the soft-deleted paths, with their
// deletion ids and the days they are kept for.
Status ListDeletedPaths(Ctx& c, const std::string& prefix, const std::string& marker,
                        int64_t max) {
  TARN_ASSIGN_OR_RETURN(auto page, c.lake.ListDeleted(c.account->name, c.fs, prefix, marker,
                                                      static_cast<int>(max)));
  const int64_t now = NowMicros();
  XmlWriter x;
  OpenBlobListing(c, x, prefix, marker, max);
  x.Open("Blobs");
  for (const auto& d : page.items) {
    const int64_t left_us = std::max<int64_t>(0, d.expires_us - now);
    x.Open("Blob").Leaf("Name", d.path).Leaf("Deleted", "true");
    x.Leaf("DeletionId", std::to_string(d.id)).Open("Properties");
    x.Leaf("BlobType", "BlockBlob");
    x.Leaf("DeletedTime", FormatHttpDate(d.deleted_us));
    x.Leaf("RemainingRetentionDays", std::to_string((left_us + 86399999999LL) / 86400000000LL));
    x.Leaf("ResourceType", d.is_dir ? "directory" : "file");
    x.Close("Properties").Close("Blob");
  }
  x.Close("Blobs");
  x.Leaf("NextMarker", page.next_marker);
  x.Close("EnumerationResults");
  return c.Reply(200, {}, x.str(), "application/xml");
}

}  // namespace

Status ListBlobs(Ctx& c) {
  std::string prefix = c.Query("prefix").value_or("");
  std::string marker = c.Query("marker").value_or("");
  std::string delimiter = c.Query("delimiter").value_or("");
  TARN_ASSIGN_OR_RETURN(int64_t max, ParseIntQuery(c, "maxresults", 5000));
  if (max < 1 || max > 5000) {
    return Error(Reason::kOutOfRangeInput, "maxresults must be between 1 and 5000.");
  }
  if (auto only = c.Query("showonly")) {
    if (*only != "deleted") {
      return Error(Reason::kInvalidQueryParameterValue, "showonly must be deleted.");
    }
    return ListDeletedPaths(c, prefix, marker, max);
  }
  std::string include = c.Query("include").value_or("");
  bool with_meta = include.find("metadata") != std::string::npos;
  TARN_ASSIGN_OR_RETURN(auto page, c.lake.ListBlobs(c.account->name, c.fs, prefix, delimiter,
                                                    marker, static_cast<int>(max)));
  XmlWriter x;
  OpenBlobListing(c, x, prefix, marker, max);
  if (!delimiter.empty()) x.Leaf("Delimiter", delimiter);
  x.Open("Blobs");
  size_t pi = 0;
  auto emit_prefixes_before = [&](const std::string& name) {
    while (pi < page.prefixes.size() && page.prefixes[pi] < name) {
      x.Open("BlobPrefix").Leaf("Name", page.prefixes[pi++]).Close("BlobPrefix");
    }
  };
  for (const auto& b : page.blobs) {
    emit_prefixes_before(b.path);
    const lake::Node& n = b.node;
    x.Open("Blob").Leaf("Name", b.path).Open("Properties");
    x.Leaf("Creation-Time", FormatHttpDate(n.created_us));
    x.Leaf("Last-Modified", FormatHttpDate(n.modified_us));
    x.Leaf("Etag", n.etag);
    x.Leaf("Content-Length", std::to_string(n.length));
    x.Leaf("Content-Type", n.is_dir ? "" : (n.headers.content_type.empty()
                                                  ? "application/octet-stream"
                                                  : n.headers.content_type));
    x.Leaf("Content-Encoding", n.headers.content_encoding);
    x.Leaf("Content-Language", n.headers.content_language);
    x.Leaf("Content-MD5", n.headers.content_md5.empty() ? "" : Base64Encode(n.headers.content_md5));
    x.Leaf("Cache-Control", n.headers.cache_control);
    x.Leaf("Content-Disposition", n.headers.content_disposition);
    x.Leaf("BlobType", "BlockBlob");
    x.Leaf("AccessTier", n.access_tier.empty() ? "Hot" : n.access_tier);
    if (n.access_tier.empty()) {
      x.Leaf("AccessTierInferred", "true");
    } else {
      x.Leaf("AccessTierChangeTime", FormatHttpDate(n.tier_changed_us));
    }
    LeaseXml(x, n.lease);
    x.Leaf("ServerEncrypted", "false");
    x.Leaf("ResourceType", n.is_dir ? "directory" : "file");
    x.Close("Properties");
    if (with_meta) {
      x.Open("Metadata");
      for (const auto& [k, v] : n.metadata) x.Leaf(k, v);
      if (n.is_dir) x.Leaf("hdi_isfolder", "true");
      x.Close("Metadata");
    }
    x.Close("Blob");
  }
  while (pi < page.prefixes.size()) {
    x.Open("BlobPrefix").Leaf("Name", page.prefixes[pi++]).Close("BlobPrefix");
  }
  x.Close("Blobs");
  x.Leaf("NextMarker", page.next_marker);
  x.Close("EnumerationResults");
  return c.Reply(200, {}, x.str(), "application/xml");
}

}  // namespace tarn::protocol::blob
