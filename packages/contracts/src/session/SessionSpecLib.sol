// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "./ISessionKeyValidator.sol";

/// @title SessionSpecLib
/// @notice Packs an {ISessionKeyValidator.SessionSpec} into the bytes the SessionKeyValidator takes, for contracts
/// and tests that build sessions on chain (the TypeScript client has its own encoder of the same format).
/// @dev Layout (big-endian, no padding; see docs/interfaces.md):
/// `signerKind(1) signer(20|64) expiresAt(6) feeLimit(18) callCount(1) CallPolicy* transferCount(1) TransferPolicy*`
/// with `Limit = limitType(1) limit(13) period(4)`,
/// `CallPolicy = target(20) selector(4) maxValuePerUse(13) valueLimit(18) constraintCount(1) Constraint*`,
/// `Constraint = condition(1) index(2) refValue(32) limit(18)` and
/// `TransferPolicy = target(20) maxValuePerUse(13) valueLimit(18)`. `signerKind` is 1 for a 20-byte secp256k1
/// address and 2 for a 64-byte P-256 key. Whether the spec is acceptable is for `createSession` to say.
library SessionSpecLib {
    /// @notice Thrown when the signer is neither 20 nor 64 bytes, or a list is longer than 255 entries.
    error UnencodableSpec();

    uint8 internal constant SIGNER_SECP256K1 = 1;
    uint8 internal constant SIGNER_P256 = 2;

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
}
