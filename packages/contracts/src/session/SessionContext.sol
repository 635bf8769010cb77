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
}

/// @title SessionSlot
/// @notice The layout of a session's storage slot in the SessionKeyValidator.
/// @dev Low to high bits: tag (24) ‖ fee spent (80) ‖ fee period tag (24) ‖ counter 1 spent (104) ‖ counter 1
/// period tag (24). The tag: bit 20 set once created, bit 21 set when `epoch` (bits 0..19) is the account's
/// `modulesVersion()` at creation (otherwise it is the account's session nonce then), bit 22 set when revoked one
/// by one. Counters 2k and 2k+1 live in extra slot k (see {UsageCounters}).
library SessionSlot {
    uint256 internal constant TAG_MASK = 0xffffff;
    uint256 internal constant TAG_EXISTS = 1 << 20;
    uint256 internal constant TAG_VERSIONED = 1 << 21;
    uint256 internal constant TAG_REVOKED = 1 << 22;
    uint256 internal constant EPOCH_MASK = (1 << 20) - 1;
    uint256 internal constant FEE_SHIFT = 24;
    uint256 internal constant FEE_BITS = 80;
    uint256 internal constant COUNTER_BITS = 104;
    uint256 internal constant PERIOD_TAG_MASK = 0xffffff;

    uint256 internal constant MAX_FEE_LIMIT = (1 << FEE_BITS) - 1;
    uint256 internal constant MAX_LIMIT = (1 << COUNTER_BITS) - 1;
}
