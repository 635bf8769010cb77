// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SessionTargets} from "./SessionTargets.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @title SessionFastPath
/// @notice The SessionKeyValidator's fast path for the most common session userOp: one plain ETH transfer (ERC-7579
/// `execute`, or SsoAccount's packed `executePacked_ezig`, with mode 0 and no calldata) by a secp256k1 session key
/// or a P-256 one (signed and verified by the P-256 precompile; anything else about it goes to the general path),
/// under a Lifetime fee limit and a transfer policy whose limit is Unlimited or Lifetime and lives in the session
/// slot, from an account that gave its modules version (unchanged since the session was created). It does in one
/// pass, without memory structures, what the general path (`SessionKeyValidator._validateUserOp`,
/// {SessionPolicies}, {UsageCounters}) does for that shape, and gives up (`handled` false, nothing written) on
/// anything else, including every case that fails: the general path then answers, with its errors. The two must
/// agree on every userOp the fast path handles (same validation data, same session word);
/// test/SessionKeyValidator/FastPath.t.sol compares them.
/// @dev Layout facts used (see {SessionSpecLib}; S, the signer's size, is 20 for secp256k1 and 64 for P-256):
/// `expiresAt` at 1 + S, the fee limit at 7 + S, the call policy count at 25 + S, call policies from 26 + S (56 bytes
/// each plus 53 per constraint, value limit at 37, constraint count at 55, a constraint's limit at 35), then the
/// transfer policy count and 51-byte transfer policies (`maxValuePerUse` at 20, limit at 33). The spec hashes to an
/// active session id, so it passed `createSession`'s layout and limit checks, and is read without bounds checks.
/// Counters are placed as {UsageCounters} places them.
library SessionFastPath {
    /// @dev Validates `userOp` if it has the fast path's shape; `sessions` is the storage slot of the validator's
    /// `mapping(bytes32 id => mapping(address account => uint256))`. Writes the session word only when handled.
    function tryTransfer(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        uint256 modulesVersion,
        uint256 sessions
    ) internal returns (bool handled, uint256 validationData) {
        address entryPoint = SessionTargets.ENTRY_POINT;
        assembly ("memory-safe") {
            // The counter width of a limit word (`limitType(1) limit(13) period(4)`), as UsageCounters.counterBits.
            function width(limitWord) -> w {
                let limitType := shr(248, limitWord)
                if limitType {
                    let limit := and(shr(144, limitWord), 0xffffffffffffffffffffffffff)
                    switch shr(64, limit)
                    case 0 { w := add(32, mul(32, iszero(iszero(shr(32, limit))))) }
                    default { w := add(80, mul(24, iszero(iszero(shr(80, limit))))) }
                    if eq(limitType, 2) { w := add(w, 24) }
                }
            }
            // The cursor (`slot << 16 | bit`) after a counter of `w` bits, as UsageCounters.place.
            function skip(cursor, w) -> next {
                next := add(cursor, w)
                if gt(add(and(cursor, 0xffff), w), 256) { next := add(shl(16, add(shr(16, cursor), 1)), w) }
            }
            // A `bytes` field of the userOp: its data offset and length, or fails (0, 0, false) out of calldata.
            function field(op, at) -> data, len, ok {
                let rel := calldataload(add(op, at))
                let pos := add(op, rel)
                len := calldataload(pos)
                data := add(pos, 0x20)
                ok := and(and(lt(rel, 0x100000000), lt(len, 0x100000000)), iszero(gt(add(data, len), calldatasize())))
            }

            for {} 1 {} {
                // The call, mode 0, target ‖ value and no calldata: SsoAccount's executePacked_ezig (0x00000017,
                // `selector ‖ mode ‖ target ‖ value`, 88 bytes: only SsoAccount calls this entry, see
                // SessionPolicies.EXECUTE_PACKED) or execute(bytes32, bytes) (0xe9ae5c53).
                let cd, cdLen, cdOk := field(userOp, 0x60)
                if iszero(cdOk) { break }
                if calldataload(add(cd, 0x04)) { break }
                let exec := 0
                switch shr(224, calldataload(cd))
                case 0x17 {
                    if iszero(eq(cdLen, 88)) { break }
                    exec := add(cd, 0x24)
                }
                case 0xe9ae5c53 {
                    if lt(cdLen, 0x44) { break }
                    let offset := calldataload(add(cd, 0x24))
                    if gt(offset, cdLen) { break }
                    let lengthAt := add(0x04, offset)
                    if iszero(eq(calldataload(add(cd, lengthAt)), 52)) { break }
                    if gt(add(lengthAt, 84), cdLen) { break } // 0x20 + 52
                    exec := add(add(cd, lengthAt), 0x20)
                }
                default { break }
                let target := shr(96, calldataload(exec))
                let value := calldataload(add(exec, 20))
                if or(or(eq(target, caller()), eq(target, address())), eq(target, entryPoint)) { break }

                // uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature: a secp256k1 signer (kind 1, 20
                // bytes; 65-byte r ‖ s ‖ v) or a P-256 one (kind 2, x ‖ y, 64 bytes; 64-byte r ‖ s).
                let sig, sigLen, ok := field(userOp, 0x100)
                if iszero(ok) { break }
                let specLen := shr(240, calldataload(sig))
                let spec := add(sig, 2)
                // `fields`: the spec past its signer, so expiresAt is at fields + 1 (as SessionSpecLib's header); the
                // signer is secp256k1 where fields - spec is 20.
                let fields := 0
                switch shr(248, calldataload(spec))
                case 1 {
                    if iszero(eq(sigLen, add(specLen, 73))) { break }
                    fields := add(spec, 20)
                }
                case 2 {
                    if iszero(eq(sigLen, add(specLen, 72))) { break }
                    fields := add(spec, 64)
                }
                default { break }
                let claimedTime := shr(208, calldataload(add(spec, specLen)))

                // The session: created, not revoked one by one, versioned at the account's current version.
                let m := mload(0x40)
                calldatacopy(m, spec, specLen)
                let id := keccak256(m, specLen)
                mstore(0x00, id)
                mstore(0x20, sessions)
                mstore(0x20, keccak256(0x00, 0x40))
                mstore(0x00, caller())
                let slot := keccak256(0x00, 0x40)
                let word := sload(slot)
                // TAG_EXISTS | TAG_VERSIONED set, TAG_REVOKED clear, epoch = the version.
                if iszero(and(eq(and(word, 0x700000), 0x300000), eq(and(word, 0xfffff), modulesVersion))) {
                    break
                }
                let expiresAt := shr(208, calldataload(add(fields, 1)))
                if gt(claimedTime, expiresAt) { break }
                if iszero(expiresAt) { break } // the general path refuses a window ending at 0

                // The fee, counted at bit 24 when the account pays: a Lifetime limit only.
                let feeLimitWord := calldataload(add(fields, 7))
                if iszero(eq(shr(248, feeLimitWord), 1)) { break }
                let feeBits := width(feeLimitWord)
                let cursor := add(24, feeBits)
                let pm, pmLen, pmOk := field(userOp, 0xe0)
                if iszero(pmOk) { break }
                if iszero(pmLen) {
                    // maxFeePerGas × (verificationGasLimit + callGasLimit + preVerificationGas), as consumeFee.
                    let gasLimits := calldataload(add(userOp, 0x80))
                    let preVerificationGas := calldataload(add(userOp, 0xa0))
                    if gt(preVerificationGas, 0xffffffffffffffffffffffffffffffff) { break }
                    let gas_ :=
                        add(
                            add(shr(128, gasLimits), and(gasLimits, 0xffffffffffffffffffffffffffffffff)),
                            preVerificationGas
                        )
                    let maxFee := and(calldataload(add(userOp, 0xc0)), 0xffffffffffffffffffffffffffffffff)
                    let fee := mul(maxFee, gas_)
                    if iszero(or(iszero(maxFee), eq(div(fee, maxFee), gas_))) { break }
                    let mask := sub(shl(feeBits, 1), 1)
                    let spent := and(shr(24, word), mask)
                    if gt(fee, sub(and(shr(144, feeLimitWord), 0xffffffffffffffffffffffffff), spent)) { break }
                    word := or(and(word, not(shl(24, mask))), shl(24, add(spent, fee)))
                }

                // Past the call policies (placing their counters), to the transfer policy of `target`.
                let p := add(fields, 26)
                for { let count := shr(248, calldataload(add(fields, 25))) } count { count := sub(count, 1) } {
                    cursor := skip(cursor, width(calldataload(add(p, 37))))
                    let end := add(add(p, 56), mul(53, shr(248, calldataload(add(p, 55)))))
                    for { let c := add(p, 56) } lt(c, end) { c := add(c, 53) } {
                        cursor := skip(cursor, width(calldataload(add(c, 35))))
                    }
                    p := end
                }
                let found := 0
                let count := shr(248, calldataload(p))
                p := add(p, 1)
                for {} count { count := sub(count, 1) } {
                    if eq(shr(96, calldataload(p)), target) {
                        found := 1
                        break
                    }
                    cursor := skip(cursor, width(calldataload(add(p, 33))))
                    p := add(p, 51)
                }
                if iszero(found) { break }
                if gt(value, shr(152, calldataload(add(p, 20)))) { break } // maxValuePerUse
                let limitWord := calldataload(add(p, 33))
                let limitType := shr(248, limitWord)
                if and(iszero(iszero(limitType)), iszero(iszero(value))) {
                    // A Lifetime counter in the session slot: spent ‖ nothing else.
                    if iszero(eq(limitType, 1)) { break }
                    let w := width(limitWord)
                    let next := skip(cursor, w)
                    if shr(16, next) { break }
                    let bit := sub(next, w)
                    let mask := sub(shl(w, 1), 1)
                    let spent := and(shr(bit, word), mask)
                    if gt(value, sub(and(shr(144, limitWord), 0xffffffffffffffffffffffffff), spent)) { break }
                    word := or(and(word, not(shl(bit, mask))), shl(bit, add(spent, value)))
                }

                // The signer's signature of keccak256(userOpHash ‖ id), as SessionSigner.verify.
                mstore(0x00, userOpHash)
                mstore(0x20, id)
                let digest := keccak256(0x00, 0x40)
                let r := add(spec, add(specLen, 6))
                let valid := 0
                switch eq(sub(fields, spec), 20)
                case 1 {
                    // secp256k1: low s, v 27 or 28; a bad signature is answered here (SIG_VALIDATION_FAILED).
                    let signer := shr(96, calldataload(add(spec, 1)))
                    let s := calldataload(add(r, 0x20))
                    let v := byte(0, calldataload(add(r, 0x40)))
                    if and(
                        lt(s, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1),
                        or(eq(v, 27), eq(v, 28))
                    ) {
                        mstore(m, digest)
                        mstore(add(m, 0x20), v)
                        mstore(add(m, 0x40), calldataload(r))
                        mstore(add(m, 0x60), s)
                        mstore(0x00, 0)
                        if staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20) {
                            valid := eq(mload(0x00), signer)
                        }
                    }
                }
                default {
                    // P-256 over sha256(digest), s normalised (WebCrypto's (r, N - s) is the same signature). Only
                    // the precompile's 1 (RIP-7212 / EIP-7951) is taken here; no precompile, or an invalid
                    // signature, goes to the general path, which answers (OpenZeppelin's P256, in Solidity if
                    // need be).
                    mstore(0x00, digest)
                    if iszero(staticcall(gas(), 0x02, 0x00, 0x20, 0x00, 0x20)) { break }
                    let n := 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
                    let s := calldataload(add(r, 0x20))
                    if and(gt(s, shr(1, n)), lt(s, n)) { s := sub(n, s) }
                    mstore(m, mload(0x00))
                    mstore(add(m, 0x20), calldataload(r))
                    mstore(add(m, 0x40), s)
                    calldatacopy(add(m, 0x60), add(spec, 1), 0x40) // x ‖ y
                    mstore(0x00, 0)
                    if iszero(staticcall(gas(), 0x100, m, 0xa0, 0x00, 0x20)) { break }
                    if iszero(and(eq(returndatasize(), 0x20), eq(mload(0x00), 1))) { break }
                    valid := 1
                }

                sstore(slot, word)
                handled := 1
                validationData := or(shl(160, expiresAt), iszero(valid))
                break
            }
        }
    }
}
