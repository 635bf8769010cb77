// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "./IGuardianExecutor.sol";
import {IERC7579ModuleConfig, MODULE_TYPE_EXECUTOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

// Small counters are stored narrowed after range checks.
// forge-lint: disable-start(unsafe-typecast)
/// @title GuardianRegistry
/// @notice The GuardianExecutor's per-account storage and its guardian bookkeeping: proposing, accepting (by a call
/// or an EIP-712 `AcceptGuardian` signature) and removing guardians, and the threshold (see docs/recovery.md).
/// @dev Guardians live in up to {MAX_GUARDIANS} slots; a slot's bit in `guardianSlots` says it holds a guardian,
/// its bit in `acceptedSlots` that the guardian accepted, and approvals of the pending recovery are a set of the
/// same bits. The threshold m satisfies 0 < m <= accepted guardians; the first guardian to accept while none is set
/// makes it 1, removing the last accepted guardian makes it 0, and the account sets it otherwise. Removing an
/// accepted guardian or setting the threshold cancels the pending recovery ({_cancel}, implemented by the
/// executor).
abstract contract GuardianRegistry is IGuardianExecutor, EIP712 {
    /// @notice The most guardians (proposed and accepted) an account can have: approvals are a 16-bit set.
    uint256 public constant MAX_GUARDIANS = 16;

    /// @notice The EIP-712 type of a guardian's acceptance.
    bytes32 public constant ACCEPT_GUARDIAN_TYPEHASH =
        keccak256("AcceptGuardian(address account,address guardian,uint256 proposal)");

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

    mapping(address account => AccountState) internal _accounts;
    // Per guardian of an account: its slot + 1 in the low byte (0: not a guardian), its proposal number above.
    mapping(address account => mapping(address guardian => uint256 entry)) internal _entries;

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
    function acceptanceDigest(address account, address guardian) public view returns (bytes32) {
        uint256 proposal = _entries[account][guardian] >> 8;
        return _hashTypedDataV4(keccak256(abi.encode(ACCEPT_GUARDIAN_TYPEHASH, account, guardian, proposal)));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Drops the pending recovery of `account`, if any.
    function _cancel(address account) internal virtual;

    /// @dev Forgets every guardian of `account`, its threshold and delay (the recovery nonce and the guardian
    /// proposal count stay).
    function _forgetGuardians(address account) internal {
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

    /// @dev Reverts unless `account` reports this module installed as an executor (false for non-accounts).
    function _checkInstalled(address account) internal view {
        (bool ok, bytes memory result) = account.staticcall(
            abi.encodeCall(IERC7579ModuleConfig.isModuleInstalled, (MODULE_TYPE_EXECUTOR, address(this), ""))
        );
        if (!ok || result.length < 32 || abi.decode(result, (uint256)) != 1) revert ExecutorNotInstalled(account);
    }

    /// @dev The slot of a guardian (proposed or accepted) of `account`.
    function _slotOf(address account, address guardian) internal view returns (uint256) {
        uint256 entry = _entries[account][guardian];
        if (entry == 0) revert GuardianNotFound(account, guardian);
        return (entry & 0xff) - 1;
    }

    /// @dev The slot of an accepted guardian of `account`.
    function _acceptedSlotOf(address account, address guardian) internal view returns (uint256 slot) {
        uint256 entry = _entries[account][guardian];
        if (entry == 0) revert GuardianNotAccepted(account, guardian);
        slot = (entry & 0xff) - 1;
        if (_accounts[account].config.acceptedSlots & (1 << slot) == 0) revert GuardianNotAccepted(account, guardian);
    }

    function _accept(address account, address guardian, uint256 slot) internal {
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

    function _lowestFreeSlot(uint256 slots) internal pure returns (uint256 slot) {
        while (slots & (1 << slot) != 0) {
            ++slot;
        }
    }

    /// @dev The number of set bits.
    function _count(uint256 bits) internal pure returns (uint256 n) {
        for (; bits != 0; bits &= bits - 1) {
            ++n;
        }
    }
}
// forge-lint: disable-end(unsafe-typecast)
