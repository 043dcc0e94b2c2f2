#include "protocol/query_response.h"

#include <avro.h>

#include "common/crypto.h"

namespace tarn::protocol {
namespace {

constexpr size_t kInMemory = 8 << 20;

// Azure's schema, word for word (the Query Blob Contents reference).
constexpr char kSchema[] = R"([
  {
    "type": "record",
    "name": "com.microsoft.azure.storage.queryBlobContents.resultData",
    "doc": "Holds result data in the format specified for this query (CSV, JSON, etc.).",
    "fields": [
      {
        "name": "data",
        "type": "bytes"
      }
    ]
  },
  {
    "type": "record",
    "name": "com.microsoft.azure.storage.queryBlobContents.error",
    "doc": "An error that occurred while processing the query.",
    "fields": [
      {
        "name": "fatal",
        "type": "boolean",
        "doc": "If true, this error prevents further query processing.  More result data may be returned, but there is no guarantee that all of the original data will be processed.  If false, this error does not prevent further query processing."
      },
      {
        "name": "name",
        "type": "string",
        "doc": "The name of the error"
      },
      {
        "name": "description",
        "type": "string",
        "doc": "A description of the error"
      },
      {
        "name": "position",
        "type": "long",
        "doc": "The blob offset at which the error occurred"
      }
    ]
  },
  {
    "type": "record",
    "name": "com.microsoft.azure.storage.queryBlobContents.progress",
    "doc": "Information about the progress of the query",
    "fields": [
      {
        "name": "bytesScanned",
        "type": "long",
        "doc": "The number of bytes that have been scanned"
      },
      {
        "name": "totalBytes",
        "type": "long",
        "doc": "The total number of bytes to be scanned in this query"
      }
    ]
  },
  {
    "type": "record",
    "name": "com.microsoft.azure.storage.queryBlobContents.end",
    "doc": "Sent as the final message of the response, indicating that all results have been sent.",
    "fields": [
      {
        "name": "totalBytes",
        "type": "long",
        "doc": "The total number of bytes to be scanned in this query"
      }
    ]
  }
]
)";

// The object container's header, as the Avro specification defines it.
constexpr char kHeaderSchema[] =
    R"({"type": "record", "name": "org.apache.avro.file.Header", "fields": [)"
    R"({"name": "magic", "type": {"type": "fixed", "name": "Magic", "size": 4}},)"
    R"({"name": "meta", "type": {"type": "map", "values": "bytes"}},)"
    R"({"name": "sync", "type": {"type": "fixed", "name": "Sync", "size": 16}}]})";

enum Branch { kResultData = 0, kError = 1, kProgress = 2, kEnd = 3 };

Status AvroFailure(const char* what) {
  return InternalError(std::string("query answer: ") + what + ": " + avro_strerror());
}

// One value of a schema, reused for every record written.
struct Value {
  avro_schema_t schema = nullptr;
  avro_value_iface_t* iface = nullptr;
  avro_value_t value{};
  bool made = false;

  Status Make(const char* json, size_t len) {
    if (avro_schema_from_json_length(json, len, &schema) != 0) return AvroFailure("schema");
    iface = avro_generic_class_from_schema(schema);
    if (iface == nullptr || avro_generic_value_new(iface, &value) != 0) {
      return AvroFailure("value");
    }
    made = true;
    return Status::Ok();
  }
  ~Value() {
    if (made) avro_value_decref(&value);
    if (iface != nullptr) avro_value_iface_decref(iface);
    if (schema != nullptr) avro_schema_decref(schema);
  }
  // The value's binary encoding, appended to out.
  Status Encode(std::string* out) {
    size_t n = 0;
    if (avro_value_sizeof(&value, &n) != 0) return AvroFailure("size");
    const size_t at = out->size();
    out->resize(at + n);
    avro_writer_t w = avro_writer_memory(out->data() + at, static_cast<int64_t>(n));
    const int rc = avro_value_write(w, &value);
    avro_writer_free(w);
    if (rc != 0) return AvroFailure("encode");
    return Status::Ok();
  }
};

Status Field(avro_value_t* record, const char* name, avro_value_t* out) {
  if (avro_value_get_by_name(record, name, out, nullptr) != 0) return AvroFailure(name);
  return Status::Ok();
}

}  // namespace

struct QueryResponse::Avro {
  Value records, header, count;
  std::string sync = RandomBytes(16);
  bool header_written = false;
};

QueryResponse::QueryResponse(std::string dir) : dir_(std::move(dir)), avro_(new Avro) {}

QueryResponse::~QueryResponse() = default;

Status QueryResponse::Append(std::string_view bytes) {
  size_ += static_cast<int64_t>(bytes.size());
  if (!file_ && memory_.size() + bytes.size() <= kInMemory) {
    memory_.append(bytes);
    return Status::Ok();
  }
  if (!file_) {
    TARN_ASSIGN_OR_RETURN(TempFile f, TempFile::Open(dir_));
    file_.emplace(std::move(f));
    TARN_RETURN_IF_ERROR(file_->Append(memory_));
    memory_.clear();
  }
  return file_->Append(bytes);
}

Status QueryResponse::Block(int branch, const std::function<Status(void*)>& fill) {
  Avro& a = *avro_;
  if (!a.header_written) {
    TARN_RETURN_IF_ERROR(a.records.Make(kSchema, sizeof kSchema - 1));
    TARN_RETURN_IF_ERROR(a.header.Make(kHeaderSchema, sizeof kHeaderSchema - 1));
    static constexpr char kLong[] = R"("long")";
    TARN_RETURN_IF_ERROR(a.count.Make(kLong, sizeof kLong - 1));
    avro_value_t magic, meta, sync, entry;
    TARN_RETURN_IF_ERROR(Field(&a.header.value, "magic", &magic));
    TARN_RETURN_IF_ERROR(Field(&a.header.value, "meta", &meta));
    TARN_RETURN_IF_ERROR(Field(&a.header.value, "sync", &sync));
    static constexpr char kMagic[] = {'O', 'b', 'j', '\x01'};
    if (avro_value_set_fixed(&magic, const_cast<char*>(kMagic), 4) != 0 ||
        avro_value_add(&meta, "avro.schema", &entry, nullptr, nullptr) != 0 ||
        avro_value_set_bytes(&entry, const_cast<char*>(kSchema), sizeof kSchema - 1) != 0 ||
        avro_value_set_fixed(&sync, a.sync.data(), a.sync.size()) != 0) {
      return AvroFailure("header");
    }
    std::string out;
    TARN_RETURN_IF_ERROR(a.header.Encode(&out));
    TARN_RETURN_IF_ERROR(Append(out));
    a.header_written = true;
  }
  avro_value_t record;
  if (avro_value_set_branch(&a.records.value, branch, &record) != 0) return AvroFailure("branch");
  TARN_RETURN_IF_ERROR(fill(&record));
  std::string body;
  TARN_RETURN_IF_ERROR(a.records.Encode(&body));
  // A block: its object count (one), its size, the object, the sync marker.
  std::string block;
  for (int64_t n : {int64_t{1}, static_cast<int64_t>(body.size())}) {
    if (avro_value_set_long(&a.count.value, n) != 0) return AvroFailure("count");
    TARN_RETURN_IF_ERROR(a.count.Encode(&block));
  }
  TARN_RETURN_IF_ERROR(Append(block));
  TARN_RETURN_IF_ERROR(Append(body));
  return Append(a.sync);
}

Status QueryResponse::Data(std::string_view data) {
  return Block(kResultData, [&](void* r) {
    avro_value_t f;
    TARN_RETURN_IF_ERROR(Field(static_cast<avro_value_t*>(r), "data", &f));
    static char kNothing = 0;  // Avro C refuses a null pointer, even for no bytes
    char* bytes = data.empty() ? &kNothing : const_cast<char*>(data.data());
    if (avro_value_set_bytes(&f, bytes, data.size()) != 0) {
      return AvroFailure("data");
    }
    return Status::Ok();
  });
}

Status QueryResponse::Progress(int64_t scanned, int64_t total) {
  return Block(kProgress, [&](void* r) {
    avro_value_t s, t;
    TARN_RETURN_IF_ERROR(Field(static_cast<avro_value_t*>(r), "bytesScanned", &s));
    TARN_RETURN_IF_ERROR(Field(static_cast<avro_value_t*>(r), "totalBytes", &t));
    if (avro_value_set_long(&s, scanned) != 0 || avro_value_set_long(&t, total) != 0) {
      return AvroFailure("progress");
    }
    return Status::Ok();
  });
}

Status QueryResponse::Failure(bool fatal, const std::string& name, const std::string& description,
                              int64_t position) {
  return Block(kError, [&](void* r) {
    avro_value_t f, n, d, p;
    auto* rec = static_cast<avro_value_t*>(r);
    TARN_RETURN_IF_ERROR(Field(rec, "fatal", &f));
    TARN_RETURN_IF_ERROR(Field(rec, "name", &n));
    TARN_RETURN_IF_ERROR(Field(rec, "description", &d));
    TARN_RETURN_IF_ERROR(Field(rec, "position", &p));
    if (avro_value_set_boolean(&f, fatal ? 1 : 0) != 0 ||
        avro_value_set_string(&n, name.c_str()) != 0 ||
        avro_value_set_string(&d, description.c_str()) != 0 ||
        avro_value_set_long(&p, position) != 0) {
      return AvroFailure("error");
    }
    return Status::Ok();
  });
}

Status QueryResponse::End(int64_t total) {
  return Block(kEnd, [&](void* r) {
    avro_value_t t;
    TARN_RETURN_IF_ERROR(Field(static_cast<avro_value_t*>(r), "totalBytes", &t));
    if (avro_value_set_long(&t, total) != 0) return AvroFailure("end");
    return Status::Ok();
  });
}

StatusOr<std::string> QueryResponse::Bytes() const {
  if (!file_) return memory_;
  std::string out(static_cast<size_t>(size_), '\0');
  TARN_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(0, out.data(), out.size()));
  if (got != out.size()) return InternalError("query answer: read back short");
  return out;
}

}  // namespace tarn::protocol
