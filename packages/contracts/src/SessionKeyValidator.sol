// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "./session/ISessionKeyValidator.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {CallType, ERC7579Utils, ExecType} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {
    Execution,
    IERC7579Execution,
    IERC7579Module,
    IERC7579ModuleConfig,
    IERC7579Validator,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

// Casts below narrow values that are range-checked first (timestamps, bounded limits) or take the leading
// bytes of calldata on purpose (selectors, addresses).
// forge-lint: disable-start(unsafe-typecast)
/// @title SessionKeyValidator
/// @notice ERC-7579 validator (module type 1) that lets a key held by a dapp send userOps for an account within
/// an on-chain policy: expiry, a fee limit, call policies (target, selector, value, calldata constraints) and
/// transfer policies, each amount capped by a usage limit (unlimited, lifetime or per-period allowance).
///
/// @dev **Sessions.** The account creates a session by calling {createSession} itself (`msg.sender` is the
/// account). Only `keccak256(abi.encode(spec))` (the session id) and one packed slot of state are stored; the spec
/// travels in every session userOp signature and in the {SessionCreated} event. Limits are tracked per session per
/// account, one storage slot per limit (`spent`, `periodIndex`); the fee counter shares the session's slot.
///
/// **UserOp signature** (`userOp.signature`, the validator is selected through the nonce key as usual):
/// `abi.encode(SessionSpec spec, uint48 timestamp, bytes signerSignature)` where
/// - `spec` is the full session spec (its hash must be an active session of the account);
/// - `timestamp` is the current time claimed by the signer (the latest block time): it selects the period of every
///   `Allowance` limit the userOp consumes (`periodIndex = timestamp / period`) and must not be past `expiresAt`;
/// - `signerSignature` signs `digest = keccak256(abi.encode(userOpHash, sessionId))`:
///   * secp256k1 signer (20-byte `signer`): a 65-byte `r ‖ s ‖ v` ECDSA signature over `digest` itself (no prefix);
///   * P-256 signer (64-byte `signer` = `x ‖ y`): a 64-byte `r ‖ s` signature over `sha256(digest)`, i.e. what
///     WebCrypto's `sign({ name: 'ECDSA', hash: 'SHA-256' }, key, digest)` returns for the 32 digest bytes. High-s
///     signatures are accepted (normalised here), so WebCrypto output needs no post-processing.
///
/// **Time.** Validation cannot read TIMESTAMP (ERC-7562), so time is carried by the returned validation data: the
/// userOp is valid from `validAfter` = the latest start of the allowance periods it consumed, until `validUntil` =
/// the earliest of `expiresAt` and the ends of those periods. The EntryPoint rejects the userOp outside that
/// window, so a wrong claimed period can never be charged on chain. A userOp that consumes no allowance is valid
/// from 0 to `expiresAt`.
///
/// **Fee.** When the userOp has no paymaster, `fee = maxFeePerGas × (verificationGasLimit + callGasLimit +
/// preVerificationGas)` (the most the account can pay the EntryPoint) is counted against `feeLimit`. With a paymaster
/// the account pays no gas and nothing is counted. `feeLimit` may not be `Unlimited`.
///
/// **Calls.** `userOp.callData` must be the account's ERC-7579 `execute(bytes32 mode, bytes executionCalldata)` with
/// a single or batch call type (default or try exec type; no delegatecall). Every call must match a policy: empty
/// calldata -> the transfer policy of `target`; otherwise the call policy of (`target`, selector). A session may
/// never call the account itself, this validator, the EntryPoint (deposits, stake, withdrawals) or any module
/// installed on the account (`isModuleInstalled` of every type; fallback handlers are checked for the called
/// selector), nor use the install/uninstall/upgrade selectors: checked at creation and again at every use, since
/// modules can be installed later.
///
/// **Errors.** A bad signer signature returns `SIG_VALIDATION_FAILED` (so gas estimation with a dummy signature
/// works); every policy violation reverts with a custom error naming the rule, which the bundler returns to the
/// client during simulation.
///
/// **Storage** is ERC-7562-friendly: every slot read or written in validation is keyed by the account as the
/// innermost mapping key (or the only key).
contract SessionKeyValidator is ISessionKeyValidator, IERC7579Validator {
    /// @dev The canonical ERC-4337 v0.8 EntryPoint: a session may never call it.
    address internal constant ENTRY_POINT = 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108;

    uint8 private constant _STATE_NONE = 0;
    uint8 private constant _STATE_ACTIVE = 1;
    uint8 private constant _STATE_REVOKED = 2;

    uint256 private constant _KIND_TRANSFER = 1;
    uint256 private constant _KIND_CALL_VALUE = 2;
    uint256 private constant _KIND_CONSTRAINT = 3;

    /// @dev Selectors a session may never call on any target.
    bytes4 private constant _INSTALL_MODULE = IERC7579ModuleConfig.installModule.selector;
    bytes4 private constant _UNINSTALL_MODULE = IERC7579ModuleConfig.uninstallModule.selector;
    bytes4 private constant _UPGRADE_TO_AND_CALL = bytes4(keccak256("upgradeToAndCall(address,bytes)"));
    bytes4 private constant _UPGRADE_TO = bytes4(keccak256("upgradeTo(address)"));

    uint256 private constant _MAX_FEE_LIMIT = type(uint104).max;
    uint256 private constant _MAX_LIMIT = type(uint208).max;

    /// @dev One slot per session per account. `nonce` is the account's session nonce at creation; the fee
    /// counter lives here so a session userOp touches one slot less.
    struct SessionRecord {
        uint8 state;
        uint48 nonce;
        uint48 expiresAt;
        uint104 feeSpent;
        uint48 feePeriod;
    }

    /// @dev One slot per limit per session per account.
    struct Usage {
        uint208 spent;
        uint48 period;
    }

    /// @dev Per-userOp validation context; `validAfter` / `validUntil` narrow as allowances are consumed.
    struct Context {
        address account;
        bytes32 id;
        uint48 nonce;
        uint48 timestamp;
        uint48 validAfter;
        uint48 validUntil;
    }

    mapping(address account => uint48) private _nonces;
    mapping(bytes32 sessionId => mapping(address account => SessionRecord)) private _sessions;
    mapping(bytes32 usageKey => mapping(address account => Usage)) private _usage;

    // ---------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Called by the account when it installs the module. Nothing to set up; `data` is ignored.
    function onInstall(bytes calldata) external override {}

    /// @notice Called by the account when it uninstalls the module: revokes every session of the account.
    function onUninstall(bytes calldata) external override {
        _revokeAll(msg.sender);
    }

    /// @notice This module is a validator (type 1) only.
    function isModuleType(uint256 moduleTypeId) external pure override returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    /// @notice Validates a session userOp of the calling account (see the contract documentation for the
    /// signature encoding). Returns `SIG_VALIDATION_FAILED` for a bad signer signature and reverts with a custom
    /// error for any policy violation.
    /// @param userOp The user operation; `userOp.signature` is `abi.encode(SessionSpec, uint48, bytes)`.
    /// @param userOpHash The hash the account asks to validate.
    /// @return validationData Packed signature result and the `validAfter` / `validUntil` window.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        override
        returns (uint256 validationData)
    {
        (SessionSpec calldata spec, bytes32 id, uint48 timestamp, bytes calldata signerSignature) =
            _decodeSignature(userOp.signature);
        Context memory ctx = _loadActiveSession(msg.sender, id, spec.expiresAt);
        if (timestamp > spec.expiresAt) revert SessionExpired(ctx.id, spec.expiresAt);
        ctx.timestamp = timestamp;

        bool signatureValid = _verifySigner(spec.signer, keccak256(abi.encode(userOpHash, ctx.id)), signerSignature);

        if (userOp.paymasterAndData.length == 0) {
            uint256 fee = ERC4337Utils.maxFeePerGas(userOp)
                * (ERC4337Utils.verificationGasLimit(userOp)
                    + ERC4337Utils.callGasLimit(userOp)
                    + userOp.preVerificationGas);
            _consumeFee(ctx, spec.feeLimit, fee);
        }
        _checkExecution(ctx, spec, userOp.callData);

        return ERC4337Utils.packValidationData(signatureValid, ctx.validAfter, ctx.validUntil);
    }

    /// @notice Sessions do not sign messages: always returns `0xffffffff`.
    function isValidSignatureWithSender(address, bytes32, bytes calldata) external pure override returns (bytes4) {
        return 0xffffffff;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Session management (called by the account)
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ISessionKeyValidator
    function createSession(SessionSpec calldata spec) external returns (bytes32 id) {
        address account = msg.sender;
        if (!IERC7579ModuleConfig(account).isModuleInstalled(MODULE_TYPE_VALIDATOR, address(this), "")) {
            revert SessionValidatorNotInstalled(account);
        }
        _validateSpec(account, spec);

        id = keccak256(abi.encode(spec));
        uint48 nonce = _nonces[account];
        SessionRecord storage record = _sessions[id][account];
        if (record.state != _STATE_NONE && record.nonce == nonce) revert SessionAlreadyExists(id);
        _sessions[id][account] =
            SessionRecord({state: _STATE_ACTIVE, nonce: nonce, expiresAt: spec.expiresAt, feeSpent: 0, feePeriod: 0});
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
        _revokeAll(msg.sender);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ISessionKeyValidator
    function sessionId(SessionSpec calldata spec) external pure returns (bytes32) {
        return keccak256(abi.encode(spec));
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionStatus(address account, bytes32 id) public view returns (Status) {
        SessionRecord memory record = _sessions[id][account];
        if (record.state == _STATE_NONE) return Status.None;
        if (record.state == _STATE_REVOKED || record.nonce != _nonces[account]) return Status.Revoked;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > record.expiresAt) return Status.Expired;
        return Status.Active;
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionState(address account, SessionSpec calldata spec)
        external
        view
        returns (SessionState memory state)
    {
        bytes32 id = keccak256(abi.encode(spec));
        SessionRecord memory record = _sessions[id][account];
        Context memory ctx = Context({
            account: account,
            id: id,
            nonce: record.nonce,
            timestamp: uint48(block.timestamp),
            validAfter: 0,
            validUntil: type(uint48).max
        });
        state.status = sessionStatus(account, id);
        state.feeRemaining = _remaining(spec.feeLimit, record.feeSpent, record.feePeriod);

        state.callPolicies = new CallPolicyState[](spec.callPolicies.length);
        for (uint256 i = 0; i < spec.callPolicies.length; ++i) {
            CallPolicy calldata policy = spec.callPolicies[i];
            state.callPolicies[i].valueRemaining = _remainingOf(ctx, _KIND_CALL_VALUE, i, 0, policy.valueLimit);
            uint256[] memory constraintRemaining = new uint256[](policy.constraints.length);
            for (uint256 j = 0; j < policy.constraints.length; ++j) {
                constraintRemaining[j] = _remainingOf(ctx, _KIND_CONSTRAINT, i, j, policy.constraints[j].limit);
            }
            state.callPolicies[i].constraintRemaining = constraintRemaining;
        }

        state.transferValueRemaining = new uint256[](spec.transferPolicies.length);
        for (uint256 i = 0; i < spec.transferPolicies.length; ++i) {
            state.transferValueRemaining[i] =
                _remainingOf(ctx, _KIND_TRANSFER, i, 0, spec.transferPolicies[i].valueLimit);
        }
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionNonce(address account) external view returns (uint256) {
        return _nonces[account];
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: validation
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Decodes `abi.encode(SessionSpec spec, uint48 timestamp, bytes signerSignature)` in place (no copy) and
    /// returns the session id hashed from the raw spec bytes: `keccak256(0x20 ‖ signature[specOffset:sigOffset])`,
    /// which equals `keccak256(abi.encode(spec))` for the canonical encoding (spec tail first, then the signature).
    /// Any other encoding hashes to an id that was never created. When the id matches, the hashed bytes are the
    /// canonical encoding of an approved spec, whose inner offsets all point inside those bytes, so `spec` reads
    /// exactly what the account approved.
    function _decodeSignature(bytes calldata signature)
        internal
        pure
        returns (SessionSpec calldata spec, bytes32 id, uint48 timestamp, bytes calldata signerSignature)
    {
        if (signature.length < 0x60) revert InvalidSessionSignatureEncoding();
        uint256 specOffset = uint256(bytes32(signature[0x00:0x20]));
        uint256 claimedTime = uint256(bytes32(signature[0x20:0x40]));
        uint256 sigOffset = uint256(bytes32(signature[0x40:0x60]));
        // A spec head is 7 words; a bytes head is its length word.
        if (
            claimedTime > type(uint48).max || specOffset > signature.length || sigOffset > signature.length
                || signature.length - sigOffset < 0x20 || sigOffset < specOffset || sigOffset - specOffset < 0xe0
        ) revert InvalidSessionSignatureEncoding();
        uint256 sigLength = uint256(bytes32(signature[sigOffset:sigOffset + 0x20]));
        if (sigLength > signature.length - sigOffset - 0x20) revert InvalidSessionSignatureEncoding();
        signerSignature = signature[sigOffset + 0x20:sigOffset + 0x20 + sigLength];
        timestamp = uint48(claimedTime);
        assembly ("memory-safe") {
            spec := add(signature.offset, specOffset)
            let m := mload(0x40)
            let length := sub(sigOffset, specOffset)
            mstore(m, 0x20)
            calldatacopy(add(m, 0x20), spec, length)
            id := keccak256(m, add(length, 0x20))
        }
    }

    /// @dev Loads the session `id` of `account`; reverts unless it is active in the current nonce.
    function _loadActiveSession(address account, bytes32 id, uint48 expiresAt)
        internal
        view
        returns (Context memory ctx)
    {
        SessionRecord storage record = _sessions[id][account];
        uint48 nonce = _nonces[account];
        if (record.state != _STATE_ACTIVE || record.nonce != nonce) revert SessionNotActive(id);
        ctx = Context({account: account, id: id, nonce: nonce, timestamp: 0, validAfter: 0, validUntil: expiresAt});
    }

    /// @dev Verifies the session signer's signature of `digest` (see the contract documentation).
    function _verifySigner(bytes calldata signer, bytes32 digest, bytes calldata signature)
        internal
        view
        returns (bool)
    {
        if (signer.length == 20) {
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
            return err == ECDSA.RecoverError.NoError && recovered == address(bytes20(signer));
        }
        if (signer.length == 64 && signature.length == 64) {
            bytes32 r = bytes32(signature[0x00:0x20]);
            uint256 s = uint256(bytes32(signature[0x20:0x40]));
            // WebCrypto does not normalise s; (r, N - s) is the same signature.
            if (s > P256.N / 2 && s < P256.N) s = P256.N - s;
            return P256.verify(
                sha256(abi.encodePacked(digest)), r, bytes32(s), bytes32(signer[0x00:0x20]), bytes32(signer[0x20:0x40])
            );
        }
        return false;
    }

    /// @dev Checks every call of the account's `execute(bytes32,bytes)` calldata against the session's policies.
    function _checkExecution(Context memory ctx, SessionSpec calldata spec, bytes calldata callData) internal {
        (bytes32 mode, bytes calldata executionCalldata) = _decodeExecute(callData);
        bytes1 callType = mode[0];
        bytes1 execType = mode[1];
        if (
            execType != ExecType.unwrap(ERC7579Utils.EXECTYPE_DEFAULT)
                && execType != ExecType.unwrap(ERC7579Utils.EXECTYPE_TRY)
        ) revert UnsupportedExecutionMode(mode);

        if (callType == CallType.unwrap(ERC7579Utils.CALLTYPE_SINGLE)) {
            (address target, uint256 value, bytes calldata data) = ERC7579Utils.decodeSingle(executionCalldata);
            _checkCall(ctx, spec, target, value, data);
        } else if (callType == CallType.unwrap(ERC7579Utils.CALLTYPE_BATCH)) {
            Execution[] calldata batch = ERC7579Utils.decodeBatch(executionCalldata);
            for (uint256 i = 0; i < batch.length; ++i) {
                Execution calldata execution = batch[i];
                _checkCall(ctx, spec, execution.target, execution.value, execution.callData);
            }
        } else {
            revert UnsupportedExecutionMode(mode);
        }
    }

    /// @dev Decodes `execute(bytes32 mode, bytes executionCalldata)` exactly as the account's ABI decoder reads it
    /// (head offset, then length word), so the calls checked here are the calls the account executes.
    function _decodeExecute(bytes calldata callData)
        internal
        pure
        returns (bytes32 mode, bytes calldata executionCalldata)
    {
        bytes4 selector = bytes4(callData);
        if (callData.length < 0x44 || selector != IERC7579Execution.execute.selector) {
            revert UnsupportedCallData(selector);
        }
        mode = bytes32(callData[0x04:0x24]);
        uint256 offset = uint256(bytes32(callData[0x24:0x44]));
        if (offset > callData.length) revert UnsupportedCallData(selector);
        uint256 lengthAt = 0x04 + offset;
        uint256 length = uint256(bytes32(callData[lengthAt:lengthAt + 0x20]));
        executionCalldata = callData[lengthAt + 0x20:lengthAt + 0x20 + length];
    }

    /// @dev Checks one call (target, value, data) of the userOp and counts it against its policy's limits.
    function _checkCall(
        Context memory ctx,
        SessionSpec calldata spec,
        address target,
        uint256 value,
        bytes calldata data
    ) internal {
        if (data.length == 0) {
            _checkTarget(ctx.account, target, bytes4(0), false);
            _checkTransfer(ctx, spec.transferPolicies, target, value);
        } else {
            if (data.length < 4) revert InvalidCallData(target);
            _checkTarget(ctx.account, target, bytes4(data), true);
            _checkFunctionCall(ctx, spec.callPolicies, target, value, data);
        }
    }

    function _checkTransfer(Context memory ctx, TransferPolicy[] calldata policies, address target, uint256 value)
        internal
    {
        for (uint256 i = 0; i < policies.length; ++i) {
            TransferPolicy calldata policy = policies[i];
            if (policy.target != target) continue;
            if (value > policy.maxValuePerUse) {
                revert TransferValuePerUseExceeded(target, value, policy.maxValuePerUse);
            }
            (bool ok, uint256 remaining) = _consume(ctx, _usageKey(ctx, _KIND_TRANSFER, i, 0), policy.valueLimit, value);
            if (!ok) revert TransferValueLimitExceeded(target, value, remaining);
            return;
        }
        revert NoTransferPolicy(target);
    }

    function _checkFunctionCall(
        Context memory ctx,
        CallPolicy[] calldata policies,
        address target,
        uint256 value,
        bytes calldata data
    ) internal {
        bytes4 selector = bytes4(data);
        for (uint256 i = 0; i < policies.length; ++i) {
            CallPolicy calldata policy = policies[i];
            if (policy.target != target || policy.selector != selector) continue;
            if (value > policy.maxValuePerUse) {
                revert CallValuePerUseExceeded(target, selector, value, policy.maxValuePerUse);
            }
            (bool ok, uint256 remaining) =
                _consume(ctx, _usageKey(ctx, _KIND_CALL_VALUE, i, 0), policy.valueLimit, value);
            if (!ok) revert CallValueLimitExceeded(target, selector, value, remaining);
            for (uint256 j = 0; j < policy.constraints.length; ++j) {
                _checkConstraint(ctx, policy.constraints[j], i, j, target, data);
            }
            return;
        }
        revert NoCallPolicy(target, selector);
    }

    function _checkConstraint(
        Context memory ctx,
        Constraint calldata constraint,
        uint256 policyIndex,
        uint256 constraintIndex,
        address target,
        bytes calldata data
    ) internal {
        bytes32 word = _constrainedWord(constraint, constraintIndex, target, data);
        if (!_holds(constraint.condition, word, constraint.refValue)) {
            revert ConstraintViolated(
                target, bytes4(data), constraintIndex, constraint.condition, word, constraint.refValue
            );
        }
        bytes32 key = _usageKey(ctx, _KIND_CONSTRAINT, policyIndex, constraintIndex);
        (bool ok, uint256 remaining) = _consume(ctx, key, constraint.limit, uint256(word));
        if (!ok) revert ConstraintLimitExceeded(target, bytes4(data), constraintIndex, uint256(word), remaining);
    }

    /// @dev The calldata word a constraint applies to: bytes `[4 + 32 * index, 36 + 32 * index)`.
    function _constrainedWord(
        Constraint calldata constraint,
        uint256 constraintIndex,
        address target,
        bytes calldata data
    ) internal pure returns (bytes32) {
        uint64 index = constraint.index;
        uint256 start = 4 + 32 * uint256(index);
        if (data.length < start + 32) revert ConstraintOutOfBounds(target, bytes4(data), constraintIndex, index);
        return bytes32(data[start:start + 32]);
    }

    function _holds(Condition condition, bytes32 word, bytes32 refValue) internal pure returns (bool) {
        if (condition == Condition.Unconstrained) return true;
        if (condition == Condition.Equal) return word == refValue;
        if (condition == Condition.NotEqual) return word != refValue;
        if (condition == Condition.Greater) return uint256(word) > uint256(refValue);
        if (condition == Condition.GreaterOrEqual) return uint256(word) >= uint256(refValue);
        if (condition == Condition.Less) return uint256(word) < uint256(refValue);
        return uint256(word) <= uint256(refValue); // LessOrEqual
    }

    /// @dev Reverts when `target` / `selector` is forbidden for any session of `account`.
    function _checkTarget(address account, address target, bytes4 selector, bool isCall) internal view {
        if (target == account || target == address(this) || target == ENTRY_POINT) revert ForbiddenTarget(target);
        if (
            selector == _INSTALL_MODULE || selector == _UNINSTALL_MODULE || selector == _UPGRADE_TO_AND_CALL
                || selector == _UPGRADE_TO
        ) revert ForbiddenSelector(target, selector);
        if (_isInstalledModule(account, target, selector, isCall)) revert ForbiddenTarget(target);
    }

    /// @dev Whether `target` is installed on `account` as a validator, executor, hook or (for a non-zero
    /// call) the fallback handler of the call's `selector`. Plain `isModuleInstalled` static calls into the account
    /// (ERC-7562: the sender's storage), written in assembly to reuse one buffer. A failing call counts as installed.
    function _isInstalledModule(address account, address target, bytes4 selector, bool isCall)
        internal
        view
        returns (bool installed)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            // isModuleInstalled(uint256 moduleTypeId, address module, bytes additionalContext = selector)
            mstore(m, shl(224, 0x112d3a7d))
            mstore(add(m, 0x24), target)
            mstore(add(m, 0x44), 0x60)
            mstore(add(m, 0x64), 4)
            mstore(add(m, 0x84), selector)
            for { let moduleType := 1 } lt(moduleType, 5) { moduleType := add(moduleType, 1) } {
                // Without a selector there is no fallback handler to look up.
                if and(eq(moduleType, 3), iszero(isCall)) { continue }
                mstore(add(m, 0x04), moduleType)
                let ok := staticcall(gas(), account, m, 0xa4, 0x00, 0x20)
                if or(iszero(ok), lt(returndatasize(), 0x20)) {
                    installed := 1
                    break
                }
                if mload(0x00) {
                    installed := 1
                    break
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: limits
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Counts `fee` against the fee limit, whose counter lives in the session record.
    function _consumeFee(Context memory ctx, UsageLimit calldata limit, uint256 fee) internal {
        if (fee == 0) return; // feeLimit is never Unlimited
        SessionRecord storage record = _sessions[ctx.id][ctx.account];
        uint256 spent = record.feeSpent;
        uint256 periodIndex = record.feePeriod;
        if (limit.limitType == LimitType.Allowance) {
            (spent, periodIndex) = _enterPeriod(ctx, limit.period, spent, periodIndex);
        }
        uint256 remaining = limit.limit - spent;
        if (fee > remaining) revert FeeLimitExceeded(fee, remaining);
        record.feeSpent = uint104(spent + fee);
        record.feePeriod = uint48(periodIndex);
    }

    /// @dev Counts `amount` against `limit`; returns false and the remaining amount when it does not fit.
    function _consume(Context memory ctx, bytes32 key, UsageLimit calldata limit, uint256 amount)
        internal
        returns (bool ok, uint256 remaining)
    {
        LimitType limitType = limit.limitType;
        if (limitType == LimitType.Unlimited || amount == 0) return (true, type(uint256).max);
        Usage storage usage = _usage[key][ctx.account];
        uint256 spent = usage.spent;
        uint256 periodIndex = usage.period;
        if (limitType == LimitType.Allowance) {
            (spent, periodIndex) = _enterPeriod(ctx, limit.period, spent, periodIndex);
        }
        remaining = limit.limit - spent;
        if (amount > remaining) return (false, remaining);
        usage.spent = uint208(spent + amount);
        usage.period = uint48(periodIndex);
        return (true, remaining);
    }

    /// @dev Moves an allowance counter to the period of the claimed time and narrows the validity window to it.
    function _enterPeriod(Context memory ctx, uint48 period, uint256 spent, uint256 lastPeriodIndex)
        internal
        pure
        returns (uint256, uint256 periodIndex)
    {
        periodIndex = ctx.timestamp / period;
        if (periodIndex < lastPeriodIndex) revert StalePeriod(ctx.timestamp, period, lastPeriodIndex);
        if (periodIndex > lastPeriodIndex) spent = 0;
        uint256 start = periodIndex * period;
        uint256 end = start + period - 1;
        if (start > ctx.validAfter) ctx.validAfter = uint48(start);
        if (end < ctx.validUntil) ctx.validUntil = uint48(end);
        return (spent, periodIndex);
    }

    /// @dev The remaining amount of `limit` at the context's time.
    function _remainingOf(
        Context memory ctx,
        uint256 kind,
        uint256 policyIndex,
        uint256 constraintIndex,
        UsageLimit calldata limit
    ) internal view returns (uint256) {
        Usage memory usage = _usage[_usageKey(ctx, kind, policyIndex, constraintIndex)][ctx.account];
        return _remaining(limit, usage.spent, usage.period);
    }

    function _remaining(UsageLimit calldata limit, uint256 spent, uint256 periodIndex) internal view returns (uint256) {
        if (limit.limitType == LimitType.Unlimited) return type(uint256).max;
        if (
            limit.limitType == LimitType.Allowance
                // forge-lint: disable-next-line(block-timestamp)
                && (limit.period == 0 || block.timestamp / limit.period != periodIndex)
        ) {
            return limit.limit;
        }
        return limit.limit - spent;
    }

    /// @dev The storage key of one limit of a session: fresh for every (session, nonce) so a session re-created
    /// after a revoke-all starts with clean counters.
    function _usageKey(Context memory ctx, uint256 kind, uint256 policyIndex, uint256 constraintIndex)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(ctx.id, ctx.nonce, kind, policyIndex, constraintIndex));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: creation and revocation
    // ---------------------------------------------------------------------------------------------------------

    function _validateSpec(address account, SessionSpec calldata spec) internal view {
        bytes calldata signer = spec.signer;
        if (
            !(signer.length == 20 && bytes20(signer) != bytes20(0))
                && !(signer.length == 64 && P256.isValidPublicKey(bytes32(signer[0:32]), bytes32(signer[32:64])))
        ) revert InvalidSigner(signer);
        // forge-lint: disable-next-line(block-timestamp)
        if (spec.expiresAt <= block.timestamp) revert InvalidExpiry(spec.expiresAt);
        if (spec.feeLimit.limitType == LimitType.Unlimited) revert UnlimitedFeeLimit();
        _validateLimit(spec.feeLimit, _MAX_FEE_LIMIT);

        CallPolicy[] calldata calls = spec.callPolicies;
        for (uint256 i = 0; i < calls.length; ++i) {
            CallPolicy calldata policy = calls[i];
            _checkTarget(account, policy.target, policy.selector, true);
            for (uint256 k = 0; k < i; ++k) {
                if (calls[k].target == policy.target && calls[k].selector == policy.selector) {
                    revert DuplicatePolicy(policy.target, policy.selector);
                }
            }
            _validateLimit(policy.valueLimit, _MAX_LIMIT);
            for (uint256 j = 0; j < policy.constraints.length; ++j) {
                // Reading the condition validates the enum range.
                Condition condition = policy.constraints[j].condition;
                condition;
                _validateLimit(policy.constraints[j].limit, _MAX_LIMIT);
            }
        }

        TransferPolicy[] calldata transfers = spec.transferPolicies;
        for (uint256 i = 0; i < transfers.length; ++i) {
            address target = transfers[i].target;
            _checkTarget(account, target, bytes4(0), false);
            for (uint256 k = 0; k < i; ++k) {
                if (transfers[k].target == target) revert DuplicatePolicy(target, bytes4(0));
            }
            _validateLimit(transfers[i].valueLimit, _MAX_LIMIT);
        }
    }

    function _validateLimit(UsageLimit calldata limit, uint256 maxLimit) internal pure {
        LimitType limitType = limit.limitType;
        bool valid = limitType == LimitType.Unlimited
            ? limit.limit == 0 && limit.period == 0
            : limit.limit <= maxLimit && (limitType == LimitType.Lifetime ? limit.period == 0 : limit.period != 0);
        if (!valid) revert InvalidUsageLimit(limitType, limit.limit, limit.period, maxLimit);
    }

    function _revoke(address account, bytes32 id) internal {
        SessionRecord storage record = _sessions[id][account];
        if (record.state != _STATE_ACTIVE || record.nonce != _nonces[account]) revert SessionNotActive(id);
        record.state = _STATE_REVOKED;
        emit SessionRevoked(account, id);
    }

    function _revokeAll(address account) internal {
        uint48 nonce = _nonces[account] + 1;
        _nonces[account] = nonce;
        emit AllSessionsRevoked(account, nonce);
    }
}
// forge-lint: disable-end(unsafe-typecast)
