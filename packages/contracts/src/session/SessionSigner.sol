// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "./ISessionKeyValidator.sol";
import {SessionSpecLib} from "./SessionSpecLib.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title SessionSigner
/// @notice A session userOp's signature: {split} takes `uint16 specLength ‖ spec ‖ uint48 timestamp ‖
/// signerSignature` apart, {digest} is what the session signer signs and {verify} checks the signer's signature
/// (see docs/interfaces.md).
/// @dev `signerSignature` signs `digest = keccak256(abi.encode(userOpHash, sessionId))`:
/// - secp256k1 signer (kind 1): a 65-byte `r ‖ s ‖ v` ECDSA signature over `digest` itself (no prefix);
/// - P-256 signer (kind 2, `x ‖ y`): a 64-byte `r ‖ s` signature over `sha256(digest)`, i.e. what WebCrypto's
///   `sign({ name: 'ECDSA', hash: 'SHA-256' }, key, digest)` returns for the 32 digest bytes. High-s signatures are
///   accepted (normalised here), so WebCrypto output needs no post-processing.
library SessionSigner {
    using SessionSpecLib for bytes;

    /// @dev Splits `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature`.
    function split(bytes calldata signature)
        internal
        pure
        returns (bytes calldata spec, uint256 claimedTime, bytes calldata signerSignature)
    {
        bool malformed;
        assembly ("memory-safe") {
            let length := signature.length
            let head := calldataload(signature.offset)
            let specEnd := add(2, shr(240, head))
            malformed := or(lt(length, 2), lt(length, add(specEnd, 6)))
            spec.offset := add(signature.offset, 2)
            spec.length := sub(specEnd, 2)
            claimedTime := shr(208, calldataload(add(signature.offset, specEnd)))
            signerSignature.offset := add(signature.offset, add(specEnd, 6))
            signerSignature.length := sub(length, add(specEnd, 6))
        }
        if (malformed) revert ISessionKeyValidator.InvalidSessionSignatureEncoding();
    }

    /// @dev What the session signer signs: `keccak256(abi.encode(userOpHash, id))`.
    function digest(bytes32 userOpHash, bytes32 id) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(0x00, userOpHash)
            mstore(0x20, id)
            result := keccak256(0x00, 0x40)
        }
    }

    /// @dev Verifies the signature by the signer of `spec` of `hash` (see the library documentation).
    function verify(bytes calldata spec, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        if (spec.u8(0) == SessionSpecLib.SIGNER_SECP256K1) {
            address signer = spec.addressAt(1);
            bool valid;
            assembly ("memory-safe") {
                // 65-byte r ‖ s ‖ v, low s (as OpenZeppelin's ECDSA), v 27 or 28.
                let s_ := calldataload(add(signature.offset, 0x20))
                let v := byte(0, calldataload(add(signature.offset, 0x40)))
                if and(
                    eq(signature.length, 65),
                    and(
                        lt(s_, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1),
                        or(eq(v, 27), eq(v, 28))
                    )
                ) {
                    let m := mload(0x40)
                    mstore(m, hash)
                    mstore(add(m, 0x20), v)
                    mstore(add(m, 0x40), calldataload(signature.offset))
                    mstore(add(m, 0x60), s_)
                    // ecrecover returns nothing for an invalid signature: the zero address never matches signer.
                    mstore(0x00, 0)
                    if staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20) { valid := eq(mload(0x00), signer) }
                }
            }
            return valid;
        }
        if (signature.length != 64) return false;
        bytes32 r = bytes32(signature[0x00:0x20]);
        uint256 s = uint256(bytes32(signature[0x20:0x40]));
        // WebCrypto does not normalise s; (r, N - s) is the same signature.
        if (s > P256.N / 2 && s < P256.N) s = P256.N - s;
        bytes32 message;
        assembly ("memory-safe") {
            mstore(0x00, hash)
            if iszero(staticcall(gas(), 0x02, 0x00, 0x20, 0x00, 0x20)) { revert(0, 0) }
            message := mload(0x00)
        }
        return P256.verify(message, r, bytes32(s), bytes32(spec[1:33]), bytes32(spec[33:65]));
    }
}
