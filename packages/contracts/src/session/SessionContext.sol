// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The state of one session userOp while the SessionKeyValidator validates it, shared by its rules under
/// `session/`. `word` is the session slot (see {SessionSlot}), written back once at the end; `validAfter` and
/// `validUntil` are the first and last second of the window the userOp is valid in (see docs/interfaces.md).
/// @param account The account validating the userOp (`msg.sender`).
/// @param id The session id (`keccak256(spec)`).
/// @param word The session slot as loaded, then with the counters it holds updated.
/// @param tag The session's tag (the low 24 bits of `word` when loaded).
/// @param header The size of `signerKind ‖ signer` in the spec: the offset of `expiresAt`.
/// @param timestamp The time claimed by the signer.
/// @param validAfter The first second of the validity window.
/// @param validUntil The last second of the validity window.
/// @param modulesUnchanged Whether the account's modules version is the one recorded at creation.
/// @param cursor Where the policies' counters start, after the fee counter (see {UsageCounters}).
struct SessionContext {
    address account;
    bytes32 id;
    uint256 word;
    uint256 tag;
    uint256 header;
    uint256 timestamp;
    uint256 validAfter;
    uint256 validUntil;
    bool modulesUnchanged;
    uint256 cursor;
}

/// @title SessionSlot
/// @notice The layout of a session's storage slot in the SessionKeyValidator.
/// @dev Low to high bits: tag (24) ‖ the fee counter ‖ the policies' counters that fit, each as wide as its limit
/// needs (see {UsageCounters}). The tag: bit 20 set once created, bit 21 set when `epoch` (bits 0..19) is the
/// account's `modulesVersion()` at creation (otherwise it is the account's session nonce then), bit 22 set when
/// revoked one by one. Counters that do not fit live in extra slots.
library SessionSlot {
    uint256 internal constant TAG_MASK = 0xffffff;
    uint256 internal constant TAG_EXISTS = 1 << 20;
    uint256 internal constant TAG_VERSIONED = 1 << 21;
    uint256 internal constant TAG_REVOKED = 1 << 22;
    uint256 internal constant EPOCH_MASK = (1 << 20) - 1;
    uint256 internal constant PERIOD_TAG_MASK = 0xffffff;

    /// @dev The largest fee limit (80 bits) and usage limit (104 bits): a fee counter takes at most 104 bits with its
    /// period tag, a limit's counter at most 128, so both always fit in the session slot after the tag.
    uint256 internal constant MAX_FEE_LIMIT = (1 << 80) - 1;
    uint256 internal constant MAX_LIMIT = (1 << 104) - 1;
}
