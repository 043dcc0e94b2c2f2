#include "common/status.h"

#include <array>

namespace tarn {
namespace {

// The one table that maps a Reason to what the client sees.
constexpr ReasonInfo kTable[] = {
    {Reason::kNone, Code::kInternal, 500, "InternalError", "InternalError"},
    {Reason::kInvalidInput, Code::kInvalidArgument, 400, "InvalidInput", "InvalidInput"},
    {Reason::kInvalidHeaderValue, Code::kInvalidArgument, 400, "InvalidHeaderValue",
     "InvalidHeaderValue"},
    {Reason::kInvalidQueryParameterValue, Code::kInvalidArgument, 400,
     "InvalidQueryParameterValue", "InvalidQueryParameterValue"},
    {Reason::kMissingRequiredHeader, Code::kInvalidArgument, 400, "MissingRequiredHeader",
     "MissingRequiredHeader"},
    {Reason::kMissingRequiredQueryParameter, Code::kInvalidArgument, 400,
     "MissingRequiredQueryParameter", "MissingRequiredQueryParameter"},
    {Reason::kMissingContentLength, Code::kInvalidArgument, 411, "MissingContentLengthHeader",
     "MissingContentLengthHeader"},
    {Reason::kInvalidResourceName, Code::kInvalidArgument, 400, "InvalidResourceName",
     "InvalidResourceName"},
    {Reason::kInvalidUri, Code::kInvalidArgument, 400, "InvalidUri", "InvalidUri"},
    {Reason::kInvalidFlushPosition, Code::kInvalidArgument, 400, "InvalidFlushPosition",
     "InvalidFlushPosition"},
    {Reason::kInvalidAppendPosition, Code::kInvalidArgument, 400, "InvalidAppendPosition",
     "InvalidAppendPosition"},
    {Reason::kContentLengthMustBeZero, Code::kInvalidArgument, 400, "ContentLengthMustBeZero",
     "ContentLengthMustBeZero"},
    {Reason::kInvalidBlockId, Code::kInvalidArgument, 400, "InvalidBlockId", "InvalidBlockId"},
    {Reason::kInvalidBlockList, Code::kInvalidArgument, 400, "InvalidBlockList",
     "InvalidBlockList"},
    {Reason::kInvalidXml, Code::kInvalidArgument, 400, "InvalidXmlDocument",
     "InvalidXmlDocument"},
    {Reason::kInvalidRange400, Code::kInvalidArgument, 400, "InvalidHeaderValue",
     "InvalidHeaderValue"},
    {Reason::kMd5Mismatch, Code::kInvalidArgument, 400, "Md5Mismatch", "Md5Mismatch"},
    {Reason::kRequestBodyTooLarge, Code::kInvalidArgument, 413, "RequestBodyTooLarge",
     "RequestBodyTooLarge"},
    {Reason::kHeaderTooLarge, Code::kInvalidArgument, 431, "RequestHeaderFieldsTooLarge",
     "RequestHeaderFieldsTooLarge"},
    {Reason::kUnsupportedHttpVerb, Code::kInvalidArgument, 405, "UnsupportedHttpVerb",
     "UnsupportedHttpVerb"},
    {Reason::kInvalidMetadata, Code::kInvalidArgument, 400, "InvalidMetadata", "InvalidMetadata"},
    {Reason::kOutOfRangeInput, Code::kInvalidArgument, 400, "OutOfRangeInput", "OutOfRangeInput"},
    {Reason::kInvalidSourceUri, Code::kInvalidArgument, 400, "InvalidSourceUri",
     "InvalidSourceUri"},
    {Reason::kEmptyUncommittedBlockList, Code::kInvalidArgument, 400, "InvalidBlockList",
     "InvalidBlockList"},
    {Reason::kNoAuthenticationInformation, Code::kUnauthenticated, 401,
     "NoAuthenticationInformation", "NoAuthenticationInformation"},
    {Reason::kAuthenticationFailed, Code::kUnauthenticated, 403, "AuthenticationFailed",
     "AuthenticationFailed"},
    {Reason::kAuthorizationFailure, Code::kPermissionDenied, 403, "AuthorizationFailure",
     "AuthorizationFailure"},
    {Reason::kAuthorizationPermissionMismatch, Code::kPermissionDenied, 403,
     "AuthorizationPermissionMismatch", "AuthorizationPermissionMismatch"},
    {Reason::kAuthorizationResourceTypeMismatch, Code::kPermissionDenied, 403,
     "AuthorizationResourceTypeMismatch", "AuthorizationResourceTypeMismatch"},
    {Reason::kAuthorizationServiceMismatch, Code::kPermissionDenied, 403,
     "AuthorizationServiceMismatch", "AuthorizationServiceMismatch"},
    {Reason::kAuthorizationProtocolMismatch, Code::kPermissionDenied, 403,
     "AuthorizationProtocolMismatch", "AuthorizationProtocolMismatch"},
    {Reason::kAuthorizationSourceIPMismatch, Code::kPermissionDenied, 403,
     "AuthorizationSourceIPMismatch", "AuthorizationSourceIPMismatch"},
    {Reason::kPublicAccessNotPermitted, Code::kPermissionDenied, 409, "PublicAccessNotPermitted",
     "PublicAccessNotPermitted"},
    {Reason::kResourceNotFoundForAnonymous, Code::kNotFound, 404, "ResourceNotFound",
     "ResourceNotFound"},
    {Reason::kAccountNotFound, Code::kNotFound, 404, "ResourceNotFound", "ResourceNotFound"},
    {Reason::kFilesystemNotFound, Code::kNotFound, 404, "ContainerNotFound",
     "FilesystemNotFound"},
    {Reason::kPathNotFound, Code::kNotFound, 404, "BlobNotFound", "PathNotFound"},
    {Reason::kSourcePathNotFound, Code::kNotFound, 404, "CannotVerifyCopySource",
     "SourcePathNotFound"},
    {Reason::kRenameDestinationParentPathNotFound, Code::kNotFound, 404, "BlobNotFound",
     "RenameDestinationParentPathNotFound"},
    {Reason::kParentNotFound, Code::kNotFound, 404, "BlobNotFound", "PathNotFound"},
    {Reason::kBlockListNotFound, Code::kNotFound, 404, "BlobNotFound", "PathNotFound"},
    {Reason::kOperationNotFound, Code::kNotFound, 400, "InvalidQueryParameterValue",
     "InvalidQueryParameterValue"},
    {Reason::kUnsupportedOperation, Code::kUnimplemented, 400, "UnsupportedHeader",
     "UnsupportedHeader"},
    {Reason::kFilesystemAlreadyExists, Code::kAlreadyExists, 409, "ContainerAlreadyExists",
     "FilesystemAlreadyExists"},
    {Reason::kPathAlreadyExists, Code::kAlreadyExists, 409, "BlobAlreadyExists",
     "PathAlreadyExists"},
    {Reason::kDirectoryNotEmpty, Code::kConflict, 409, "DirectoryNotEmpty", "DirectoryNotEmpty"},
    {Reason::kPathConflict, Code::kConflict, 409, "PathConflict", "PathConflict"},
    {Reason::kInvalidRenameSourcePath, Code::kConflict, 409, "InvalidRenameSourcePath",
     "InvalidRenameSourcePath"},
    {Reason::kInvalidDestinationPath, Code::kConflict, 409, "InvalidDestinationPath",
     "InvalidDestinationPath"},
    {Reason::kResourceTypeMismatch, Code::kConflict, 409, "InvalidBlobType",
     "InvalidSourceOrDestinationResourceType"},
    {Reason::kLeaseAlreadyPresent, Code::kConflict, 409, "LeaseAlreadyPresent",
     "LeaseAlreadyPresent"},
    {Reason::kLeaseIsBreakingAndCannotBeAcquired, Code::kConflict, 409,
     "LeaseIsBreakingAndCannotBeAcquired", "LeaseIsBreakingAndCannotBeAcquired"},
    {Reason::kLeaseIsBrokenAndCannotBeRenewed, Code::kConflict, 409,
     "LeaseIsBrokenAndCannotBeRenewed", "LeaseIsBrokenAndCannotBeRenewed"},
    {Reason::kLeaseIsBreakingAndCannotBeChanged, Code::kConflict, 409,
     "LeaseIsBreakingAndCannotBeChanged", "LeaseIsBreakingAndCannotBeChanged"},
    {Reason::kLeaseAlreadyBroken, Code::kConflict, 409, "LeaseAlreadyBroken",
     "LeaseAlreadyBroken"},
    {Reason::kLeaseNotPresentWithLeaseOperation, Code::kConflict, 409,
     "LeaseNotPresentWithLeaseOperation", "LeaseNotPresentWithLeaseOperation"},
    {Reason::kLeaseIdMismatchWithLeaseOperation, Code::kConflict, 409,
     "LeaseIdMismatchWithLeaseOperation", "LeaseIdMismatchWithLeaseOperation"},
    {Reason::kLeaseIdMismatchWithContainerOperation, Code::kFailedPrecondition, 412,
     "LeaseIdMismatchWithContainerOperation", "LeaseIdMismatch"},
    {Reason::kFilesystemBeingDeleted, Code::kConflict, 409, "ContainerBeingDeleted",
     "FilesystemBeingDeleted"},
    {Reason::kDirectoryIsParentOfDestination, Code::kConflict, 409, "InvalidRenameSourcePath",
     "InvalidRenameSourcePath"},
    {Reason::kBlobOverwriteConflict, Code::kConflict, 409, "BlobAlreadyExists",
     "PathAlreadyExists"},
    {Reason::kCannotCopyOntoSelf, Code::kConflict, 409, "CannotVerifyCopySource",
     "PathConflict"},
    {Reason::kConditionNotMet, Code::kFailedPrecondition, 412, "ConditionNotMet",
     "ConditionNotMet"},
    {Reason::kSourceConditionNotMet, Code::kFailedPrecondition, 412, "SourceConditionNotMet",
     "SourceConditionNotMet"},
    {Reason::kLeaseIdMissing, Code::kFailedPrecondition, 412, "LeaseIdMissing", "LeaseIdMissing"},
    {Reason::kLeaseIdMismatch, Code::kFailedPrecondition, 412,
     "LeaseIdMismatchWithBlobOperation", "LeaseIdMismatch"},
    {Reason::kLeaseLost, Code::kFailedPrecondition, 412, "LeaseLost", "LeaseLost"},
    {Reason::kLeaseNotPresent, Code::kFailedPrecondition, 412,
     "LeaseNotPresentWithBlobOperation", "LeaseNotPresent"},
    {Reason::kContainerLeaseIdMissing, Code::kFailedPrecondition, 412, "LeaseIdMissing",
     "LeaseIdMissing"},
    {Reason::kRequestEntityTooLarge, Code::kInvalidArgument, 413, "RequestBodyTooLarge",
     "RequestBodyTooLarge"},
    {Reason::kInvalidRange, Code::kOutOfRange, 416, "InvalidRange", "InvalidRange"},
    {Reason::kNotModified, Code::kFailedPrecondition, 304, "ConditionNotMet", "ConditionNotMet"},
    {Reason::kInternalError, Code::kInternal, 500, "InternalError", "InternalError"},
    {Reason::kServerBusy, Code::kUnavailable, 503, "ServerBusy", "ServerBusy"},
    {Reason::kOperationTimedOut, Code::kUnavailable, 500, "OperationTimedOut",
     "OperationTimedOut"},
    {Reason::kNotImplemented, Code::kUnimplemented, 501, "NotImplemented", "NotImplemented"},
    {Reason::kWorkspaceNotFound, Code::kNotFound, 404, "WorkspaceNotFound", "WorkspaceNotFound"},
    {Reason::kStudioNotFound, Code::kNotFound, 404, "ResourceNotFound", "ResourceNotFound"},
    {Reason::kCorsPreflightFailure, Code::kPermissionDenied, 403, "CorsPreflightFailure",
     "CorsPreflightFailure"},
    {Reason::kWorkspaceAuthorizationFailed, Code::kPermissionDenied, 403, "AuthorizationFailed",
     "AuthorizationFailed"},
    {Reason::kWorkspaceAlreadyExists, Code::kAlreadyExists, 409,
     "WorkspaceAlreadyExists", "WorkspaceAlreadyExists"},
    {Reason::kDatastoreNotFound, Code::kNotFound, 404, "DatastoreNotFound", "DatastoreNotFound"},
    {Reason::kDatastoreAlreadyExists, Code::kAlreadyExists, 409,
     "DatastoreAlreadyExists", "DatastoreAlreadyExists"},
    {Reason::kDatastoreInUse, Code::kFailedPrecondition, 409, "DatastoreInUse", "DatastoreInUse"},
    {Reason::kDatastoreValidationFailed, Code::kInvalidArgument, 400,
     "DatastoreValidationFailed", "DatastoreValidationFailed"},
    {Reason::kDatastoreAccessFailed, Code::kInvalidArgument, 400,
     "DatastoreAccessFailed", "DatastoreAccessFailed"},
    {Reason::kDatasetNotFound, Code::kNotFound, 404, "DatasetNotFound", "DatasetNotFound"},
    {Reason::kDatasetAlreadyExists, Code::kAlreadyExists, 409,
     "DatasetAlreadyExists", "DatasetAlreadyExists"},
    {Reason::kInvalidPaths, Code::kInvalidArgument, 400, "InvalidPaths", "InvalidPaths"},
    {Reason::kEmptyDataset, Code::kInvalidArgument, 400, "EmptyDataset", "EmptyDataset"},
    {Reason::kDataReadFailed, Code::kInvalidArgument, 400, "DataReadFailed", "DataReadFailed"},
    {Reason::kDatasetDrift, Code::kFailedPrecondition, 409, "DatasetDrift", "DatasetDrift"},
    {Reason::kDatasetDataGone, Code::kFailedPrecondition, 409,
     "DatasetDataGone", "DatasetDataGone"},
    {Reason::kInvalidName, Code::kInvalidArgument, 400, "InvalidName", "InvalidName"},
    {Reason::kInvalidDefinition, Code::kInvalidArgument, 400,
     "InvalidDefinition", "InvalidDefinition"},
    {Reason::kPipelineNotFound, Code::kNotFound, 404, "PipelineNotFound", "PipelineNotFound"},
    {Reason::kPipelineRunNotFound, Code::kNotFound, 404, "PipelineRunNotFound",
     "PipelineRunNotFound"},
    {Reason::kInvalidPipeline, Code::kInvalidArgument, 400, "InvalidPipeline", "InvalidPipeline"},
    {Reason::kPipelineBusy, Code::kConflict, 409, "PipelineBusy", "PipelineBusy"},
    {Reason::kInvalidJob, Code::kInvalidArgument, 400, "InvalidJob", "InvalidJob"},
    {Reason::kJobNotFound, Code::kNotFound, 404, "JobNotFound", "JobNotFound"},
    {Reason::kComputeNotFound, Code::kNotFound, 404, "ComputeNotFound", "ComputeNotFound"},
    {Reason::kComputeUnavailable, Code::kFailedPrecondition, 409, "ComputeUnavailable",
     "ComputeUnavailable"},
    {Reason::kRunIdentityRequired, Code::kPermissionDenied, 403, "RunIdentityRequired",
     "RunIdentityRequired"},
    {Reason::kMlflowInvalidParameterValue, Code::kInvalidArgument, 400,
     "INVALID_PARAMETER_VALUE", "INVALID_PARAMETER_VALUE"},
    {Reason::kMlflowResourceDoesNotExist, Code::kNotFound, 404,
     "RESOURCE_DOES_NOT_EXIST", "RESOURCE_DOES_NOT_EXIST"},
    {Reason::kMlflowResourceAlreadyExists, Code::kAlreadyExists, 400,
     "RESOURCE_ALREADY_EXISTS", "RESOURCE_ALREADY_EXISTS"},
    {Reason::kMlflowInvalidState, Code::kFailedPrecondition, 400,
     "INVALID_STATE", "INVALID_STATE"},
    {Reason::kMlflowEndpointNotFound, Code::kNotFound, 404,
     "ENDPOINT_NOT_FOUND", "ENDPOINT_NOT_FOUND"},
    {Reason::kInvalidAuthenticationInfo, Code::kUnauthenticated, 401, "InvalidAuthenticationInfo",
     "InvalidAuthenticationInfo"},
    {Reason::kPrincipalNotFound, Code::kNotFound, 404, "PrincipalNotFound",
     "PrincipalNotFound"},
    {Reason::kTenantNotFound, Code::kNotFound, 404, "TenantNotFound",
     "TenantNotFound"},
    {Reason::kRoleAssignmentNotFound, Code::kNotFound, 404, "RoleAssignmentNotFound",
     "RoleAssignmentNotFound"},
    {Reason::kGroupNotFound, Code::kNotFound, 404, "GroupNotFound",
     "GroupNotFound"},
    {Reason::kObjectAlreadyExists, Code::kAlreadyExists, 409, "ObjectAlreadyExists",
     "ObjectAlreadyExists"},
    {Reason::kFeatureNotYetSupportedForHierarchicalNamespaceAccounts, Code::kConflict, 409,
     "FeatureNotYetSupportedForHierarchicalNamespaceAccounts",
     "FeatureNotYetSupportedForHierarchicalNamespaceAccounts"},
    {Reason::kCannotVerifyCopySource, Code::kPermissionDenied, 403, "CannotVerifyCopySource",
     "CannotVerifyCopySource"},
    {Reason::kRequestTimeout, Code::kUnavailable, 408, "RequestTimeout", "RequestTimeout"},
    // Azure has no code for a full disk; ServerBusy is what it answers when it cannot take more.
    {Reason::kDiskFull, Code::kResourceExhausted, 503, "ServerBusy", "ServerBusy"},
    {Reason::kExceedsMaxBatchRequestCount, Code::kInvalidArgument, 400,
     "ExceedsMaxBatchRequestCount", "ExceedsMaxBatchRequestCount"},
    {Reason::kErrorProcessingQueryExpression, Code::kInvalidArgument, 400,
     "ErrorProcessingQueryExpression", "ErrorProcessingQueryExpression"},
};

constexpr bool TableIsDense() {
  for (size_t i = 0; i < std::size(kTable); ++i) {
    if (static_cast<size_t>(kTable[i].reason) != i) return false;
  }
  return static_cast<size_t>(Reason::kErrorProcessingQueryExpression) + 1 == std::size(kTable);
}
static_assert(TableIsDense(), "error table rows must follow the Reason enum order, one each");

}  // namespace

const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kUnauthenticated: return "Unauthenticated";
    case Code::kFailedPrecondition: return "FailedPrecondition";
    case Code::kConflict: return "Conflict";
    case Code::kOutOfRange: return "OutOfRange";
    case Code::kResourceExhausted: return "ResourceExhausted";
    case Code::kUnavailable: return "Unavailable";
    case Code::kUnimplemented: return "Unimplemented";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

const ReasonInfo& Describe(Reason reason) {
  auto i = static_cast<size_t>(reason);
  return i < std::size(kTable) ? kTable[i] : kTable[0];
}

Reason ReasonForDfsCode(std::string_view code) {
  for (const ReasonInfo& info : kTable) {
    if (info.reason != Reason::kNone && code == info.dfs_code) return info.reason;
  }
  return Reason::kNone;
}

Status::Status(Reason reason, std::string message)
    : code_(Describe(reason).code), reason_(reason), message_(std::move(message)) {}

Status InternalError(std::string message) {
  return Status(Reason::kInternalError, std::move(message));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = CodeName(code_);
  if (reason_ != Reason::kNone) {
    s += "/";
    s += Describe(reason_).dfs_code;
  }
  s += ": ";
  s += message_;
  return s;
}

}  // namespace tarn
