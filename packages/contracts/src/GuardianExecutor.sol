// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {WebAuthnValidator} from "./WebAuthnValidator.sol";
import {GuardianRegistry} from "./recovery/GuardianRegistry.sol";
import {IGuardianExecutor} from "./recovery/IGuardianExecutor.sol";
import {RecoveryProposalLib} from "./recovery/RecoveryProposalLib.sol";
import {ISessionKeyValidator} from "./session/ISessionKeyValidator.sol";
import {
    IERC7579Execution,
    IERC7579Module,
    MODULE_TYPE_EXECUTOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

// Timestamps are stored narrowed after range checks.
// forge-lint: disable-start(unsafe-typecast, block-timestamp)
/// @title GuardianExecutor
/// @notice ERC-7579 executor (module type 2): guardians recover an account that lost its passkeys by adding a new
/// passkey, after a delay during which the account can cancel.
/// @dev **Guardians.** The account (`msg.sender`, i.e. a userOp validated by one of its passkeys: a session can't
/// call this module, the SessionKeyValidator forbids every installed module as a target) proposes guardians, at
/// most {MAX_GUARDIANS} (proposed and accepted together); a guardian accepts by a call or by an EIP-712
/// `AcceptGuardian(address account,address guardian,uint256 proposal)` signature that anyone may submit. A guardian
/// is an EOA or a contract checked through ERC-1271 (OpenZeppelin SignatureChecker), e.g. another SSO account.
/// The threshold m satisfies 0 < m <= accepted guardians ({GuardianRegistry} holds the guardian bookkeeping and
/// the storage).
///
/// **Recovery.** A {IGuardianExecutor-RecoveryProposal} (see {RecoveryProposalLib}) names the new passkey with its
/// proof of possession (its assertion over `WebAuthnValidator.registrationChallenge(account, credentialId)`),
/// passkeys to remove and whether to revoke every session. Its id is the EIP-712 struct hash `ApproveRecovery(address account,uint256 nonce,bytes
/// credentialId,bytes32 x,bytes32 y,string rpId,string origin,bytes proof,bytes[] removedCredentialIds,bool
/// revokeSessions)`; guardians approve it by calls or by signatures of that struct. One recovery at a time: a
/// guardian's new proposal replaces one that has not reached the threshold (so a single guardian can't block the
/// others, who can also submit all their signatures in one call), never one that has. When `threshold` accepted
/// guardians approved, the recovery is scheduled: `readyAt = now + delay` (the account's delay, {MIN_DELAY} ..
/// {MAX_DELAY}, {DEFAULT_DELAY} until set), `expiresAt = readyAt + RECOVERY_WINDOW`, and the account's recovery nonce
/// moves (older signatures die). Until it is finalized the account can cancel it; changing the guardians (removing an
/// accepted one) or the threshold cancels it too. From `readyAt` until `expiresAt` (excluded) anyone can finalize it;
/// after that it can only be cleared.
///
/// **Finalization** executes through the account (`executeFromExecutor`, one batch) exactly: WebAuthnValidator
/// `addPasskey(credentialId, x, y, rpId, origin, proof)` (the validator checks the proof: the passkey is Proven),
/// then `removePasskey(id)` for each listed id the account still has, then, when chosen and the SessionKeyValidator
/// is installed, its `revokeAllSessions()`. Guardians can do nothing else with the account.
///
/// **Storage** (not upgradeable, plain mappings keyed by the account): one configuration slot, two slots for the
/// pending recovery (its id; approvals, nonce, times), one slot per guardian address and one per (account,
/// guardian) entry. Installing with empty data writes nothing (the factory installs it in every account).
contract GuardianExecutor is IGuardianExecutor, IERC7579Module, GuardianRegistry {
    /// @notice The shortest recovery delay an account can set.
    uint256 public constant MIN_DELAY = 1 hours;

    /// @notice The longest recovery delay an account can set.
    uint256 public constant MAX_DELAY = 30 days;

    /// @notice The recovery delay of an account that never set one.
    uint256 public constant DEFAULT_DELAY = 24 hours;

    /// @notice How long a recovery can be finalized once its delay ended; it expires after that.
    uint256 public constant RECOVERY_WINDOW = 7 days;

    /// @notice The most passkeys one recovery can remove.
    uint256 public constant MAX_REMOVED_PASSKEYS = RecoveryProposalLib.MAX_REMOVED_PASSKEYS;

    /// @notice The EIP-712 type of a recovery approval; its struct hash is the recovery id.
    bytes32 public constant APPROVE_RECOVERY_TYPEHASH = RecoveryProposalLib.APPROVE_RECOVERY_TYPEHASH;

    /// @notice The validator the new passkey is added to (and lost ones removed from).
    WebAuthnValidator public immutable webAuthnValidator;

    /// @notice The validator whose sessions a recovery may revoke.
    ISessionKeyValidator public immutable sessionKeyValidator;

    /// @dev ERC-7579 batch call, default exec type.
    bytes32 private constant _BATCH_MODE = bytes32(uint256(0x01) << 248);

    /// @param webAuthnValidator_ The WebAuthnValidator.
    /// @param sessionKeyValidator_ The SessionKeyValidator.
    constructor(WebAuthnValidator webAuthnValidator_, ISessionKeyValidator sessionKeyValidator_)
        EIP712("GuardianExecutor", "1")
    {
        webAuthnValidator = webAuthnValidator_;
        sessionKeyValidator = sessionKeyValidator_;
    }

    // ------------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Called by the account when it installs the module. Nothing to set up (no guardian, threshold 0,
    /// default delay); `data` is ignored.
    function onInstall(bytes calldata) external {}

    /// @notice Called by the account when it uninstalls the module: cancels its pending recovery and forgets its
    /// guardians, threshold and delay. The recovery nonce and the guardian proposal count stay, so signatures
    /// given before can't be replayed after a re-install.
    function onUninstall(bytes calldata) external {
        address account = msg.sender;
        _cancel(account);
        _forgetGuardians(account);
    }

    /// @notice This module is an executor (type 2) only.
    /// @param moduleTypeId ERC-7579 module type.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Configuration (msg.sender is the account)
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IGuardianExecutor
    function setRecoveryDelay(uint256 delay) external {
        // Not installed, nothing keeps the account's own setting from a session (only installed modules are banned
        // targets), and the delay would outlive a later install.
        _checkInstalled(msg.sender);
        if (delay < MIN_DELAY || delay > MAX_DELAY) revert InvalidDelay(delay, MIN_DELAY, MAX_DELAY);
        _accounts[msg.sender].config.delay = uint32(delay);
        emit RecoveryDelayChanged(msg.sender, delay);
    }

    /// @inheritdoc IGuardianExecutor
    function cancelRecovery() external {
        if (_accounts[msg.sender].pending.id == 0) revert NoPendingRecovery(msg.sender);
        _cancel(msg.sender);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Recovery (msg.sender or the signers are accepted guardians)
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IGuardianExecutor
    function startRecovery(address account, RecoveryProposal calldata proposal) external returns (bytes32 id) {
        uint256 slot = _acceptedSlotOf(account, msg.sender);
        id = _open(account, proposal, msg.sender);
        _approve(account, id, slot, msg.sender);
    }

    /// @inheritdoc IGuardianExecutor
    function approveRecovery(address account, bytes32 id) external {
        uint256 slot = _acceptedSlotOf(account, msg.sender);
        Pending memory pending = _accounts[account].pending;
        if (pending.id == 0 || pending.id != id) revert UnknownRecovery(account, id);
        _approve(account, id, slot, msg.sender);
    }

    /// @inheritdoc IGuardianExecutor
    function approveRecoveryWithSignatures(
        address account,
        RecoveryProposal calldata proposal,
        GuardianSignature[] calldata signatures
    ) external returns (bytes32 id) {
        if (signatures.length == 0) revert NoGuardianSignatures();
        // Checked before anything is written (ERC-1271 checks are static calls).
        bytes32 pendingId = _accounts[account].pending.id;
        id = pendingId != 0 && _isPendingProposal(account, proposal)
            ? pendingId
            : RecoveryProposalLib.id(account, _accounts[account].config.nonce, proposal);
        bytes32 digest = _hashTypedDataV4(id);
        uint256[] memory slots = new uint256[](signatures.length);
        for (uint256 i = 0; i < signatures.length; ++i) {
            address guardian = signatures[i].guardian;
            slots[i] = _acceptedSlotOf(account, guardian);
            if (!SignatureChecker.isValidSignatureNowCalldata(guardian, digest, signatures[i].signature)) {
                revert InvalidGuardianSignature(account, guardian);
            }
        }
        if (id != pendingId) _open(account, proposal, signatures[0].guardian);
        for (uint256 i = 0; i < signatures.length; ++i) {
            _approve(account, id, slots[i], signatures[i].guardian);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Anyone
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IGuardianExecutor
    function finalizeRecovery(address account, RecoveryProposal calldata proposal) external {
        Pending memory pending = _accounts[account].pending;
        if (pending.id == 0) revert NoPendingRecovery(account);
        bytes32 id = RecoveryProposalLib.id(account, pending.nonce, proposal);
        if (id != pending.id) revert UnknownRecovery(account, id);
        if (pending.readyAt == 0) revert RecoveryNotScheduled(account, id);
        if (block.timestamp < pending.readyAt) revert RecoveryNotReady(account, id, pending.readyAt);
        uint256 expiresAt = uint256(pending.readyAt) + RECOVERY_WINDOW;
        if (block.timestamp >= expiresAt) revert RecoveryWindowClosed(account, id, expiresAt);

        delete _accounts[account].pending;
        IERC7579Execution(account)
            .executeFromExecutor(
                _BATCH_MODE,
                abi.encode(RecoveryProposalLib.calls(webAuthnValidator, sessionKeyValidator, account, proposal))
            );
        emit RecoveryFinalized(account, id);
    }

    /// @inheritdoc IGuardianExecutor
    function expireRecovery(address account) external {
        Pending memory pending = _accounts[account].pending;
        if (pending.id == 0) revert NoPendingRecovery(account);
        uint256 expiresAt = _expiresAt(pending);
        if (expiresAt == 0 || block.timestamp < expiresAt) revert RecoveryNotExpired(account, pending.id, expiresAt);
        delete _accounts[account].pending;
        emit RecoveryExpired(account, pending.id);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IGuardianExecutor
    function recoveryDelay(address account) public view returns (uint256) {
        uint256 delay = _accounts[account].config.delay;
        return delay == 0 ? DEFAULT_DELAY : delay;
    }

    /// @inheritdoc IGuardianExecutor
    function recoveryNonce(address account) external view returns (uint256) {
        return _accounts[account].config.nonce;
    }

    /// @inheritdoc IGuardianExecutor
    function recoveryState(address account) external view returns (RecoveryState memory state) {
        AccountState storage account_ = _accounts[account];
        Pending memory pending = account_.pending;
        if (pending.id == 0) return state;
        state.id = pending.id;
        state.nonce = pending.nonce;
        state.approvals = _count(pending.approvals & account_.config.acceptedSlots);
        state.startedAt = pending.startedAt;
        state.readyAt = pending.readyAt;
        state.expiresAt = _expiresAt(pending);
        if (pending.readyAt == 0) state.status = RecoveryStatus.Approving;
        else if (block.timestamp < pending.readyAt) state.status = RecoveryStatus.Delayed;
        else if (block.timestamp < state.expiresAt) state.status = RecoveryStatus.Ready;
        else state.status = RecoveryStatus.Expired;
    }

    /// @inheritdoc IGuardianExecutor
    function hasApproved(address account, address guardian) external view returns (bool) {
        uint256 entry = _entries[account][guardian];
        return entry != 0 && _accounts[account].pending.approvals & (1 << ((entry & 0xff) - 1)) != 0;
    }

    /// @inheritdoc IGuardianExecutor
    function recoveryId(address account, uint256 nonce, RecoveryProposal calldata proposal)
        external
        pure
        returns (bytes32)
    {
        return RecoveryProposalLib.id(account, nonce, proposal);
    }

    /// @inheritdoc IGuardianExecutor
    function approvalDigest(bytes32 id) external view returns (bytes32) {
        return _hashTypedDataV4(id);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Makes the recovery of `proposal` the pending one unless it already is: clears an expired recovery,
    /// replaces one below the threshold, refuses while one is scheduled. `guardian` is reported as its starter.
    function _open(address account, RecoveryProposal calldata proposal, address guardian) private returns (bytes32 id) {
        AccountState storage state = _accounts[account];
        Pending memory pending = state.pending;
        uint64 nonce = state.config.nonce;
        id = RecoveryProposalLib.id(account, nonce, proposal);
        if (pending.id == id) return id;
        if (pending.id != 0) {
            if (pending.readyAt == 0) {
                emit RecoveryCancelled(account, pending.id, msg.sender);
            } else {
                if (block.timestamp < _expiresAt(pending)) revert RecoveryInProgress(account, pending.id);
                emit RecoveryExpired(account, pending.id);
            }
        }
        RecoveryProposalLib.check(webAuthnValidator, account, proposal);
        state.pending = Pending({id: id, approvals: 0, nonce: nonce, startedAt: uint48(block.timestamp), readyAt: 0});
        emit RecoveryStarted(account, id, guardian, proposal);
    }

    /// @dev Records the approval of the guardian in `slot` for the pending recovery `id`; schedules it when the
    /// approvals reach the threshold.
    function _approve(address account, bytes32 id, uint256 slot, address guardian) private {
        AccountState storage state = _accounts[account];
        Pending memory pending = state.pending;
        uint256 bit = 1 << slot;
        if (pending.approvals & bit != 0) revert AlreadyApproved(account, id, guardian);
        if (pending.readyAt != 0) {
            uint256 expiresAt = _expiresAt(pending);
            if (block.timestamp >= expiresAt) revert RecoveryWindowClosed(account, id, expiresAt);
        }
        pending.approvals = uint16(pending.approvals | bit);
        Config memory config = state.config;
        uint256 approvals = _count(pending.approvals);
        emit RecoveryApproved(account, id, guardian, approvals);
        if (pending.readyAt == 0 && approvals >= config.threshold) {
            uint256 readyAt = block.timestamp + recoveryDelay(account);
            pending.readyAt = uint48(readyAt);
            // Signatures gathered for other proposals of this nonce die with it.
            ++state.config.nonce;
            emit RecoveryScheduled(account, id, readyAt, readyAt + RECOVERY_WINDOW);
        }
        state.pending = pending;
    }

    /// @dev Drops the pending recovery of `account`, if any. One below the threshold also moves the nonce: the
    /// account said no, so the signatures gathered for it must die.
    function _cancel(address account) internal override {
        AccountState storage state = _accounts[account];
        Pending memory pending = state.pending;
        if (pending.id == 0) return;
        if (pending.readyAt == 0) ++state.config.nonce;
        delete state.pending;
        emit RecoveryCancelled(account, pending.id, account);
    }

    /// @dev Whether `proposal` is the pending recovery's (computed with the pending recovery's nonce).
    function _isPendingProposal(address account, RecoveryProposal calldata proposal) private view returns (bool) {
        Pending memory pending = _accounts[account].pending;
        return RecoveryProposalLib.id(account, pending.nonce, proposal) == pending.id;
    }

    /// @dev The end of a scheduled recovery's window (0 before the threshold).
    function _expiresAt(Pending memory pending) private pure returns (uint256) {
        return pending.readyAt == 0 ? 0 : uint256(pending.readyAt) + RECOVERY_WINDOW;
    }
}
// forge-lint: disable-end(unsafe-typecast, block-timestamp)
