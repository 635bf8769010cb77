// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {WebAuthnValidator} from "./WebAuthnValidator.sol";
import {IGuardianExecutor} from "./recovery/IGuardianExecutor.sol";
import {ISessionKeyValidator} from "./session/ISessionKeyValidator.sol";
import {
    Execution,
    IERC7579Execution,
    IERC7579Module,
    IERC7579ModuleConfig,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

// Timestamps and small counters are stored narrowed after range checks.
// forge-lint: disable-start(unsafe-typecast, block-timestamp)
/// @title GuardianExecutor
/// @notice ERC-7579 executor (module type 2): guardians recover an account that lost its passkeys by adding a new
/// passkey, after a delay during which the account can cancel.
/// @dev **Guardians.** The account (`msg.sender`, i.e. a userOp validated by one of its passkeys: a session can't
/// call this module, the SessionKeyValidator forbids every installed module as a target) proposes guardians, at
/// most {MAX_GUARDIANS} (proposed and accepted together); a guardian accepts by a call or by an EIP-712
/// `AcceptGuardian(address account,address guardian,uint256 proposal)` signature that anyone may submit. A guardian
/// is an EOA or a contract checked through ERC-1271 (OpenZeppelin SignatureChecker), e.g. another SSO account.
/// The threshold m satisfies 0 < m <= accepted guardians; the first guardian to accept while none is set makes it 1,
/// removing the last accepted guardian makes it 0, and the account sets it otherwise.
///
/// **Recovery.** A {IGuardianExecutor-RecoveryProposal} names the new passkey with its proof of possession (its
/// assertion over `WebAuthnValidator.registrationChallenge(account, credentialId)`), passkeys to remove and whether to
/// revoke every session. Its id is the EIP-712 struct hash `ApproveRecovery(address account,uint256 nonce,bytes
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
contract GuardianExecutor is IGuardianExecutor, IERC7579Module, EIP712 {
    /// @notice The most guardians (proposed and accepted) an account can have: approvals are a 16-bit set.
    uint256 public constant MAX_GUARDIANS = 16;

    /// @notice The shortest recovery delay an account can set.
    uint256 public constant MIN_DELAY = 1 hours;

    /// @notice The longest recovery delay an account can set.
    uint256 public constant MAX_DELAY = 30 days;

    /// @notice The recovery delay of an account that never set one.
    uint256 public constant DEFAULT_DELAY = 24 hours;

    /// @notice How long a recovery can be finalized once its delay ended; it expires after that.
    uint256 public constant RECOVERY_WINDOW = 7 days;

    /// @notice The most passkeys one recovery can remove.
    uint256 public constant MAX_REMOVED_PASSKEYS = 16;

    /// @notice The EIP-712 type of a recovery approval; its struct hash is the recovery id.
    bytes32 public constant APPROVE_RECOVERY_TYPEHASH = keccak256(
        "ApproveRecovery(address account,uint256 nonce,bytes credentialId,bytes32 x,bytes32 y,string rpId,string origin,bytes proof,bytes[] removedCredentialIds,bool revokeSessions)"
    );

    /// @notice The EIP-712 type of a guardian's acceptance.
    bytes32 public constant ACCEPT_GUARDIAN_TYPEHASH =
        keccak256("AcceptGuardian(address account,address guardian,uint256 proposal)");

    /// @notice The validator the new passkey is added to (and lost ones removed from).
    WebAuthnValidator public immutable webAuthnValidator;

    /// @notice The validator whose sessions a recovery may revoke.
    ISessionKeyValidator public immutable sessionKeyValidator;

    /// @dev ERC-7579 batch call, default exec type.
    bytes32 private constant _BATCH_MODE = bytes32(uint256(0x01) << 248);

    /// @dev The account's guardian configuration (one slot).
    struct Config {
        // Bit i: slot i holds a guardian (proposed or accepted).
        uint16 guardianSlots;
        // Bit i: slot i's guardian accepted.
        uint16 acceptedSlots;
        uint8 threshold;
        // 0: DEFAULT_DELAY.
        uint32 delay;
        // Recovery ids (and approval signatures) bind it; see {recoveryNonce}.
        uint64 nonce;
        // Guardian proposals so far; acceptance signatures bind the number of theirs.
        uint32 guardianProposals;
    }

    /// @dev The pending recovery (two slots); `id == 0` when there is none.
    struct Pending {
        bytes32 id;
        // Bit i: slot i's guardian approved.
        uint16 approvals;
        uint64 nonce;
        uint48 startedAt;
        // 0 until the threshold is reached.
        uint48 readyAt;
    }

    struct AccountState {
        Config config;
        Pending pending;
        address[MAX_GUARDIANS] guardians;
    }

    mapping(address account => AccountState) private _accounts;
    // Per guardian of an account: its slot + 1 in the low byte (0: not a guardian), its proposal number above.
    mapping(address account => mapping(address guardian => uint256 entry)) private _entries;

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
        AccountState storage state = _accounts[account];
        uint256 slots = state.config.guardianSlots;
        for (uint256 i = 0; slots != 0; ++i) {
            if (slots & (1 << i) == 0) continue;
            slots &= ~(1 << i);
            address guardian = state.guardians[i];
            delete _entries[account][guardian];
            delete state.guardians[i];
            emit GuardianRemoved(account, guardian);
        }
        Config storage config = state.config;
        (config.guardianSlots, config.acceptedSlots, config.threshold, config.delay) = (0, 0, 0, 0);
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
    function proposeGuardian(address guardian) external {
        address account = msg.sender;
        _checkInstalled(account);
        if (guardian == address(0) || guardian == account) revert InvalidGuardian(account, guardian);
        if (_entries[account][guardian] != 0) revert GuardianAlreadyExists(account, guardian);
        AccountState storage state = _accounts[account];
        uint256 slots = state.config.guardianSlots;
        if (slots == (1 << MAX_GUARDIANS) - 1) revert TooManyGuardians(account, MAX_GUARDIANS);
        uint256 slot = _lowestFreeSlot(slots);
        uint256 proposal = state.config.guardianProposals + 1;
        state.config.guardianSlots = uint16(slots | (1 << slot));
        state.config.guardianProposals = uint32(proposal);
        state.guardians[slot] = guardian;
        _entries[account][guardian] = (proposal << 8) | (slot + 1);
        emit GuardianProposed(account, guardian, proposal);
    }

    /// @inheritdoc IGuardianExecutor
    function removeGuardian(address guardian) external {
        address account = msg.sender;
        uint256 slot = _slotOf(account, guardian);
        AccountState storage state = _accounts[account];
        Config memory config = state.config;
        uint256 bit = 1 << slot;
        if (config.acceptedSlots & bit != 0) {
            uint256 remaining = _count(config.acceptedSlots) - 1;
            if (remaining != 0 && remaining < config.threshold) {
                revert InvalidThreshold(account, config.threshold, remaining);
            }
            // Its approval may be part of the pending recovery's.
            _cancel(account);
            config = state.config;
            config.acceptedSlots = uint16(config.acceptedSlots & ~bit);
            if (remaining == 0) {
                config.threshold = 0;
                emit ThresholdChanged(account, 0);
            }
        }
        config.guardianSlots = uint16(config.guardianSlots & ~bit);
        state.config = config;
        delete state.guardians[slot];
        delete _entries[account][guardian];
        emit GuardianRemoved(account, guardian);
    }

    /// @inheritdoc IGuardianExecutor
    function setThreshold(uint256 threshold_) external {
        address account = msg.sender;
        Config storage config = _accounts[account].config;
        uint256 accepted = _count(config.acceptedSlots);
        if (threshold_ == 0 || threshold_ > accepted) revert InvalidThreshold(account, threshold_, accepted);
        _cancel(account);
        config.threshold = uint8(threshold_);
        emit ThresholdChanged(account, threshold_);
    }

    /// @inheritdoc IGuardianExecutor
    function setRecoveryDelay(uint256 delay) external {
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
    // Guardians
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IGuardianExecutor
    function acceptGuardian(address account) external {
        _accept(account, msg.sender, _slotOf(account, msg.sender));
    }

    /// @inheritdoc IGuardianExecutor
    function acceptGuardianWithSignature(address account, address guardian, bytes calldata signature) external {
        uint256 slot = _slotOf(account, guardian);
        if (!SignatureChecker.isValidSignatureNowCalldata(guardian, acceptanceDigest(account, guardian), signature)) {
            revert InvalidGuardianSignature(account, guardian);
        }
        _accept(account, guardian, slot);
    }

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
            : _recoveryId(account, _accounts[account].config.nonce, proposal);
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
        bytes32 id = _recoveryId(account, pending.nonce, proposal);
        if (id != pending.id) revert UnknownRecovery(account, id);
        if (pending.readyAt == 0) revert RecoveryNotScheduled(account, id);
        if (block.timestamp < pending.readyAt) revert RecoveryNotReady(account, id, pending.readyAt);
        uint256 expiresAt = uint256(pending.readyAt) + RECOVERY_WINDOW;
        if (block.timestamp >= expiresAt) revert RecoveryWindowClosed(account, id, expiresAt);

        delete _accounts[account].pending;
        IERC7579Execution(account).executeFromExecutor(_BATCH_MODE, abi.encode(_recoveryCalls(account, proposal)));
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
    function guardiansOf(address account) external view returns (address[] memory guardians, bool[] memory accepted) {
        AccountState storage state = _accounts[account];
        Config memory config = state.config;
        uint256 count = _count(config.guardianSlots);
        guardians = new address[](count);
        accepted = new bool[](count);
        uint256 n = 0;
        for (uint256 i = 0; n < count; ++i) {
            if (config.guardianSlots & (1 << i) == 0) continue;
            guardians[n] = state.guardians[i];
            accepted[n] = config.acceptedSlots & (1 << i) != 0;
            ++n;
        }
    }

    /// @inheritdoc IGuardianExecutor
    function guardianStatus(address account, address guardian)
        external
        view
        returns (GuardianStatus status, uint256 proposal)
    {
        uint256 entry = _entries[account][guardian];
        if (entry == 0) return (GuardianStatus.None, 0);
        uint256 slot = (entry & 0xff) - 1;
        bool accepted = _accounts[account].config.acceptedSlots & (1 << slot) != 0;
        return (accepted ? GuardianStatus.Accepted : GuardianStatus.Proposed, entry >> 8);
    }

    /// @inheritdoc IGuardianExecutor
    function threshold(address account) external view returns (uint256) {
        return _accounts[account].config.threshold;
    }

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
        return _recoveryId(account, nonce, proposal);
    }

    /// @inheritdoc IGuardianExecutor
    function approvalDigest(bytes32 id) external view returns (bytes32) {
        return _hashTypedDataV4(id);
    }

    /// @inheritdoc IGuardianExecutor
    function acceptanceDigest(address account, address guardian) public view returns (bytes32) {
        uint256 proposal = _entries[account][guardian] >> 8;
        return _hashTypedDataV4(keccak256(abi.encode(ACCEPT_GUARDIAN_TYPEHASH, account, guardian, proposal)));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Reverts unless `account` reports this module installed as an executor (false for non-accounts).
    function _checkInstalled(address account) private view {
        (bool ok, bytes memory result) = account.staticcall(
            abi.encodeCall(IERC7579ModuleConfig.isModuleInstalled, (MODULE_TYPE_EXECUTOR, address(this), ""))
        );
        if (!ok || result.length < 32 || abi.decode(result, (uint256)) != 1) revert ExecutorNotInstalled(account);
    }

    /// @dev The slot of a guardian (proposed or accepted) of `account`.
    function _slotOf(address account, address guardian) private view returns (uint256) {
        uint256 entry = _entries[account][guardian];
        if (entry == 0) revert GuardianNotFound(account, guardian);
        return (entry & 0xff) - 1;
    }

    /// @dev The slot of an accepted guardian of `account`.
    function _acceptedSlotOf(address account, address guardian) private view returns (uint256 slot) {
        uint256 entry = _entries[account][guardian];
        if (entry == 0) revert GuardianNotAccepted(account, guardian);
        slot = (entry & 0xff) - 1;
        if (_accounts[account].config.acceptedSlots & (1 << slot) == 0) revert GuardianNotAccepted(account, guardian);
    }

    function _accept(address account, address guardian, uint256 slot) private {
        uint256 bit = 1 << slot;
        Config storage config = _accounts[account].config;
        if (config.acceptedSlots & bit != 0) revert GuardianAlreadyAccepted(account, guardian);
        config.acceptedSlots = uint16(config.acceptedSlots | bit);
        emit GuardianAccepted(account, guardian);
        if (config.threshold == 0) {
            config.threshold = 1;
            emit ThresholdChanged(account, 1);
        }
    }

    /// @dev Makes the recovery of `proposal` the pending one unless it already is: clears an expired recovery,
    /// replaces one below the threshold, refuses while one is scheduled. `guardian` is reported as its starter.
    function _open(address account, RecoveryProposal calldata proposal, address guardian) private returns (bytes32 id) {
        AccountState storage state = _accounts[account];
        Pending memory pending = state.pending;
        uint64 nonce = state.config.nonce;
        id = _recoveryId(account, nonce, proposal);
        if (pending.id == id) return id;
        if (pending.id != 0) {
            if (pending.readyAt == 0) {
                emit RecoveryCancelled(account, pending.id, msg.sender);
            } else {
                if (block.timestamp < _expiresAt(pending)) revert RecoveryInProgress(account, pending.id);
                emit RecoveryExpired(account, pending.id);
            }
        }
        _checkProposal(account, proposal);
        state.pending = Pending({id: id, approvals: 0, nonce: nonce, startedAt: uint48(block.timestamp), readyAt: 0});
        emit RecoveryStarted(account, id, guardian, proposal);
    }

    /// @dev Refuses what could never be finalized for its own content: a bad proof, too many removals, or removing
    /// the new passkey. (Finalization applies the WebAuthnValidator's rules again.)
    function _checkProposal(address account, RecoveryProposal calldata proposal) private view {
        uint256 removals = proposal.removedCredentialIds.length;
        if (removals > MAX_REMOVED_PASSKEYS) revert TooManyRemovedPasskeys(removals, MAX_REMOVED_PASSKEYS);
        bytes32 credentialIdHash = keccak256(proposal.credentialId);
        for (uint256 i = 0; i < removals; ++i) {
            if (keccak256(proposal.removedCredentialIds[i]) == credentialIdHash) {
                revert RemovesNewPasskey(proposal.credentialId);
            }
        }
        if (!_isValidProof(account, proposal, credentialIdHash)) {
            revert InvalidPasskeyProof(account, proposal.credentialId);
        }
    }

    /// @dev Whether the proposal's proof is an assertion by its passkey over the account's registration challenge
    /// for that credential (at its current registration nonce).
    function _isValidProof(address account, RecoveryProposal calldata proposal, bytes32 credentialIdHash)
        private
        view
        returns (bool)
    {
        bytes calldata proof = proposal.proof;
        // The signature names its credential by its 4-byte key: the first 4 bytes of the credential id hash.
        if (proof.length < 4 || bytes4(proof[0:4]) != bytes4(credentialIdHash)) return false;
        bytes32 challenge = webAuthnValidator.registrationChallenge(account, proposal.credentialId);
        return webAuthnValidator.verifyWithKey(proposal.x, proposal.y, proposal.rpId, proposal.origin, challenge, proof);
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
    function _cancel(address account) private {
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
        return _recoveryId(account, pending.nonce, proposal) == pending.id;
    }

    /// @dev The calls finalization makes the account execute: add the passkey, remove the listed ones it still has,
    /// revoke every session when chosen (and the SessionKeyValidator is installed; uninstalling it revoked them).
    function _recoveryCalls(address account, RecoveryProposal calldata proposal)
        private
        view
        returns (Execution[] memory calls)
    {
        uint256 removals = proposal.removedCredentialIds.length;
        calls = new Execution[](removals + 2);
        calls[0] = Execution(
            address(webAuthnValidator),
            0,
            abi.encodeCall(
                WebAuthnValidator.addPasskey,
                (proposal.credentialId, proposal.x, proposal.y, proposal.rpId, proposal.origin, proposal.proof)
            )
        );
        uint256 n = 1;
        for (uint256 i = 0; i < removals; ++i) {
            bytes calldata credentialId = proposal.removedCredentialIds[i];
            if (webAuthnValidator.passkeyCommitment(account, credentialId) == 0) continue;
            calls[n++] = Execution(
                address(webAuthnValidator), 0, abi.encodeCall(WebAuthnValidator.removePasskey, (credentialId))
            );
        }
        if (
            proposal.revokeSessions
                && IERC7579ModuleConfig(account)
                    .isModuleInstalled(MODULE_TYPE_VALIDATOR, address(sessionKeyValidator), "")
        ) {
            calls[n++] = Execution(
                address(sessionKeyValidator), 0, abi.encodeCall(ISessionKeyValidator.revokeAllSessions, ())
            );
        }
        assembly ("memory-safe") {
            mstore(calls, n)
        }
    }

    function _recoveryId(address account, uint256 nonce, RecoveryProposal calldata proposal)
        private
        pure
        returns (bytes32)
    {
        uint256 removals = proposal.removedCredentialIds.length;
        bytes32[] memory removedHashes = new bytes32[](removals);
        for (uint256 i = 0; i < removals; ++i) {
            removedHashes[i] = keccak256(proposal.removedCredentialIds[i]);
        }
        return keccak256(
            abi.encode(
                APPROVE_RECOVERY_TYPEHASH,
                account,
                nonce,
                keccak256(proposal.credentialId),
                proposal.x,
                proposal.y,
                keccak256(bytes(proposal.rpId)),
                keccak256(bytes(proposal.origin)),
                keccak256(proposal.proof),
                keccak256(abi.encodePacked(removedHashes)),
                proposal.revokeSessions
            )
        );
    }

    /// @dev The end of a scheduled recovery's window (0 before the threshold).
    function _expiresAt(Pending memory pending) private pure returns (uint256) {
        return pending.readyAt == 0 ? 0 : uint256(pending.readyAt) + RECOVERY_WINDOW;
    }

    function _lowestFreeSlot(uint256 slots) private pure returns (uint256 slot) {
        while (slots & (1 << slot) != 0) {
            ++slot;
        }
    }

    /// @dev The number of set bits.
    function _count(uint256 bits) private pure returns (uint256 n) {
        for (; bits != 0; bits &= bits - 1) {
            ++n;
        }
    }
}
// forge-lint: disable-end(unsafe-typecast, block-timestamp)
