// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IGuardianExecutor
/// @notice Types, events, errors and the external surface of the {GuardianExecutor} recovery module.
/// @dev An account's guardians (EOAs or smart accounts, checked through ERC-1271) approve a proposal that adds a new
/// passkey; once `threshold` of them approved, the proposal waits the account's delay, during which the account
/// can cancel it, then anyone can finalize it within `RECOVERY_WINDOW`. See docs/recovery.md.
interface IGuardianExecutor {
    /// @notice A recovery: the passkey to add and what else finalizing does.
    /// @dev `proof` is the new passkey's WebAuthn signature (the WebAuthnValidator's packed encoding) of
    /// `WebAuthnValidator.registrationChallenge(account, credentialId)` (which names the passkey's registration
    /// nonce on the account): finalizing passes it to `addPasskey`, so the passkey joins as Proven under the
    /// validator's rules.
    struct RecoveryProposal {
        // The new passkey: raw WebAuthn credential id, P-256 key, relying party id and origin.
        bytes credentialId;
        bytes32 x;
        bytes32 y;
        string rpId;
        string origin;
        // Its proof of possession.
        bytes proof;
        // Passkeys of the account to remove after adding the new one (ids no longer registered are skipped).
        bytes[] removedCredentialIds;
        // Whether to revoke every session of the account (SessionKeyValidator revoke-all).
        bool revokeSessions;
    }

    /// @notice A guardian's signature, for the functions that take signatures instead of calls.
    /// @dev `signature` is checked with OpenZeppelin's SignatureChecker: ECDSA for an address without code,
    /// ERC-1271 `isValidSignature` otherwise.
    struct GuardianSignature {
        address guardian;
        bytes signature;
    }

    /// @notice Where a guardian stands for an account.
    enum GuardianStatus {
        None,
        /// Proposed by the account, not accepted yet: it can't approve.
        Proposed,
        /// Accepted: it approves recoveries and counts towards the threshold.
        Accepted
    }

    /// @notice Where the account's pending recovery stands at the current block time.
    enum RecoveryStatus {
        None,
        /// Started, fewer than `threshold` approvals.
        Approving,
        /// Threshold reached, the delay is running: the account can cancel, nobody can finalize.
        Delayed,
        /// Delay elapsed: anyone can finalize until `expiresAt`.
        Ready,
        /// Not finalized in time: it can only be expired (or replaced) now.
        Expired
    }

    /// @notice The pending recovery of an account.
    struct RecoveryState {
        RecoveryStatus status;
        // The recovery id (see {recoveryId}); 0 when there is none.
        bytes32 id;
        // The recovery nonce the id was computed with.
        uint256 nonce;
        // Accepted guardians that approved it.
        uint256 approvals;
        uint256 startedAt;
        // 0 until the threshold is reached; then the delay ends at `readyAt` and the window at `expiresAt`.
        uint256 readyAt;
        uint256 expiresAt;
    }

    /// @notice Emitted when `account` proposed `guardian`; `proposal` numbers the account's guardian proposals (an
    /// acceptance signature names it).
    event GuardianProposed(address indexed account, address indexed guardian, uint256 proposal);

    /// @notice Emitted when `guardian` accepted to guard `account`.
    event GuardianAccepted(address indexed account, address indexed guardian);

    /// @notice Emitted when `account` removed `guardian` (proposed or accepted).
    event GuardianRemoved(address indexed account, address indexed guardian);

    /// @notice Emitted when the threshold of `account` changed (set by the account, set to 1 by the first guardian
    /// to accept while none was set, or to 0 when its last accepted guardian was removed).
    event ThresholdChanged(address indexed account, uint256 threshold);

    /// @notice Emitted when `account` changed its recovery delay.
    event RecoveryDelayChanged(address indexed account, uint256 delay);

    /// @notice Emitted when a recovery of `account` was started (by `guardian`'s call or signature), with what it does.
    event RecoveryStarted(
        address indexed account, bytes32 indexed recoveryId, address indexed guardian, RecoveryProposal proposal
    );

    /// @notice Emitted when `guardian` approved the recovery; `approvals` is the count after this approval.
    event RecoveryApproved(
        address indexed account, bytes32 indexed recoveryId, address indexed guardian, uint256 approvals
    );

    /// @notice Emitted when the recovery reached the threshold: it can be finalized from `readyAt` until
    /// `expiresAt` (excluded), unless cancelled.
    event RecoveryScheduled(address indexed account, bytes32 indexed recoveryId, uint256 readyAt, uint256 expiresAt);

    /// @notice Emitted when the recovery was dropped before finalization: cancelled by the account (explicitly, by
    /// changing its guardians or threshold, or by uninstalling the module) or replaced by a guardian's new
    /// proposal before it reached the threshold. `by` is the account or that guardian (or the submitter of its
    /// signature).
    event RecoveryCancelled(address indexed account, bytes32 indexed recoveryId, address by);

    /// @notice Emitted when the recovery was finalized: the passkey was added (and the chosen removals and
    /// revoke-all done).
    event RecoveryFinalized(address indexed account, bytes32 indexed recoveryId);

    /// @notice Emitted when a recovery that was not finalized within its window was cleared.
    event RecoveryExpired(address indexed account, bytes32 indexed recoveryId);

    /// @notice Thrown when the account has not installed this module as an executor.
    error ExecutorNotInstalled(address account);

    /// @notice Thrown when a guardian is the zero address or the account itself.
    error InvalidGuardian(address account, address guardian);

    /// @notice Thrown when proposing a guardian the account already has (proposed or accepted).
    error GuardianAlreadyExists(address account, address guardian);

    /// @notice Thrown when the account already has {MAX_GUARDIANS} guardians (proposed or accepted).
    error TooManyGuardians(address account, uint256 maxGuardians);

    /// @notice Thrown when `guardian` is neither proposed nor accepted for the account.
    error GuardianNotFound(address account, address guardian);

    /// @notice Thrown when `guardian` accepts twice.
    error GuardianAlreadyAccepted(address account, address guardian);

    /// @notice Thrown when a guardian that has not accepted (or no guardian at all) tries to approve a recovery.
    error GuardianNotAccepted(address account, address guardian);

    /// @notice Thrown when a guardian signature does not verify.
    error InvalidGuardianSignature(address account, address guardian);

    /// @notice Thrown when a threshold is not between 1 and the number of accepted guardians, or when removing a
    /// guardian would leave fewer accepted guardians than the threshold (but at least one).
    error InvalidThreshold(address account, uint256 threshold, uint256 acceptedGuardians);

    /// @notice Thrown when a recovery delay is outside [`minDelay`, `maxDelay`].
    error InvalidDelay(uint256 delay, uint256 minDelay, uint256 maxDelay);

    /// @notice Thrown when a list of guardian signatures is empty.
    error NoGuardianSignatures();

    /// @notice Thrown when a guardian approves the same recovery twice.
    error AlreadyApproved(address account, bytes32 recoveryId, address guardian);

    /// @notice Thrown when starting a recovery while another one reached the threshold and is not expired.
    error RecoveryInProgress(address account, bytes32 recoveryId);

    /// @notice Thrown when the account has no pending recovery.
    error NoPendingRecovery(address account);

    /// @notice Thrown when `recoveryId` (or the proposal given) is not the account's pending recovery.
    error UnknownRecovery(address account, bytes32 recoveryId);

    /// @notice Thrown when finalizing a recovery that has not reached the threshold.
    error RecoveryNotScheduled(address account, bytes32 recoveryId);

    /// @notice Thrown when finalizing a recovery before its delay ended.
    error RecoveryNotReady(address account, bytes32 recoveryId, uint256 readyAt);

    /// @notice Thrown when finalizing (or approving) a recovery whose window closed at `expiresAt`.
    error RecoveryWindowClosed(address account, bytes32 recoveryId, uint256 expiresAt);

    /// @notice Thrown when expiring a recovery that is not expired (`expiresAt` is 0 before the threshold).
    error RecoveryNotExpired(address account, bytes32 recoveryId, uint256 expiresAt);

    /// @notice Thrown when a proposal's proof is not an assertion by its passkey over the account's registration
    /// challenge for that credential id.
    error InvalidPasskeyProof(address account, bytes credentialId);

    /// @notice Thrown when a proposal lists more than {MAX_REMOVED_PASSKEYS} passkeys to remove.
    error TooManyRemovedPasskeys(uint256 count, uint256 maxCount);

    /// @notice Thrown when a proposal would remove the passkey it adds.
    error RemovesNewPasskey(bytes credentialId);

    // ------------------------------------------------------------------------------------------------------------
    // Configuration (msg.sender is the account)
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Proposes `guardian` for the calling account; it guards once it accepts. Requires this module
    /// installed as an executor of the caller.
    /// @param guardian An EOA or a contract that answers ERC-1271 (e.g. another SSO account).
    function proposeGuardian(address guardian) external;

    /// @notice Removes a proposed or accepted guardian of the calling account. Removing an accepted guardian
    /// cancels the pending recovery; removing the last one sets the threshold to 0.
    /// @param guardian The guardian.
    function removeGuardian(address guardian) external;

    /// @notice Sets the calling account's threshold (1 ..= accepted guardians); cancels the pending recovery.
    /// @param threshold The number of accepted guardians that must approve a recovery.
    function setThreshold(uint256 threshold) external;

    /// @notice Sets the calling account's recovery delay, within [{MIN_DELAY}, {MAX_DELAY}]; the account must have
    /// installed this executor (`ExecutorNotInstalled`). A scheduled recovery
    /// keeps the delay it was scheduled with.
    /// @param delay Seconds between reaching the threshold and the first moment a recovery can be finalized.
    function setRecoveryDelay(uint256 delay) external;

    /// @notice Cancels the calling account's pending recovery (whatever its status).
    function cancelRecovery() external;

    // ------------------------------------------------------------------------------------------------------------
    // Guardians
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The caller accepts to guard `account` (it must have been proposed).
    /// @param account The account.
    function acceptGuardian(address account) external;

    /// @notice Accepts for `guardian` with its EIP-712 `AcceptGuardian` signature (anyone may submit it).
    /// @param account The account.
    /// @param guardian The proposed guardian.
    /// @param signature Its signature of {acceptanceDigest}.
    function acceptGuardianWithSignature(address account, address guardian, bytes calldata signature) external;

    /// @notice Starts a recovery of `account` with the caller's approval, or approves it when it is the pending one.
    /// Replaces a pending recovery that has not reached the threshold, and clears an expired one.
    /// @param account The account.
    /// @param proposal What the recovery does.
    /// @return recoveryId Its id.
    function startRecovery(address account, RecoveryProposal calldata proposal) external returns (bytes32 recoveryId);

    /// @notice The caller (an accepted guardian) approves the pending recovery `recoveryId` of `account`.
    /// @param account The account.
    /// @param recoveryId The pending recovery's id.
    function approveRecovery(address account, bytes32 recoveryId) external;

    /// @notice Starts (as {startRecovery}) or approves a recovery with guardians' EIP-712 `ApproveRecovery`
    /// signatures; anyone may submit them. At least one signature.
    /// @param account The account.
    /// @param proposal What the recovery does.
    /// @param signatures Signatures of {approvalDigest} of its id by accepted guardians.
    /// @return recoveryId Its id.
    function approveRecoveryWithSignatures(
        address account,
        RecoveryProposal calldata proposal,
        GuardianSignature[] calldata signatures
    ) external returns (bytes32 recoveryId);

    // ------------------------------------------------------------------------------------------------------------
    // Anyone
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Finalizes the account's scheduled recovery once its delay elapsed and before it expires: the account
    /// (ERC-7579 `executeFromExecutor`) adds the passkey with its proof, removes the listed passkeys it still has and,
    /// if chosen, revokes every session.
    /// @param account The account.
    /// @param proposal The pending recovery's proposal (from {RecoveryStarted}).
    function finalizeRecovery(address account, RecoveryProposal calldata proposal) external;

    /// @notice Clears the account's recovery once its window closed.
    /// @param account The account.
    function expireRecovery(address account) external;

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The account's guardians, proposed and accepted, in slot order.
    /// @param account The account.
    /// @return guardians Their addresses.
    /// @return accepted Whether each one accepted.
    function guardiansOf(address account) external view returns (address[] memory guardians, bool[] memory accepted);

    /// @notice Where `guardian` stands for `account`, and the number of the proposal that made it a guardian.
    /// @param account The account.
    /// @param guardian The guardian.
    function guardianStatus(address account, address guardian)
        external
        view
        returns (GuardianStatus status, uint256 proposal);

    /// @notice The account's threshold (0: no accepted guardian yet).
    /// @param account The account.
    function threshold(address account) external view returns (uint256);

    /// @notice The account's recovery delay in seconds ({DEFAULT_DELAY} until it sets one).
    /// @param account The account.
    function recoveryDelay(address account) external view returns (uint256);

    /// @notice The nonce new recovery ids are computed with. It moves when a recovery reaches the threshold and when
    /// the account cancels one that has not: every approval signature of an older nonce is dead.
    /// @param account The account.
    function recoveryNonce(address account) external view returns (uint256);

    /// @notice The account's pending recovery at the current block time.
    /// @param account The account.
    function recoveryState(address account) external view returns (RecoveryState memory);

    /// @notice Whether `guardian` approved the account's pending recovery.
    /// @param account The account.
    /// @param guardian The guardian.
    function hasApproved(address account, address guardian) external view returns (bool);

    /// @notice The id of a recovery: the EIP-712 struct hash of `ApproveRecovery` with `account` and `nonce`.
    /// @param account The account.
    /// @param nonce The recovery nonce ({recoveryNonce} for a new recovery).
    /// @param proposal What the recovery does.
    function recoveryId(address account, uint256 nonce, RecoveryProposal calldata proposal)
        external
        view
        returns (bytes32);

    /// @notice What a guardian signs to approve `recoveryId`: the EIP-712 digest of this contract's domain.
    /// @param recoveryId_ The recovery id.
    function approvalDigest(bytes32 recoveryId_) external view returns (bytes32);

    /// @notice What `guardian` signs to accept guarding `account` (its current proposal number).
    /// @param account The account.
    /// @param guardian The proposed guardian.
    function acceptanceDigest(address account, address guardian) external view returns (bytes32);
}
