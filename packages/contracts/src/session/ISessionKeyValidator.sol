// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISessionKeyValidator
/// @notice Types, events, errors and the external surface of the {SessionKeyValidator} module.
/// @dev The structs describe a session; on chain a spec travels as its packed encoding (see {SessionSpecLib} and
/// docs/interfaces.md: fixed-width big-endian fields, no padding), and the session id is `keccak256(packedSpec)`.
interface ISessionKeyValidator {
    /// @notice How a usage limit accumulates.
    /// @dev `Unlimited`: nothing is counted (`limit` and `period` must be 0).
    /// `Lifetime`: at most `limit` over the whole life of the session (`period` must be 0).
    /// `Allowance`: at most `limit` per period of `period` seconds; periods are aligned on
    /// `timestamp / period`, so they reset at every multiple of `period`.
    enum LimitType {
        Unlimited,
        Lifetime,
        Allowance
    }

    /// @notice A limit on the sum of an amount (wei, token units, fee) spent by a session.
    struct UsageLimit {
        LimitType limitType;
        uint104 limit;
        uint32 period;
    }

    /// @notice Comparison applied to a calldata word: `word <op> refValue`, as unsigned 256-bit integers
    /// (`Equal` / `NotEqual` compare the raw 32 bytes). `Unconstrained` only counts the word against the limit.
    enum Condition {
        Unconstrained,
        Equal,
        NotEqual,
        Greater,
        GreaterOrEqual,
        Less,
        LessOrEqual
    }

    /// @notice A rule on the calldata word at `index` (the word at byte offset `4 + 32 * index`).
    /// @dev `limit` caps the sum of the word's values over the session (e.g. the amount of an ERC-20 transfer).
    struct Constraint {
        Condition condition;
        uint16 index;
        bytes32 refValue;
        UsageLimit limit;
    }

    /// @notice Allows calls of `selector` on `target`, with at most `maxValuePerUse` wei each and
    /// `valueLimit` in total, when every constraint holds.
    struct CallPolicy {
        address target;
        bytes4 selector;
        uint104 maxValuePerUse;
        UsageLimit valueLimit;
        Constraint[] constraints;
    }

    /// @notice Allows plain value transfers (empty calldata) to `target`.
    struct TransferPolicy {
        address target;
        uint104 maxValuePerUse;
        UsageLimit valueLimit;
    }

    /// @notice A session: who signs, until when, and what it may do.
    /// @dev `signer` is either a 20-byte secp256k1 address or a 64-byte P-256 public key `x ‖ y`.
    struct SessionSpec {
        bytes signer;
        uint48 expiresAt;
        UsageLimit feeLimit;
        CallPolicy[] callPolicies;
        TransferPolicy[] transferPolicies;
    }

    /// @notice The state of a session for an account.
    enum Status {
        None,
        Active,
        Expired,
        Revoked
    }

    /// @notice The remaining amounts of a call policy's limits in the current period.
    struct CallPolicyState {
        uint256 valueRemaining;
        uint256[] constraintRemaining;
    }

    /// @notice A snapshot of a session: status and every remaining amount in the current period
    /// (`type(uint256).max` for `Unlimited`).
    struct SessionState {
        Status status;
        uint256 feeRemaining;
        CallPolicyState[] callPolicies;
        uint256[] transferValueRemaining;
    }

    /// @notice Emitted when `account` created the session `sessionId`; `spec` is the packed spec (it is not stored).
    event SessionCreated(address indexed account, bytes32 indexed sessionId, bytes spec);

    /// @notice Emitted when `account` revoked the session `sessionId`.
    event SessionRevoked(address indexed account, bytes32 indexed sessionId);

    /// @notice Emitted when every session of `account` was revoked (revoke all, or module uninstalled);
    /// `nonce` is the account's new session nonce.
    event AllSessionsRevoked(address indexed account, uint256 nonce);

    /// @notice Thrown when the caller has not installed this module as a validator.
    error SessionValidatorNotInstalled(address account);

    /// @notice Thrown when a session with the same spec is already active or was revoked in the current nonce.
    error SessionAlreadyExists(bytes32 sessionId);

    /// @notice Thrown by revoke-all when the account has a `modulesVersion()` but `bumpModulesVersion()` failed: its
    /// sessions could not be revoked (they are trusted while the version is unchanged).
    error ModulesVersionNotBumped(address account);

    /// @notice Thrown at creation when the account's session nonce (moved by every revoke-all of an account
    /// without a modules version) no longer fits the session's 20-bit epoch.
    error SessionNonceExhausted();

    /// @notice Thrown when the session is not active for the account (never created, revoked, or revoked by
    /// a revoke-all).
    error SessionNotActive(bytes32 sessionId);

    /// @notice Thrown when the claimed time of a userOp is past the session's expiry.
    error SessionExpired(bytes32 sessionId, uint48 expiresAt);

    /// @notice Thrown when the claimed time selects an allowance period that ends at time 0 (a 1-second period
    /// claimed at time 0): its validity window cannot be expressed, `validUntil = 0` means "forever" to the
    /// EntryPoint.
    error InvalidTimestamp(uint48 timestamp);

    /// @notice Thrown at creation when `expiresAt` is not in the future.
    error InvalidExpiry(uint48 expiresAt);

    /// @notice Thrown at creation when the signer is neither a non-zero address nor a valid P-256 public key.
    error InvalidSigner(bytes signer);

    /// @notice Thrown at creation when a usage limit is malformed (unknown type, Unlimited with a limit or period,
    /// Lifetime with a period, Allowance without one) or too large (`maxLimit`).
    error InvalidUsageLimit(uint256 limitType, uint256 limit, uint256 period, uint256 maxLimit);

    /// @notice Thrown at creation when the packed spec is malformed at byte `offset` (truncated, trailing bytes,
    /// unknown enum value).
    error InvalidSpecEncoding(uint256 offset);

    /// @notice Thrown at creation when the fee limit is `Unlimited` (a session key could burn the account's ETH).
    error UnlimitedFeeLimit();

    /// @notice Thrown at creation when two policies cover the same target (and selector).
    error DuplicatePolicy(address target, bytes4 selector);

    /// @notice Thrown when a session would call a forbidden target: one of {forbiddenTargets} (the account
    /// itself, this validator, the EntryPoint) or any module installed on the account (validator, executor, hook,
    /// fallback handler of any selector).
    error ForbiddenTarget(address target);

    /// @notice Thrown when a call names one of {forbiddenSelectors} (module install/uninstall, upgrades), on any
    /// target.
    error ForbiddenSelector(address target, bytes4 selector);

    /// @notice Thrown when the userOp's callData is not `execute(bytes32,bytes)` on the account.
    error UnsupportedCallData(bytes4 selector);

    /// @notice Thrown when the ERC-7579 execution mode is not a single or batch call with default or try exec type.
    error UnsupportedExecutionMode(bytes32 mode);

    /// @notice Thrown when a call's calldata is 1 to 3 bytes long (neither a transfer nor a function call).
    error InvalidCallData(address target);

    /// @notice Thrown when no transfer policy allows a plain value transfer to `target`.
    error NoTransferPolicy(address target);

    /// @notice Thrown when no call policy allows calling `selector` on `target`.
    error NoCallPolicy(address target, bytes4 selector);

    /// @notice Thrown when a transfer sends more than the policy's `maxValuePerUse`.
    error TransferValuePerUseExceeded(address target, uint256 value, uint256 maxValuePerUse);

    /// @notice Thrown when a call sends more than the policy's `maxValuePerUse`.
    error CallValuePerUseExceeded(address target, bytes4 selector, uint256 value, uint256 maxValuePerUse);

    /// @notice Thrown when the userOp's maximum fee exceeds what remains of the fee limit.
    error FeeLimitExceeded(uint256 fee, uint256 remaining);

    /// @notice Thrown when transfers to `target` exceed what remains of the transfer policy's value limit.
    error TransferValueLimitExceeded(address target, uint256 value, uint256 remaining);

    /// @notice Thrown when calls exceed what remains of the call policy's value limit.
    error CallValueLimitExceeded(address target, bytes4 selector, uint256 value, uint256 remaining);

    /// @notice Thrown when the sum of a constrained calldata word exceeds what remains of the constraint's limit.
    error ConstraintLimitExceeded(
        address target, bytes4 selector, uint256 constraintIndex, uint256 amount, uint256 remaining
    );

    /// @notice Thrown when a calldata word breaks its constraint.
    error ConstraintViolated(
        address target, bytes4 selector, uint256 constraintIndex, Condition condition, bytes32 value, bytes32 refValue
    );

    /// @notice Thrown when the calldata is too short to hold the constrained word.
    error ConstraintOutOfBounds(address target, bytes4 selector, uint256 constraintIndex, uint256 index);

    /// @notice Thrown when the userOp signature is not `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signature`.
    error InvalidSessionSignatureEncoding();

    /// @notice Creates a session for the calling account. Only the account itself (msg.sender) can create its
    /// sessions, and only when this module is installed on it as a validator.
    /// @param spec The packed session spec.
    /// @return sessionId `keccak256(spec)`.
    function createSession(bytes calldata spec) external returns (bytes32 sessionId);

    /// @notice Revokes one active session of the calling account.
    /// @param sessionId The id of the session.
    function revokeSession(bytes32 sessionId) external;

    /// @notice Revokes several active sessions of the calling account.
    /// @param sessionIds The ids of the sessions.
    function revokeSessions(bytes32[] calldata sessionIds) external;

    /// @notice Revokes every session of the calling account in O(1) by bumping its session nonce.
    function revokeAllSessions() external;

    /// @notice The id of a packed session spec: `keccak256(spec)`.
    /// @param spec The packed session spec.
    function sessionId(bytes calldata spec) external pure returns (bytes32);

    /// @notice Whether a session of `account` is `None`, `Active` or `Revoked` (individually or by a revoke-all);
    /// expiry is part of the spec: {sessionState} reports `Expired`.
    /// @param account The smart account.
    /// @param sessionId_ The id of the session.
    function sessionStatus(address account, bytes32 sessionId_) external view returns (Status);

    /// @notice The status and the remaining amount of every limit of a session in the current period.
    /// @param account The smart account.
    /// @param spec The packed session spec.
    function sessionState(address account, bytes calldata spec) external view returns (SessionState memory);

    /// @notice The session nonce of `account` (bumped by revoke-all and uninstall).
    /// @param account The smart account.
    function sessionNonce(address account) external view returns (uint256);

    /// @notice The selectors no session may call, on any target (checked at creation and at every use):
    /// `installModule`, `uninstallModule`, `upgradeToAndCall`, `upgradeTo`. The one list the contracts, the client
    /// and the popup share (see docs/interfaces.md).
    function forbiddenSelectors() external pure returns (bytes4[] memory selectors);

    /// @notice The fixed targets no session of `account` may call: the account itself, this validator and the
    /// EntryPoint. Every module installed on the account is forbidden too (see {isForbiddenCall}).
    /// @param account The smart account.
    function forbiddenTargets(address account) external view returns (address[] memory targets);

    /// @notice Whether a session of `account` may never make a call of `data` to `target` now, whatever its
    /// policies: a target of {forbiddenTargets}, a module installed on the account (validator, executor, hook, or
    /// fallback handler of any selector on accounts that answer `isModuleInstalled(3, module, "")` as SsoAccount
    /// does; of the called selector otherwise), one of {forbiddenSelectors}, or 1 to 3 bytes of calldata.
    /// @param account The smart account.
    /// @param target The called address.
    /// @param data The calldata (empty for a plain transfer).
    function isForbiddenCall(address account, address target, bytes calldata data) external view returns (bool);
}
