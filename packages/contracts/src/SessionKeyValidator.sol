// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IScopedValidator} from "./modules/IScopedValidator.sol";
import {IVersionedValidator} from "./modules/IVersionedValidator.sol";
import {ISessionKeyValidator} from "./session/ISessionKeyValidator.sol";
import {SessionContext, SessionSlot} from "./session/SessionContext.sol";
import {SessionFastPath} from "./session/SessionFastPath.sol";
import {SessionPolicies} from "./session/SessionPolicies.sol";
import {SessionSigner} from "./session/SessionSigner.sol";
import {SessionSpecLib} from "./session/SessionSpecLib.sol";
import {SessionTargets} from "./session/SessionTargets.sol";
import {UsageCounters} from "./session/UsageCounters.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {
    IERC7579ModuleConfig,
    IERC7579Validator,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

// Casts below narrow values that are range-checked first (timestamps, bounded limits).
// forge-lint: disable-start(unsafe-typecast)
/// @title SessionKeyValidator
/// @notice ERC-7579 validator (module type 1) that lets a key held by a dapp send userOps for an account within
/// an on-chain policy: expiry, a fee limit, call policies (target, selector, value, calldata constraints) and
/// transfer policies, each amount capped by a usage limit (unlimited, lifetime or per-period allowance).
///
/// @dev This contract holds the sessions' storage and lifecycle (create, validate, revoke, views); the rules live
/// under `session/`: the policy checks in the {SessionPolicies} base, and internal libraries for the packed spec and
/// its readers ({SessionSpecLib}), the userOp signature ({SessionSigner}), the forbidden targets and selectors
/// ({SessionTargets}), the fee and limit counters ({UsageCounters}) and the session slot layout ({SessionSlot}).
///
/// **Specs.** A spec travels packed (see {SessionSpecLib} and docs/interfaces.md): fixed-width big-endian
/// fields, no padding. The session id is `keccak256(spec)`. The account creates a session by calling
/// {createSession} itself (`msg.sender` is the account), which checks every rule and the exact layout; only the id
/// and one slot of state are stored, the spec travels in every session userOp signature and in {SessionCreated}.
/// Since an id is only ever active for bytes that passed those checks, validation reads the spec without bounds
/// checks.
///
/// **UserOp signature** (`userOp.signature`, the validator is selected through the nonce key as usual):
/// `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature` (see {SessionSigner}), where `timestamp` is the
/// current time claimed by the signer (the latest block time): it selects the period of every `Allowance` limit the
/// userOp consumes (`periodIndex = timestamp / period`) and must not be past `expiresAt`.
///
/// **Time.** Validation cannot read TIMESTAMP (ERC-7562), so time is carried by the returned validation data: the
/// userOp is valid from the latest start of the allowance periods it consumed until `validUntil` = the earliest of
/// `expiresAt` and the ends of those periods (EntryPoint v0.8 accepts `validAfter < block.timestamp <= validUntil`,
/// so `validAfter` is that start - 1, or 0). The EntryPoint rejects the userOp outside that window, so a wrong
/// claimed period can never be charged on chain. The window is never unbounded (`validUntil` is never 0: a claim
/// whose period would end at time 0 reverts `InvalidTimestamp`) and never extends past `expiresAt`.
///
/// **Fee.** When the userOp has no paymaster, `fee = maxFeePerGas × (verificationGasLimit + callGasLimit +
/// preVerificationGas)` (the most the account can pay the EntryPoint) is counted against `feeLimit`. With a paymaster
/// the account pays no gas and nothing is counted. `feeLimit` may not be `Unlimited`.
///
/// **Calls.** `userOp.callData` must be the account's ERC-7579 `execute` (see {SessionPolicies}); every call must
/// match a policy. A session may never call the targets of {forbiddenTargets} (the account itself, this validator,
/// the EntryPoint: deposits, stake, withdrawals) or any module installed on the account (`isModuleInstalled` of every type; fallback handlers
/// of any selector through `isModuleInstalled(3, target, "")`, which SsoAccount answers, and of the called
/// selector), nor use the selectors of {forbiddenSelectors} on any target. Checked at creation and again at every
/// use: the session records the account's `modulesVersion()` (SsoAccount bumps it on every install and uninstall)
/// and a use repeats the `isModuleInstalled` calls only when it changed, or when the account has no such counter.
///
/// **Storage** is ERC-7562-friendly: every slot is keyed by the account as the innermost mapping key. Per session:
/// one slot with the state tag, the fee counter and as many of the limits' counters as fit, each as wide as its limit
/// needs (the first always fits; with amounts below 2^64, two or three do), so most sessions touch one slot per
/// userOp; the counters that don't fit are packed the same way into extra slots ({UsageCounters}). A counter is
/// `spent` plus, for an allowance, a 24-bit period tag `(timestamp / period) mod 2^24`; a new tag resets `spent` (an
/// older period cannot land: its window is past).
/// Per account: what revoke-all moved (a nonce, and for accounts with `modulesVersion()` the version below which
/// sessions are revoked: revoke-all bumps the account's version through `bumpModulesVersion()`). That slot is only
/// read when the account's modules version moved since the session was created, or the account has none: an
/// unchanged version means no module change and no revoke-all since creation.
///
/// **Fast path.** From SsoAccount's entry ({validateUserOpWithKnownVersion}), a plain ETH transfer under a Lifetime
/// fee limit is first tried by {SessionFastPath}, which validates that one shape in a single pass and hands anything
/// else, every failure included, to the general path; both give the same answer and state.
///
/// **Errors.** A bad signer signature returns `SIG_VALIDATION_FAILED` (so gas estimation with a dummy signature
/// works); every policy violation reverts with a custom error naming the rule, which the bundler returns to the
/// client during simulation.
contract SessionKeyValidator is
    ISessionKeyValidator,
    IERC7579Validator,
    IScopedValidator,
    IVersionedValidator,
    SessionPolicies
{
    using SessionSpecLib for bytes;
    using UsageCounters for mapping(bytes32 => mapping(address => uint256));

    /// @dev What revoke-all moved: sessions of an unversioned epoch other than `nonce`, and versioned sessions of
    /// an epoch below `revokedBeforeVersion`, are revoked.
    struct AccountState {
        uint32 nonce;
        uint32 revokedBeforeVersion;
    }

    mapping(address account => AccountState) private _accounts;
    mapping(bytes32 sessionId => mapping(address account => uint256)) private _sessions;
    mapping(bytes32 counterKey => mapping(address account => uint256)) private _counters;

    // ---------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Called by the account when it installs the module. Nothing to set up; `data` is ignored.
    function onInstall(bytes calldata) external override {}

    /// @notice Called by the account when it uninstalls the module: revokes every session of the account.
    function onUninstall(bytes calldata) external override {
        _revokeAll(msg.sender, true);
    }

    /// @notice This module is a validator (type 1) only.
    function isModuleType(uint256 moduleTypeId) external pure override returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    /// @notice True: a session can never change the account's configuration (install or uninstall modules, upgrade,
    /// call its modules), so the account never counts this validator as one that can sign for it.
    function isScopedValidator() external pure override returns (bool) {
        return true;
    }

    /// @notice True: SsoAccount passes its `modulesVersion()` ({validateUserOpWithKnownVersion}) instead of being
    /// called back for it.
    function isVersionedValidator() external pure override returns (bool) {
        return true;
    }

    /// @notice Validates a session userOp of the calling account (see the contract documentation for the
    /// signature encoding). Returns `SIG_VALIDATION_FAILED` for a bad signer signature and reverts with a custom
    /// error for any policy violation. Asks the account its `modulesVersion()` when the session is versioned.
    /// @param userOp The user operation; `userOp.signature` is `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ sig`.
    /// @param userOpHash The hash the account asks to validate.
    /// @return validationData Packed signature result and the `validAfter` / `validUntil` window.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        override
        returns (uint256 validationData)
    {
        return _validateUserOp(userOp, userOpHash, false, 0);
    }

    /// @notice {validateUserOp} with the calling account's current `modulesVersion()` given by the account (its word
    /// about its own modules, as its answer to `modulesVersion()` would be): no call back into the account. A plain
    /// ETH transfer is first tried on {SessionFastPath}.
    /// @param userOp The user operation.
    /// @param userOpHash The hash the account asks to validate.
    /// @param modulesVersion The calling account's `modulesVersion()` now.
    /// @return validationData Packed signature result and the `validAfter` / `validUntil` window.
    function validateUserOpWithKnownVersion(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        uint256 modulesVersion
    ) external override returns (uint256 validationData) {
        uint256 sessions;
        bool plainTransfer;
        assembly ("memory-safe") {
            sessions := _sessions.slot
            // An 88-byte callData (executePacked_ezig: selector ‖ mode ‖ target ‖ value) or a 164-byte one (the ABI
            // encoding of execute(bytes32, target ‖ value)): worth the fast path's try.
            let callDataLength := calldataload(add(userOp, calldataload(add(userOp, 0x60))))
            plainTransfer := or(eq(callDataLength, 88), eq(callDataLength, 164))
        }
        if (plainTransfer) {
            bool handled;
            (handled, validationData) = SessionFastPath.tryTransfer(userOp, userOpHash, modulesVersion, sessions);
            if (handled) return validationData;
        }
        return _validateUserOp(userOp, userOpHash, true, modulesVersion);
    }

    function _validateUserOp(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        bool versionGiven,
        uint256 modulesVersion
    ) internal returns (uint256 validationData) {
        (bytes calldata spec, uint256 timestamp, bytes calldata signerSignature) = SessionSigner.split(userOp.signature);
        (SessionContext memory ctx, uint256 slot) = _loadActiveSession(spec, timestamp, versionGiven, modulesVersion);
        bool signatureValid = SessionSigner.verify(spec, SessionSigner.digest(userOpHash, ctx.id), signerSignature);
        uint256 feeLimitWord = spec.word(ctx.header + 6);
        uint256 feeSpentBits;
        (feeSpentBits, ctx.cursor) = UsageCounters.feeCounter(feeLimitWord);
        if (userOp.paymasterAndData.length == 0) UsageCounters.consumeFee(ctx, feeLimitWord, feeSpentBits, userOp);
        _checkExecution(ctx, spec, userOp.callData, versionGiven);
        uint256 word = ctx.word;
        assembly ("memory-safe") {
            sstore(slot, word) // _sessions[ctx.id][msg.sender]
        }
        // The op is valid from ctx.validAfter to ctx.validUntil inclusive (every consumed period, the expiry);
        // EntryPoint v0.8 accepts `validAfter < block.timestamp <= validUntil`, hence validAfter - 1 (0 stays 0).
        // validUntil is at least the claimed time, so it is 0 only for a 1-second period claimed at time 0, which
        // the EntryPoint would read as "forever".
        uint256 validAfter = ctx.validAfter;
        uint256 validUntil = ctx.validUntil;
        if (validUntil == 0) revert InvalidTimestamp(uint48(timestamp));
        // Both fit 48 bits: validAfter <= timestamp <= validUntil <= expiresAt (all uint48). Bit 0: signature failed.
        assembly ("memory-safe") {
            validAfter := sub(validAfter, iszero(iszero(validAfter)))
            validationData := or(or(shl(208, validAfter), shl(160, validUntil)), iszero(signatureValid))
        }
    }

    /// @notice Sessions do not sign messages: always returns `0xffffffff`.
    function isValidSignatureWithSender(address, bytes32, bytes calldata) external pure override returns (bytes4) {
        return 0xffffffff;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Session management (called by the account)
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ISessionKeyValidator
    function createSession(bytes calldata spec) external returns (bytes32 id) {
        address account = msg.sender;
        if (!IERC7579ModuleConfig(account).isModuleInstalled(MODULE_TYPE_VALIDATOR, address(this), "")) {
            revert SessionValidatorNotInstalled(account);
        }
        _validateSpec(account, spec);

        id = spec.hash();
        uint256 tag = _sessions[id][account] & SessionSlot.TAG_MASK;
        AccountState memory accountState = _accounts[account];
        // A session revoked by a revoke-all may be created again (with fresh counters); one revoked alone may not.
        if (tag != 0 && !_revokedByAll(accountState, tag)) revert SessionAlreadyExists(id);
        (bool versioned, uint256 version) = SessionTargets.modulesVersion(account);
        if (versioned && version >= accountState.revokedBeforeVersion && version <= SessionSlot.EPOCH_MASK) {
            tag = SessionSlot.TAG_EXISTS | SessionSlot.TAG_VERSIONED | version;
        } else {
            if (accountState.nonce > SessionSlot.EPOCH_MASK) revert SessionNonceExhausted();
            tag = SessionSlot.TAG_EXISTS | accountState.nonce;
        }
        _sessions[id][account] = tag;
        emit SessionCreated(account, id, spec);
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeSession(bytes32 id) external {
        _revoke(msg.sender, id);
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeSessions(bytes32[] calldata ids) external {
        for (uint256 i = 0; i < ids.length; ++i) {
            _revoke(msg.sender, ids[i]);
        }
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeAllSessions() external {
        _revokeAll(msg.sender, false);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ISessionKeyValidator
    function sessionId(bytes calldata spec) external pure returns (bytes32) {
        return keccak256(spec);
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionStatus(address account, bytes32 id) public view returns (Status) {
        uint256 tag = _sessions[id][account] & SessionSlot.TAG_MASK;
        if (tag == 0) return Status.None;
        if (tag & SessionSlot.TAG_REVOKED != 0 || _revokedByAll(_accounts[account], tag)) return Status.Revoked;
        return Status.Active;
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionState(address account, bytes calldata spec) external view returns (SessionState memory state) {
        spec.validateLayout();
        SessionContext memory ctx;
        ctx.account = account;
        ctx.id = keccak256(spec);
        ctx.word = _sessions[ctx.id][account];
        ctx.tag = ctx.word & SessionSlot.TAG_MASK;
        ctx.timestamp = block.timestamp;

        uint256 header = spec.headerSize();
        state.status = sessionStatus(account, ctx.id);
        // forge-lint: disable-next-line(block-timestamp)
        if (state.status == Status.Active && block.timestamp > spec.u48(header)) state.status = Status.Expired;
        uint256 feeLimitWord = spec.word(header + 6);
        (uint256 feeSpentBits, uint256 cursor) = UsageCounters.feeCounter(feeLimitWord);
        state.feeRemaining =
            UsageCounters.remainingIn(ctx, ctx.word, UsageCounters.FIRST_BIT, feeSpentBits, feeLimitWord);

        uint256 p = header + 25;
        state.callPolicies = new CallPolicyState[](spec.u8(p - 1));
        for (uint256 i = 0; i < state.callPolicies.length; ++i) {
            (state.callPolicies[i].valueRemaining, cursor) = _counters.remainingOf(ctx, cursor, spec, p + 37);
            uint256 constraints = spec.u8(p + 55);
            state.callPolicies[i].constraintRemaining = new uint256[](constraints);
            for (uint256 j = 0; j < constraints; ++j) {
                (state.callPolicies[i].constraintRemaining[j], cursor) = _counters.remainingOf(
                    ctx, cursor, spec, p + SessionSpecLib.CALL_POLICY_SIZE + j * SessionSpecLib.CONSTRAINT_SIZE + 35
                );
            }
            p += SessionSpecLib.CALL_POLICY_SIZE + constraints * SessionSpecLib.CONSTRAINT_SIZE;
        }
        state.transferValueRemaining = new uint256[](spec.u8(p));
        p += 1;
        for (uint256 i = 0; i < state.transferValueRemaining.length; ++i) {
            (state.transferValueRemaining[i], cursor) = _counters.remainingOf(ctx, cursor, spec, p + 33);
            p += SessionSpecLib.TRANSFER_POLICY_SIZE;
        }
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionNonce(address account) external view returns (uint256) {
        return _accounts[account].nonce;
    }

    /// @inheritdoc ISessionKeyValidator
    function forbiddenSelectors() external pure returns (bytes4[] memory selectors) {
        return SessionTargets.forbiddenSelectors();
    }

    /// @inheritdoc ISessionKeyValidator
    function forbiddenTargets(address account) external view returns (address[] memory targets) {
        return SessionTargets.forbiddenTargets(account);
    }

    /// @inheritdoc ISessionKeyValidator
    function isForbiddenCall(address account, address target, bytes calldata data) external view returns (bool) {
        bool isCall = data.length != 0;
        if (isCall && data.length < 4) return true;
        bytes4 selector = isCall ? bytes4(data) : bytes4(0);
        return SessionTargets.isForbiddenTarget(account, target)
            || (isCall && SessionTargets.isForbiddenSelector(selector))
            || SessionTargets.isInstalledModule(account, target, selector, isCall);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The extra counter slots {SessionPolicies} counts in.
    function _usageCounters() internal view override returns (mapping(bytes32 => mapping(address => uint256)) storage) {
        return _counters;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: sessions
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Loads the session of `spec` for the calling account; reverts unless it is active (created, not revoked
    /// alone nor by a revoke-all) and `timestamp` is not past its expiry. The account's state in this contract is
    /// only read when its modules version moved since creation (or it has none). The version is asked from the
    /// account unless `versionGiven` (then it is `version`). Also returns the storage slot of the session's word.
    function _loadActiveSession(bytes calldata spec, uint256 timestamp, bool versionGiven, uint256 version)
        internal
        view
        returns (SessionContext memory ctx, uint256 slot)
    {
        ctx.account = msg.sender;
        ctx.id = spec.hash();
        mapping(address => uint256) storage accounts = _sessions[ctx.id];
        uint256 word;
        assembly ("memory-safe") {
            // The slot of accounts[msg.sender], as Solidity derives it.
            mstore(0x00, caller())
            mstore(0x20, accounts.slot)
            slot := keccak256(0x00, 0x40)
            word := sload(slot)
        }
        ctx.word = word;
        ctx.tag = ctx.word & SessionSlot.TAG_MASK;
        if (ctx.tag & (SessionSlot.TAG_EXISTS | SessionSlot.TAG_REVOKED) != SessionSlot.TAG_EXISTS) {
            revert SessionNotActive(ctx.id);
        }
        if (ctx.tag & SessionSlot.TAG_VERSIONED != 0) {
            // No module installed, uninstalled or revoke-all since creation: the creation checks still hold.
            bool ok = true;
            if (!versionGiven) (ok, version) = SessionTargets.modulesVersion(msg.sender);
            ctx.modulesUnchanged = ok && version == ctx.tag & SessionSlot.EPOCH_MASK;
        }
        if (!ctx.modulesUnchanged && _revokedByAll(_accounts[msg.sender], ctx.tag)) revert SessionNotActive(ctx.id);
        ctx.header = spec.headerSize();
        uint256 expiresAt = spec.u48(ctx.header);
        if (timestamp > expiresAt) revert SessionExpired(ctx.id, uint48(expiresAt));
        ctx.timestamp = timestamp;
        ctx.validUntil = expiresAt;
    }

    /// @dev Whether a session with `tag` was revoked by a revoke-all of the account.
    function _revokedByAll(AccountState memory accountState, uint256 tag) internal pure returns (bool) {
        uint256 epoch = tag & SessionSlot.EPOCH_MASK;
        return
            tag & SessionSlot.TAG_VERSIONED != 0
                ? epoch < accountState.revokedBeforeVersion
                : epoch != accountState.nonce;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: revocation
    // ---------------------------------------------------------------------------------------------------------

    function _revoke(address account, bytes32 id) internal {
        uint256 word = _sessions[id][account];
        if (
            word & (SessionSlot.TAG_EXISTS | SessionSlot.TAG_REVOKED) != SessionSlot.TAG_EXISTS
                || _revokedByAll(_accounts[account], word & SessionSlot.TAG_MASK)
        ) {
            revert SessionNotActive(id);
        }
        _sessions[id][account] = word | SessionSlot.TAG_REVOKED;
        emit SessionRevoked(account, id);
    }

    /// @dev Revokes every session of `account`: moves its nonce (unversioned sessions) and, for an account with a
    /// modules version, revokes the sessions created before the version it bumps to now. While this module is being
    /// uninstalled it cannot bump (it is no longer installed), but the uninstall itself moved the version: sessions
    /// up to the current version are revoked. A versioned account that cannot bump otherwise would keep its
    /// sessions on the fast path (which trusts an unchanged version), so revoke-all refuses it.
    function _revokeAll(address account, bool uninstalling) internal {
        AccountState memory accountState = _accounts[account];
        ++accountState.nonce;
        (bool bumped, uint256 version) = SessionTargets.bumpModulesVersion(account);
        if (!bumped) {
            (bool versioned, uint256 current) = SessionTargets.modulesVersion(account);
            if (versioned && !uninstalling) revert ModulesVersionNotBumped(account);
            version = versioned && current < type(uint32).max ? current + 1 : type(uint32).max;
        }
        if (version > type(uint32).max) version = type(uint32).max;
        if (version > accountState.revokedBeforeVersion) accountState.revokedBeforeVersion = uint32(version);
        _accounts[account] = accountState;
        emit AllSessionsRevoked(account, accountState.nonce);
    }
}
// forge-lint: disable-end(unsafe-typecast)
