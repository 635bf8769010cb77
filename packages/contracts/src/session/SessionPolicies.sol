// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "./ISessionKeyValidator.sol";
import {SessionContext, SessionSlot} from "./SessionContext.sol";
import {SessionSpecLib} from "./SessionSpecLib.sol";
import {SessionTargets} from "./SessionTargets.sol";
import {UsageCounters} from "./UsageCounters.sol";
import {CallType, ERC7579Utils, ExecType} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {Execution, IERC7579Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title SessionPolicies
/// @notice The rules of a session spec, a base of the SessionKeyValidator: {_validateSpec} checks every rule when a
/// session is created, and {_checkExecution} checks a session userOp's calls against the call policies (target, selector, value, calldata
/// constraints) and transfer policies, counting the amounts against their limits (see docs/interfaces.md).
/// @dev `userOp.callData` must be the account's ERC-7579 `execute(bytes32 mode, bytes executionCalldata)` (or, from
/// SsoAccount's entry, its packed twin `executePacked_ezig`, {EXECUTE_PACKED}) with a
/// single or batch call type (default or try exec type; no delegatecall). Every call must match a policy: empty
/// calldata -> the transfer policy of `target`; otherwise the call policy of (`target`, selector). Each call is
/// checked against {SessionTargets} too.
abstract contract SessionPolicies {
    using SessionSpecLib for bytes;

    /// @dev The validator's extra counter slots (see {UsageCounters}).
    function _usageCounters() internal view virtual returns (mapping(bytes32 => mapping(address => uint256)) storage);

    // ---------------------------------------------------------------------------------------------------------
    // Creation
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Checks the exact layout and every rule of a packed spec for `account`.
    function _validateSpec(address account, bytes calldata spec) internal view {
        spec.validateLayout();
        uint256 signerKind = spec.u8(0);
        if (signerKind == SessionSpecLib.SIGNER_SECP256K1) {
            if (spec.addressAt(1) == address(0)) revert ISessionKeyValidator.InvalidSigner(spec[1:21]);
        } else if (!P256.isValidPublicKey(bytes32(spec[1:33]), bytes32(spec[33:65]))) {
            revert ISessionKeyValidator.InvalidSigner(spec[1:65]);
        }
        uint256 header = signerKind == SessionSpecLib.SIGNER_SECP256K1 ? 21 : 65;
        uint256 expiresAt = spec.u48(header);
        // forge-lint: disable-next-line(block-timestamp,unsafe-typecast)
        if (expiresAt <= block.timestamp) revert ISessionKeyValidator.InvalidExpiry(uint48(expiresAt));
        if (spec.u8(header + 6) == uint256(ISessionKeyValidator.LimitType.Unlimited)) {
            revert ISessionKeyValidator.UnlimitedFeeLimit();
        }
        UsageCounters.validateLimit(spec, header + 6, SessionSlot.MAX_FEE_LIMIT);

        uint256 p = header + 25;
        uint256 count = spec.u8(p - 1);
        uint256[] memory seen = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            address target = spec.addressAt(p);
            bytes4 selector = spec.bytes4At(p + 20);
            SessionTargets.checkTarget(account, target, selector, true, true);
            seen[i] = p;
            for (uint256 k = 0; k < i; ++k) {
                if (spec.addressAt(seen[k]) == target && spec.bytes4At(seen[k] + 20) == selector) {
                    revert ISessionKeyValidator.DuplicatePolicy(target, selector);
                }
            }
            UsageCounters.validateLimit(spec, p + 37, SessionSlot.MAX_LIMIT);
            uint256 constraints = spec.u8(p + 55);
            for (uint256 j = 0; j < constraints; ++j) {
                uint256 c = p + SessionSpecLib.CALL_POLICY_SIZE + j * SessionSpecLib.CONSTRAINT_SIZE;
                UsageCounters.validateLimit(spec, c + 35, SessionSlot.MAX_LIMIT);
            }
            p += SessionSpecLib.CALL_POLICY_SIZE + constraints * SessionSpecLib.CONSTRAINT_SIZE;
        }

        count = spec.u8(p);
        p += 1;
        seen = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            address target = spec.addressAt(p);
            SessionTargets.checkTarget(account, target, bytes4(0), false, true);
            seen[i] = p;
            for (uint256 k = 0; k < i; ++k) {
                if (spec.addressAt(seen[k]) == target) revert ISessionKeyValidator.DuplicatePolicy(target, bytes4(0));
            }
            UsageCounters.validateLimit(spec, p + 33, SessionSlot.MAX_LIMIT);
            p += SessionSpecLib.TRANSFER_POLICY_SIZE;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Use
    // ---------------------------------------------------------------------------------------------------------

    /// @dev SsoAccount's `executePacked_ezig()`: `execute` with calldata `selector ‖ mode ‖ executionCalldata`, under
    /// a selector its dispatch reaches first. Another account could route that selector anywhere (a fallback
    /// handler), so it is taken only from SsoAccount's entry.
    bytes4 internal constant EXECUTE_PACKED = 0x00000017;

    /// @dev Checks every call of the account's `execute(bytes32,bytes)` calldata against the session's policies;
    /// `ssoAccount`: the caller is SsoAccount, whose `executePacked_ezig` is taken as `execute`.
    function _checkExecution(SessionContext memory ctx, bytes calldata spec, bytes calldata callData, bool ssoAccount)
        internal
    {
        uint256 policies = ctx.header + 25; // the first call policy, after the call policy count
        (bytes32 mode, bytes calldata executionCalldata) = _decodeExecute(callData, ssoAccount);
        bytes1 callType = mode[0];
        bytes1 execType = mode[1];
        if (
            execType != ExecType.unwrap(ERC7579Utils.EXECTYPE_DEFAULT)
                && execType != ExecType.unwrap(ERC7579Utils.EXECTYPE_TRY)
        ) revert ISessionKeyValidator.UnsupportedExecutionMode(mode);

        if (callType == CallType.unwrap(ERC7579Utils.CALLTYPE_SINGLE)) {
            (address target, uint256 value, bytes calldata data) = _decodeSingle(executionCalldata);
            _checkCall(ctx, spec, policies, target, value, data);
        } else if (callType == CallType.unwrap(ERC7579Utils.CALLTYPE_BATCH)) {
            Execution[] calldata batch = ERC7579Utils.decodeBatch(executionCalldata);
            for (uint256 i = 0; i < batch.length; ++i) {
                Execution calldata execution = batch[i];
                _checkCall(ctx, spec, policies, execution.target, execution.value, execution.callData);
            }
        } else {
            revert ISessionKeyValidator.UnsupportedExecutionMode(mode);
        }
    }

    /// @dev Decodes `execute(bytes32 mode, bytes executionCalldata)` exactly as the account's ABI decoder reads it
    /// (head offset, then length word, both within `callData`), so the calls checked here are the calls the account
    /// executes; with `ssoAccount`, also `executePacked_ezig` (`selector ‖ mode ‖ executionCalldata`, at least 36
    /// bytes, as the account reads it). Anything else reverts `UnsupportedCallData`.
    function _decodeExecute(bytes calldata callData, bool ssoAccount)
        internal
        pure
        returns (bytes32 mode, bytes calldata executionCalldata)
    {
        bytes4 execute = IERC7579Execution.execute.selector;
        bytes4 packed = EXECUTE_PACKED;
        bool malformed;
        assembly ("memory-safe") {
            let start := callData.offset
            let size := callData.length
            let selector := shr(224, calldataload(start))
            mode := calldataload(add(start, 0x04))
            switch and(ssoAccount, eq(selector, shr(224, packed)))
            case 1 {
                executionCalldata.offset := add(start, 0x24)
                executionCalldata.length := sub(size, 0x24)
                malformed := lt(size, 0x24)
            }
            default {
                let offset := calldataload(add(start, 0x24))
                // offset <= size (checked below) keeps lengthAt and the sums from wrapping.
                let lengthAt := add(0x04, and(offset, 0xffffffffffffffff))
                let length := calldataload(add(start, lengthAt))
                executionCalldata.offset := add(add(start, lengthAt), 0x20)
                executionCalldata.length := length
                malformed := or(
                    or(lt(size, 0x44), xor(selector, shr(224, execute))),
                    or(or(gt(offset, size), gt(length, size)), gt(add(add(lengthAt, 0x20), length), size))
                )
            }
        }
        if (malformed) revert ISessionKeyValidator.UnsupportedCallData(bytes4(callData));
    }

    /// @dev Decodes a single execution `target (20) ‖ value (32) ‖ data` as the account does (shorter than 52 bytes:
    /// `ERC7579DecodingError`).
    function _decodeSingle(bytes calldata executionCalldata)
        internal
        pure
        returns (address target, uint256 value, bytes calldata data)
    {
        if (executionCalldata.length < 52) revert ERC7579Utils.ERC7579DecodingError();
        assembly ("memory-safe") {
            target := shr(96, calldataload(executionCalldata.offset))
            value := calldataload(add(executionCalldata.offset, 20))
            data.offset := add(executionCalldata.offset, 52)
            data.length := sub(executionCalldata.length, 52)
        }
    }

    /// @dev Checks one call (target, value, data) of the userOp against its policy and counts it against the
    /// policy's limits. Walks the policies in spec order, placing the limited counters on the way ({UsageCounters}).
    function _checkCall(
        SessionContext memory ctx,
        bytes calldata spec,
        uint256 p,
        address target,
        uint256 value,
        bytes calldata data
    ) internal {
        bool isCall = data.length != 0;
        if (isCall && data.length < 4) revert ISessionKeyValidator.InvalidCallData(target);
        bytes4 selector = isCall ? bytes4(data) : bytes4(0);
        SessionTargets.checkTarget(ctx.account, target, selector, isCall, !ctx.modulesUnchanged);

        uint256 cursor = ctx.cursor;
        // Offsets stay below the spec's length (< 2^16): no overflow.
        unchecked {
            uint256 count = spec.u8(p - 1);
            for (uint256 i = 0; i < count; ++i) {
                uint256 constraints = spec.u8(p + 55);
                if (isCall && spec.addressAt(p) == target && spec.bytes4At(p + 20) == selector) {
                    _checkFunctionCall(ctx, spec, p, cursor, target, value, data);
                    return;
                }
                cursor = UsageCounters.skipCallPolicy(spec, p, constraints, cursor);
                p += SessionSpecLib.CALL_POLICY_SIZE + constraints * SessionSpecLib.CONSTRAINT_SIZE;
            }
        }
        if (isCall) revert ISessionKeyValidator.NoCallPolicy(target, selector);
        _checkTransfer(ctx, spec, p, cursor, target, value);
    }

    /// @dev Checks a plain transfer against the transfer policies, which start at `p` (their count), and counts
    /// it; `cursor` is where the counters after the call policies' start.
    function _checkTransfer(
        SessionContext memory ctx,
        bytes calldata spec,
        uint256 p,
        uint256 cursor,
        address target,
        uint256 value
    ) internal {
        unchecked {
            uint256 count = spec.u8(p);
            p += 1;
            for (uint256 i = 0; i < count; ++i) {
                if (spec.addressAt(p) == target) {
                    uint256 maxValuePerUse = spec.u104(p + 20);
                    if (value > maxValuePerUse) {
                        revert ISessionKeyValidator.TransferValuePerUseExceeded(target, value, maxValuePerUse);
                    }
                    if (spec.u8(p + 33) == 0) return;
                    (bool ok, uint256 remaining,) =
                        UsageCounters.consume(_usageCounters(), ctx, cursor, spec, p + 33, value);
                    if (!ok) revert ISessionKeyValidator.TransferValueLimitExceeded(target, value, remaining);
                    return;
                }
                cursor = UsageCounters.skip(spec, p + 33, cursor);
                p += SessionSpecLib.TRANSFER_POLICY_SIZE;
            }
        }
        revert ISessionKeyValidator.NoTransferPolicy(target);
    }

    /// @dev Checks a call against the call policy at `p` whose counters start at `cursor`.
    function _checkFunctionCall(
        SessionContext memory ctx,
        bytes calldata spec,
        uint256 p,
        uint256 cursor,
        address target,
        uint256 value,
        bytes calldata data
    ) internal {
        bytes4 selector = bytes4(data);
        unchecked {
            uint256 maxValuePerUse = spec.u104(p + 24);
            if (value > maxValuePerUse) {
                revert ISessionKeyValidator.CallValuePerUseExceeded(target, selector, value, maxValuePerUse);
            }
            if (spec.u8(p + 37) != 0) {
                (bool ok, uint256 remaining, uint256 next) =
                    UsageCounters.consume(_usageCounters(), ctx, cursor, spec, p + 37, value);
                if (!ok) revert ISessionKeyValidator.CallValueLimitExceeded(target, selector, value, remaining);
                cursor = next;
            }
            uint256 constraints = spec.u8(p + 55);
            for (uint256 j = 0; j < constraints; ++j) {
                cursor = _checkConstraint(
                    ctx,
                    spec,
                    p + SessionSpecLib.CALL_POLICY_SIZE + j * SessionSpecLib.CONSTRAINT_SIZE,
                    j,
                    cursor,
                    target,
                    data
                );
            }
        }
    }

    /// @dev Checks the constraint at `c` (number `j` of its policy) on `data` and counts the constrained word at
    /// `cursor` if its limit is not Unlimited; returns the cursor after its counter.
    function _checkConstraint(
        SessionContext memory ctx,
        bytes calldata spec,
        uint256 c,
        uint256 j,
        uint256 cursor,
        address target,
        bytes calldata data
    ) internal returns (uint256) {
        bytes32 word;
        {
            uint256 index = spec.u16(c + 1);
            uint256 start;
            unchecked {
                start = 4 + 32 * index; // index < 2^16
            }
            if (data.length < start + 32) {
                revert ISessionKeyValidator.ConstraintOutOfBounds(target, bytes4(data), j, index);
            }
            assembly ("memory-safe") {
                word := calldataload(add(data.offset, start))
            }
        }
        {
            bytes32 refValue = bytes32(spec.word(c + 3));
            uint256 condition = spec.u8(c);
            if (!_holds(condition, word, refValue)) {
                revert ISessionKeyValidator.ConstraintViolated(
                    target, bytes4(data), j, ISessionKeyValidator.Condition(condition), word, refValue
                );
            }
        }
        if (spec.u8(c + 35) == 0) return cursor;
        (bool ok, uint256 remaining, uint256 next) =
            UsageCounters.consume(_usageCounters(), ctx, cursor, spec, c + 35, uint256(word));
        if (!ok) {
            revert ISessionKeyValidator.ConstraintLimitExceeded(target, bytes4(data), j, uint256(word), remaining);
        }
        return next;
    }

    /// @dev Whether `word <condition> refValue` holds.
    function _holds(uint256 condition, bytes32 word, bytes32 refValue) internal pure returns (bool) {
        if (condition == uint256(ISessionKeyValidator.Condition.Unconstrained)) return true;
        if (condition == uint256(ISessionKeyValidator.Condition.Equal)) return word == refValue;
        if (condition == uint256(ISessionKeyValidator.Condition.NotEqual)) return word != refValue;
        if (condition == uint256(ISessionKeyValidator.Condition.Greater)) return uint256(word) > uint256(refValue);
        if (condition == uint256(ISessionKeyValidator.Condition.GreaterOrEqual)) {
            return uint256(word) >= uint256(refValue);
        }
        if (condition == uint256(ISessionKeyValidator.Condition.Less)) return uint256(word) < uint256(refValue);
        return uint256(word) <= uint256(refValue); // LessOrEqual
    }
}
