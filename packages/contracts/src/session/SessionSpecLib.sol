// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "./ISessionKeyValidator.sol";

/// @title SessionSpecLib
/// @notice The packed session spec: {encode} packs an {ISessionKeyValidator.SessionSpec} into the bytes the
/// SessionKeyValidator takes (for contracts and tests that build sessions on chain; the TypeScript client has its
/// own encoder of the same format), {validateLayout} checks that bytes are exactly one spec, and the readers
/// ({u8} .. {addressAt}) decode fields at byte offsets.
/// @dev Layout (big-endian, no padding; see docs/interfaces.md):
/// `signerKind(1) signer(20|64) expiresAt(6) feeLimit(18) callCount(1) CallPolicy* transferCount(1) TransferPolicy*`
/// with `Limit = limitType(1) limit(13) period(4)`,
/// `CallPolicy = target(20) selector(4) maxValuePerUse(13) valueLimit(18) constraintCount(1) Constraint*`,
/// `Constraint = condition(1) index(2) refValue(32) limit(18)` and
/// `TransferPolicy = target(20) maxValuePerUse(13) valueLimit(18)`. `signerKind` is 1 for a 20-byte secp256k1
/// address and 2 for a 64-byte P-256 key. Whether the spec is acceptable is for `createSession` to say.
///
/// Offsets: from `header` (the size of `signerKind ‖ signer`: {headerSize}) `expiresAt` is at `header`, the fee
/// limit at `header + 6`, the call policy count at `header + 24`; in a call policy `selector` is at 20,
/// `maxValuePerUse` at 24, `valueLimit` at 37, `constraintCount` at 55; in a constraint `index` at 1, `refValue`
/// at 3, `limit` at 35; in a transfer policy `maxValuePerUse` at 20, `valueLimit` at 33; in a limit `limit` at 1,
/// `period` at 14. The readers do no bounds checks: reading past the end of `spec` yields the next calldata bytes,
/// which only happens for layouts {validateLayout} rejects.
library SessionSpecLib {
    /// @notice Thrown when the signer is neither 20 nor 64 bytes, or a list is longer than 255 entries.
    error UnencodableSpec();

    uint8 internal constant SIGNER_SECP256K1 = 1;
    uint8 internal constant SIGNER_P256 = 2;

    // Packed sizes.
    uint256 internal constant LIMIT_SIZE = 18;
    uint256 internal constant CALL_POLICY_SIZE = 56;
    uint256 internal constant CONSTRAINT_SIZE = 53;
    uint256 internal constant TRANSFER_POLICY_SIZE = 51;

    /// @notice The packed encoding of `spec`.
    function encode(ISessionKeyValidator.SessionSpec memory spec) internal pure returns (bytes memory packed) {
        uint256 signerLength = spec.signer.length;
        if (signerLength != 20 && signerLength != 64) revert UnencodableSpec();
        if (spec.callPolicies.length > type(uint8).max || spec.transferPolicies.length > type(uint8).max) {
            revert UnencodableSpec();
        }
        packed = abi.encodePacked(
            signerLength == 20 ? SIGNER_SECP256K1 : SIGNER_P256,
            spec.signer,
            spec.expiresAt,
            _limit(spec.feeLimit),
            uint8(spec.callPolicies.length)
        );
        for (uint256 i = 0; i < spec.callPolicies.length; ++i) {
            packed = bytes.concat(packed, _callPolicy(spec.callPolicies[i]));
        }
        packed = bytes.concat(packed, abi.encodePacked(uint8(spec.transferPolicies.length)));
        for (uint256 i = 0; i < spec.transferPolicies.length; ++i) {
            ISessionKeyValidator.TransferPolicy memory policy = spec.transferPolicies[i];
            packed =
                bytes.concat(packed, abi.encodePacked(policy.target, policy.maxValuePerUse, _limit(policy.valueLimit)));
        }
    }

    function _callPolicy(ISessionKeyValidator.CallPolicy memory policy) private pure returns (bytes memory packed) {
        if (policy.constraints.length > type(uint8).max) revert UnencodableSpec();
        packed = abi.encodePacked(
            policy.target,
            policy.selector,
            policy.maxValuePerUse,
            _limit(policy.valueLimit),
            uint8(policy.constraints.length)
        );
        for (uint256 j = 0; j < policy.constraints.length; ++j) {
            ISessionKeyValidator.Constraint memory constraint = policy.constraints[j];
            packed = bytes.concat(
                packed,
                abi.encodePacked(
                    uint8(constraint.condition), constraint.index, constraint.refValue, _limit(constraint.limit)
                )
            );
        }
    }

    function _limit(ISessionKeyValidator.UsageLimit memory limit) private pure returns (bytes memory) {
        return abi.encodePacked(uint8(limit.limitType), limit.limit, limit.period);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Decoding
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Checks that `spec` is exactly one packed spec (every count and enum in range, no trailing bytes).
    function validateLayout(bytes calldata spec) internal pure {
        uint256 length = spec.length;
        if (length == 0) revert ISessionKeyValidator.InvalidSpecEncoding(0);
        uint256 signerKind = u8(spec, 0);
        if (signerKind != SIGNER_SECP256K1 && signerKind != SIGNER_P256) {
            revert ISessionKeyValidator.InvalidSigner(spec[0:1]);
        }
        uint256 p = (signerKind == SIGNER_SECP256K1 ? 21 : 65) + 25;
        if (length < p) revert ISessionKeyValidator.InvalidSpecEncoding(length);
        uint256 count = u8(spec, p - 1);
        for (uint256 i = 0; i < count; ++i) {
            if (length < p + CALL_POLICY_SIZE) revert ISessionKeyValidator.InvalidSpecEncoding(length);
            uint256 constraints = u8(spec, p + 55);
            uint256 end = p + CALL_POLICY_SIZE + constraints * CONSTRAINT_SIZE;
            if (length < end) revert ISessionKeyValidator.InvalidSpecEncoding(length);
            for (uint256 c = p + CALL_POLICY_SIZE; c < end; c += CONSTRAINT_SIZE) {
                if (u8(spec, c) > uint256(ISessionKeyValidator.Condition.LessOrEqual)) {
                    revert ISessionKeyValidator.InvalidSpecEncoding(c);
                }
            }
            p = end;
        }
        if (length < p + 1) revert ISessionKeyValidator.InvalidSpecEncoding(length);
        p += 1 + u8(spec, p) * TRANSFER_POLICY_SIZE;
        if (length != p) revert ISessionKeyValidator.InvalidSpecEncoding(length < p ? length : p);
    }

    /// @dev The size of `signerKind ‖ signer`, the offset of `expiresAt`: 21 for a secp256k1 signer (kind 1), 65 for
    /// a P-256 key (kind 2). Only for a spec {validateLayout} accepted (the kind is 1 or 2); branch-free so that it
    /// stays inlined on the validation path.
    function headerSize(bytes calldata spec) internal pure returns (uint256 size) {
        unchecked {
            size = 21 + 44 * (u8(spec, 0) >> 1);
        }
    }

    /// @dev `keccak256(spec)` (the session id), hashed in scratch memory past the free memory pointer.
    function hash(bytes calldata spec) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, spec.offset, spec.length)
            digest := keccak256(m, spec.length)
        }
    }

    /// @dev The 32 bytes at `at`.
    function word(bytes calldata spec, uint256 at) internal pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := calldataload(add(spec.offset, at))
        }
    }

    function u8(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return word(spec, at) >> 248;
    }

    function u16(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return word(spec, at) >> 240;
    }

    function u32(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return word(spec, at) >> 224;
    }

    function u48(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return word(spec, at) >> 208;
    }

    function u104(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return word(spec, at) >> 152;
    }

    function addressAt(bytes calldata spec, uint256 at) internal pure returns (address) {
        return address(uint160(word(spec, at) >> 96));
    }

    /// @dev The 4 bytes at `at` (a selector).
    function bytes4At(bytes calldata spec, uint256 at) internal pure returns (bytes4) {
        return bytes4(bytes32(word(spec, at)));
    }
}
