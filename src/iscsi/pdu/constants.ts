// Wire constants from RFC 7143 section 11.

export const BHS_LENGTH = 48;
export const DIGEST_LENGTH = 4;
/** Reserved tag meaning "none" in ITT / TTT fields. */
export const RESERVED_TAG = 0xffffffff;

export const enum Opcode {
  NopOut = 0x00,
  ScsiCommand = 0x01,
  TaskMgmtRequest = 0x02,
  LoginRequest = 0x03,
  TextRequest = 0x04,
  DataOut = 0x05,
  LogoutRequest = 0x06,
  Snack = 0x10,
  NopIn = 0x20,
  ScsiResponse = 0x21,
  TaskMgmtResponse = 0x22,
  LoginResponse = 0x23,
  TextResponse = 0x24,
  DataIn = 0x25,
  LogoutResponse = 0x26,
  R2T = 0x31,
  AsyncMessage = 0x32,
  Reject = 0x3f,
}

export const enum RejectReason {
  DataDigestError = 0x02,
  SnackReject = 0x03,
  ProtocolError = 0x04,
  CommandNotSupported = 0x05,
  ImmediateCommandReject = 0x06,
  TaskInProgress = 0x07,
  InvalidDataAck = 0x08,
  InvalidPduField = 0x09,
  LongOperationReject = 0x0a,
  WaitingForLogout = 0x0c,
}

/** Login status as (class << 8) | detail (RFC 7143 11.13.5). */
export const enum LoginStatus {
  Success = 0x0000,
  TargetMovedTemporarily = 0x0101,
  InitiatorError = 0x0200,
  AuthenticationFailure = 0x0201,
  AuthorizationFailure = 0x0202,
  TargetNotFound = 0x0203,
  TargetRemoved = 0x0204,
  UnsupportedVersion = 0x0205,
  TooManyConnections = 0x0206,
  MissingParameter = 0x0207,
  CantIncludeInSession = 0x0208,
  SessionTypeNotSupported = 0x0209,
  SessionDoesNotExist = 0x020a,
  InvalidDuringLogin = 0x020b,
  TargetError = 0x0300,
  ServiceUnavailable = 0x0301,
  OutOfResources = 0x0302,
}

export const enum TmfFunction {
  AbortTask = 1,
  AbortTaskSet = 2,
  ClearAca = 3,
  ClearTaskSet = 4,
  LogicalUnitReset = 5,
  TargetWarmReset = 6,
  TargetColdReset = 7,
  TaskReassign = 8,
}

export const enum TmfResponse {
  Complete = 0,
  TaskDoesNotExist = 1,
  LunDoesNotExist = 2,
  TaskStillAllegiant = 3,
  ReassignmentNotSupported = 4,
  NotSupported = 5,
  AuthorizationFailed = 6,
  Rejected = 255,
}

/** Login stages (CSG/NSG). */
export const enum Stage {
  Security = 0,
  Operational = 1,
  FullFeature = 3,
}
