// Status and StatusOr: the one error type used on every request path (no exceptions there).
//
// A Status carries a canonical Code, an optional Azure-facing Reason, and a message. The Reason is
// what a client sees: exactly one table (error_table.cc) maps each Reason to an HTTP status plus the
// Blob-shaped and DFS-shaped Azure error codes. Services return Reasons; they never know HTTP.
//
//   StatusOr<Node> n = store.Lookup(...);
//   if (!n.ok()) return n.status();
//   Use(*n);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tarn {

enum class Code {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
  kConflict,
  kOutOfRange,
  kResourceExhausted,
  kUnavailable,
  kUnimplemented,
  kInternal,
};

// Azure-facing error reasons. Add a row to error_table.cc with every new entry.
enum class Reason {
  kNone = 0,
  // 400
  kInvalidInput,
  kInvalidHeaderValue,
  kInvalidQueryParameterValue,
  kMissingRequiredHeader,
  kMissingRequiredQueryParameter,
  kMissingContentLength,
  kInvalidResourceName,
  kInvalidUri,
  kInvalidFlushPosition,
  kInvalidAppendPosition,
  kContentLengthMustBeZero,
  kInvalidBlockId,
  kInvalidBlockList,
  kInvalidXml,
  kInvalidRange400,
  kMd5Mismatch,
  kRequestBodyTooLarge,
  kHeaderTooLarge,
  kUnsupportedHttpVerb,
  kInvalidMetadata,
  kOutOfRangeInput,
  kInvalidSourceUri,
  kEmptyUncommittedBlockList,
  // 401/403
  kNoAuthenticationInformation,
  kAuthenticationFailed,
  kAuthorizationFailure,
  kAuthorizationPermissionMismatch,
  kAuthorizationResourceTypeMismatch,
  kAuthorizationServiceMismatch,
  kAuthorizationProtocolMismatch,
  kAuthorizationSourceIPMismatch,
  kPublicAccessNotPermitted,
  kResourceNotFoundForAnonymous,
  // 404
  kAccountNotFound,
  kFilesystemNotFound,
  kPathNotFound,
  kSourcePathNotFound,
  kRenameDestinationParentPathNotFound,
  kParentNotFound,
  kBlockListNotFound,
  kOperationNotFound,
  // 405
  kUnsupportedOperation,
  // 409
  kFilesystemAlreadyExists,
  kPathAlreadyExists,
  kDirectoryNotEmpty,
  kPathConflict,
  kInvalidRenameSourcePath,
  kInvalidDestinationPath,
  kResourceTypeMismatch,
  kLeaseAlreadyPresent,
  kLeaseIsBreakingAndCannotBeAcquired,
  kLeaseIsBrokenAndCannotBeRenewed,
  kLeaseIsBreakingAndCannotBeChanged,
  kLeaseAlreadyBroken,
  kLeaseNotPresentWithLeaseOperation,
  kLeaseIdMismatchWithLeaseOperation,
  kLeaseIdMismatchWithContainerOperation,
  kFilesystemBeingDeleted,
  kDirectoryIsParentOfDestination,
  kBlobOverwriteConflict,
  kCannotCopyOntoSelf,
  // 412
  kConditionNotMet,
  kSourceConditionNotMet,
  kLeaseIdMissing,
  kLeaseIdMismatch,
  kLeaseLost,
  kLeaseNotPresent,
  kContainerLeaseIdMissing,
  // 413
  kRequestEntityTooLarge,
  // 416
  kInvalidRange,
  // 304
  kNotModified,
  // 500/503
  kInternalError,
  kServerBusy,
  kOperationTimedOut,
  kNotImplemented,
  // The workspace catalog (JSON API; one code for both shapes)
  kWorkspaceNotFound,
  kStudioNotFound,
  kCorsPreflightFailure,
  kWorkspaceAuthorizationFailed,
  kWorkspaceAlreadyExists,
  kDatastoreNotFound,
  kDatastoreAlreadyExists,
  kDatastoreInUse,
  kDatastoreValidationFailed,
  kDatastoreAccessFailed,
  kDatasetNotFound,
  kDatasetAlreadyExists,
  kInvalidPaths,
  kEmptyDataset,
  kDataReadFailed,
  kDatasetDrift,
  kDatasetDataGone,
  kInvalidName,
  kInvalidDefinition,
  // Pipelines
  kPipelineNotFound,
  kPipelineRunNotFound,
  kInvalidPipeline,
  kPipelineBusy,
  // Runs on compute targets
  kInvalidJob,
  kJobNotFound,
  kComputeNotFound,
  kComputeUnavailable,
  kRunIdentityRequired,
  // Experiment tracking (MLflow's REST API): the blob and DFS codes are MLflow's error codes.
  kMlflowInvalidParameterValue,
  kMlflowResourceDoesNotExist,
  kMlflowResourceAlreadyExists,
  kMlflowInvalidState,
  kMlflowEndpointNotFound,
  // Identity (bearer tokens, the directory)
  kInvalidAuthenticationInfo,
  kPrincipalNotFound,
  kTenantNotFound,
  kRoleAssignmentNotFound,
  kGroupNotFound,
  kObjectAlreadyExists,
  // Routing, second resources and the connection layer
  kFeatureNotYetSupportedForHierarchicalNamespaceAccounts,
  kCannotVerifyCopySource,
  kRequestTimeout,
  kDiskFull,  // no space for new data on the data disk
  // Blob batch
  kExceedsMaxBatchRequestCount,
  // Query Blob Contents: the expression does not parse or does not bind
  kErrorProcessingQueryExpression,  // the last: status.cc's table check names it
};

struct ReasonInfo {
  Reason reason;
  Code code;
  int http_status;
  const char* blob_code;  // Azure error code in Blob-shaped responses.
  const char* dfs_code;   // Azure error code in DFS-shaped responses.
};

// The single mapping table. Never returns null.
const ReasonInfo& Describe(Reason reason);
// The other direction, for clients reading a tarnd's JSON (DFS-shaped) errors: the first Reason
// whose dfs_code is `code`, or kNone for a code the table does not hold.
Reason ReasonForDfsCode(std::string_view code);

// "InvalidArgument", "NotFound", ...: the code's name.
const char* CodeName(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(Reason reason, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  Reason reason() const { return reason_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.reason_ == b.reason_;
  }

 private:
  Code code_ = Code::kOk;
  Reason reason_ = Reason::kNone;
  std::string message_;
};

inline Status Error(Reason reason, std::string message) {
  return Status(reason, std::move(message));
}
Status InternalError(std::string message);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design
  StatusOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace tarn

#define TARN_CONCAT_INNER(a, b) a##b
#define TARN_CONCAT(a, b) TARN_CONCAT_INNER(a, b)

#define TARN_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::tarn::Status tarn_status_ = (expr);   \
    if (!tarn_status_.ok()) return tarn_status_; \
  } while (0)

#define TARN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#define TARN_ASSIGN_OR_RETURN(lhs, expr) \
  TARN_ASSIGN_OR_RETURN_IMPL(TARN_CONCAT(tarn_statusor_, __LINE__), lhs, expr)
