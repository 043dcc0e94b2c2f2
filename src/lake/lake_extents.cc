// The extent writer: a request body becomes one extent (inline in the namespace store when
// small, else in the extent store, fsynced), hashed on the way, and is recorded or discarded
// with the transaction that references it.
#include "lake/lake_service.h"

#include <algorithm>
#include <cstring>

#include "common/crypto.h"
#include "lake/lake_internal.h"

namespace tarn::lake {

using meta::ExtentRecord;
using meta::WriteTxn;
using namespace internal;  // NOLINT: this file is the implementation of internal's users

namespace {

Status Md5Mismatch() {
  return Error(Reason::kMd5Mismatch,
               "The MD5 value specified in the request did not match the MD5 value calculated "
               "by the server.");
}

}  // namespace

StatusOr<std::optional<LakeService::WrittenExtent>> LakeService::WriteExtent(
    ByteSource& body, const std::optional<std::string>& md5, extent::Hashing hashing) {
  // New data is refused before the disk is too full for metadata to commit.
  if (disk_) TARN_RETURN_IF_ERROR(disk_->AdmitData(body.SizeHint()));
  if (md5) hashing = extent::Hashing::kMd5;
  // The first inline_limit_ + 1 bytes go to a buffer of that size, not to a 1 MiB chunk: most
  // bodies are small, and a large allocation per request is an mmap, page faults and a munmap.
  // A body of known, smaller length gets a buffer of its own length (plus one byte, which shows
  // that it really ended): freeing a chunk of 64 KiB or more makes glibc consolidate its free
  // lists, which perf showed costing small writes several percent of tarnd's CPU.
  size_t head_cap = inline_limit_ + 1;
  if (auto hint = body.SizeHint();
      hint && *hint >= 0 && static_cast<size_t>(*hint) < inline_limit_) {
    head_cap = static_cast<size_t>(*hint) + 1;
  }
  // Read into the string an inline extent keeps, so that its bytes are not copied again.
  std::string head(head_cap, '\0');
  size_t head_len = 0;
  bool ended = false;
  while (head_len < head_cap) {
    TARN_ASSIGN_OR_RETURN(size_t n, body.Read(head.data() + head_len, head_cap - head_len));
    if (n == 0) {
      ended = true;
      break;
    }
    head_len += n;
  }
  if (ended && head_len == 0) {
    if (md5 && *md5 != Md5("")) return Md5Mismatch();
    return std::optional<WrittenExtent>();
  }
  if (ended && head_len <= inline_limit_) {
    WrittenExtent e;
    e.is_inline = true;
    head.resize(head_len);
    e.data = std::move(head);
    e.record = ExtentRecord{next_inline_id_.fetch_add(1), static_cast<int64_t>(head_len),
                            hashing == extent::Hashing::kMd5 ? Md5(e.data) : std::string(), 0};
    if (md5 && *md5 != e.record.md5) return Md5Mismatch();
    return std::optional<WrittenExtent>(std::move(e));
  }

  TARN_ASSIGN_OR_RETURN(auto w, extents_->NewWriter(hashing));
  Status s = w->Append(std::string_view(head.data(), head_len));
  std::string().swap(head);
  if (s.ok() && !ended) {
    constexpr size_t kChunk = 1 << 20;
    std::unique_ptr<char[]> buf(new char[kChunk]);
    for (;;) {
      auto r = body.Read(buf.get(), kChunk);
      if (!r.ok()) {
        s = r.status();
        break;
      }
      if (*r == 0) break;
      s = w->Append(std::string_view(buf.get(), *r));
      if (!s.ok()) break;
    }
  }
  if (!s.ok()) {
    w->Abandon();
    return s;
  }
  TARN_ASSIGN_OR_RETURN(auto info, w->Finish());
  WrittenExtent e;
  e.record = ExtentRecord{info.id, info.length, info.md5, 0};
  if (md5 && *md5 != info.md5) {
    Discard(e);
    return Md5Mismatch();
  }
  return std::optional<WrittenExtent>(std::move(e));
}

Status LakeService::RecordExtent(WriteTxn& t, const WrittenExtent& e) {
  if (e.is_inline) return t.InsertInlineExtent(e.record, e.data);
  return t.InsertExtent(e.record);
}

void LakeService::Discard(const std::optional<WrittenExtent>& e) {
  // An inline extent's bytes went nowhere but the failed transaction.
  if (e && !e->is_inline) extents_->Remove(e->record.id).IgnoreError();
}

}  // namespace tarn::lake
