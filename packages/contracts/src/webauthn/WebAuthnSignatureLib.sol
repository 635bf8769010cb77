// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title WebAuthnSignatureLib
/// @notice Checks a packed WebAuthn assertion against a passkey commitment, one named step at a time: {_parse}
/// the signature, {_checkClientData} (rebuild the exact clientDataJSON with the expected challenge),
/// {_authenticatorData} (as sent, or rebuilt from a compact form), {_checkRegisteredKey} (key, rpId and origin), {_checkUserPresentAndVerified} (authenticator data flags),
/// {_verifyP256LowS}. The WebAuthnValidator stores the commitments and runs these checks for its accounts.
///
/// Signature (packed, see docs/webauthn.md): `bytes4 credentialKey ‖ bytes32 x ‖ bytes32 y ‖ bytes32 r ‖
/// bytes32 s ‖ uint16 authenticatorDataLength ‖ authenticatorData ‖ clientData`. `authenticatorData` is the
/// authenticator's bytes as they are (37 bytes or more), or, when its rpIdHash is the sha256 of a part of the origin
/// (the rpId is the origin's host or a suffix of it, as for every passkey of a web page), the compact
/// `uint8 rpIdStart ‖ uint8 rpIdLength ‖ bytes1 flags` (signCount 0) or the same followed by `uint32 signCount`
/// (3 or 7 bytes), from which {_authenticatorData} rebuilds the 37 bytes with
/// `rpIdHash = sha256(origin[rpIdStart : rpIdStart + rpIdLength])`. `clientData` describes the clientDataJSON
/// the browser produced as a list of members, from which {_checkClientData} rebuilds the exact JSON text that was
/// signed (members in the browser's order): `0x01` `"type":"webauthn.get"`; `0x02` `"challenge":"<base64url(hash)>"`;
/// `0x03 len origin` `"origin":"<origin>"`; `0x04 len origin` the same with every `/` escaped as `\/` (Android);
/// `0x05` `"crossOrigin":false`; `0x06 keyLen valueLen key value` any other string member (`androidPackageName`,
/// Chrome's `other_keys_can_be_added_here`), whose key and value may not contain `"` or `\` and whose key may not
/// be type, challenge, origin, crossOrigin or topOrigin. type, challenge and origin are required once each,
/// crossOrigin at most once; `"crossOrigin":true` and `topOrigin` can't be expressed, so cross-origin (framed)
/// assertions never verify.
///
/// A signature is valid when: the key, the authenticator data's rpIdHash and the clientDataJSON `origin` are
/// those of the commitment (its top 160 bits are compared; `credentialKey`, the first 4 bytes of
/// keccak256(credentialId), is the validator's to look the commitment up by);
/// flags UP and UV are set (and BS implies BE); and the P-256 signature (low-s) over
/// `sha256(authenticatorData ‖ sha256(clientDataJSON))` verifies (RIP-7212 precompile at 0x100, OpenZeppelin's
/// Solidity fallback otherwise). Invalid input never reverts: {verify} returns false.
/// Once the input is well formed, the P-256 check runs even if another check failed, so a dummy signature costs
/// what a real one does.
library WebAuthnSignatureLib {
    /// @dev Where the key, r and s, and the uint16 authenticatorData length start (after the 4-byte credential key).
    uint256 private constant _X = 0x04;
    uint256 private constant _Y = 0x24;
    uint256 private constant _R = 0x44;
    uint256 private constant _S = 0x64;
    uint256 private constant _AUTH_LENGTH = 0x84;

    /// @dev Fixed head of the signature: the credential key, 4 words and the uint16 authenticatorData length.
    uint256 private constant _HEAD_LENGTH = 0x86;

    /// @notice Whether `signature` is an assertion over the challenge `hash` by the passkey of `commitment`.
    /// @dev Never reverts on malformed input. Past the structural checks every check is evaluated (no early
    /// return), so that gas estimation with a dummy signature costs at least what a real one does.
    /// Written in assembly: calldata slices and memory copies in Solidity cost more than the P-256 check itself.
    function verify(bytes32 commitment, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        (bool wellFormed, uint256 authPtr, uint256 authLength, uint256 dataPtr, uint256 dataLength) = _parse(signature);
        if (!wellFormed) return false;
        (bool built, uint256 json, uint256 jsonLength, bytes32 originHash, uint256 originPtr, uint256 originLength) =
            _checkClientData(hash, dataPtr, dataLength);
        if (!built) return false;
        (bool rebuilt, uint256 auth, uint256 fullAuthLength) =
            _authenticatorData(authPtr, authLength, originPtr, originLength);
        if (!rebuilt) return false;
        bool ok = _checkRegisteredKey(commitment, signature, auth, originHash) && _checkUserPresentAndVerified(auth);
        return _verifyP256LowS(signature, _signedMessage(auth, fullAuthLength, json, jsonLength)) && ok;
    }

    /// @dev Step 1, parse: where authenticatorData and the member list lie: `uint16` authenticatorData length at 0x84,
    /// the data right after it, the member list to the end. authenticatorData holds at least the rpIdHash, the flags
    /// and the counter (37 bytes), or is one of the compact forms (3 or 7 bytes).
    function _parse(bytes calldata signature)
        private
        pure
        returns (bool wellFormed, uint256 authPtr, uint256 authLength, uint256 dataPtr, uint256 dataLength)
    {
        if (signature.length < _HEAD_LENGTH) return (false, 0, 0, 0, 0);
        assembly ("memory-safe") {
            authLength := shr(240, calldataload(add(signature.offset, _AUTH_LENGTH)))
            authPtr := add(signature.offset, _HEAD_LENGTH)
            let end := add(_HEAD_LENGTH, authLength)
            wellFormed := and(
                or(gt(authLength, 36), or(eq(authLength, 3), eq(authLength, 7))),
                iszero(gt(end, signature.length))
            )
            dataPtr := add(authPtr, authLength)
            dataLength := sub(signature.length, end)
        }
    }

    /// @dev Step 2, the client data: rebuilds the clientDataJSON text from the signature's member list (see the
    /// library's NatSpec) into free memory, with the challenge = base64url(`hash`), and hashes the origin it names.
    /// `built` is false for a list that is malformed, repeats or lacks type, challenge or origin, or holds a member
    /// that is not allowed (`crossOrigin: true`, `topOrigin`, a reserved key, `"` or `\` in a value). `originPtr` and
    /// `originLength` locate the origin as registered (unescaped) in calldata.
    function _checkClientData(bytes32 hash, uint256 dataPtr, uint256 dataLength)
        private
        pure
        returns (
            bool built,
            uint256 json,
            uint256 jsonLength,
            bytes32 originHash,
            uint256 originPtr,
            uint256 originLength
        )
    {
        assembly ("memory-safe") {
            // base64url of the 32-byte hash, 32 characters per word (SWAR): 24-bit groups go to 32-bit lanes, each
            // lane is spread to four 6-bit indices (one per byte), and the indices map to ASCII with per-byte range
            // flags.
            function chars(w) -> r {
                let v :=
                    or(
                        or(
                            and(shl(6, w), 0x3f0000003f0000003f0000003f0000003f0000003f0000003f0000003f000000),
                            and(shl(4, w), 0x003f0000003f0000003f0000003f0000003f0000003f0000003f0000003f0000)
                        ),
                        or(
                            and(shl(2, w), 0x00003f0000003f0000003f0000003f0000003f0000003f0000003f0000003f00),
                            and(w, 0x0000003f0000003f0000003f0000003f0000003f0000003f0000003f0000003f)
                        )
                    )
                let hi := 0x8080808080808080808080808080808080808080808080808080808080808080
                // 1 in each byte whose index is >= 26, >= 52, >= 62, >= 63 (v + 128 - t never carries)
                let ge26 := shr(7, and(add(v, 0x6666666666666666666666666666666666666666666666666666666666666666), hi))
                let ge52 := shr(7, and(add(v, 0x4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c), hi))
                let ge62 := shr(7, and(add(v, 0x4242424242424242424242424242424242424242424242424242424242424242), hi))
                let ge63 := shr(7, and(add(v, 0x4141414141414141414141414141414141414141414141414141414141414141), hi))
                // 'A' + v, then +6 ('a' - 26), -75 ('0' - 52), -13 ('-'), +49 ('_'); no byte borrows or carries
                r := sub(
                    add(
                        add(add(v, 0x4141414141414141414141414141414141414141414141414141414141414141), mul(6, ge26)),
                        mul(49, ge63)
                    ),
                    add(mul(75, ge52), mul(13, ge62))
                )
            }
            // Whether `length` bytes at calldata `ptr` contain a `"` or a `\` (per word: a zero byte of w ^ pattern;
            // bytes past the end are zero in w, so non-zero after the xor).
            function hasQuoteOrBackslash(ptr, length) -> found {
                let lo := 0x0101010101010101010101010101010101010101010101010101010101010101
                let hi := 0x8080808080808080808080808080808080808080808080808080808080808080
                for { let i := 0 } lt(i, length) { i := add(i, 0x20) } {
                    let w := calldataload(add(ptr, i))
                    let rest := sub(length, i)
                    if lt(rest, 0x20) { w := and(w, not(shr(shl(3, rest), not(0)))) }
                    let q := xor(w, 0x2222222222222222222222222222222222222222222222222222222222222222)
                    let b := xor(w, 0x5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c)
                    found := or(found, and(and(sub(q, lo), not(q)), hi))
                    found := or(found, and(and(sub(b, lo), not(b)), hi))
                }
                found := iszero(iszero(found))
            }

            json := mload(0x40)
            let out := add(json, 1)
            mstore8(json, 0x7b) // {
            let end := add(dataPtr, dataLength)
            let seen := 0 // 1 type, 2 challenge, 4 origin, 8 crossOrigin
            built := 1
            for { let p := dataPtr } lt(p, end) {} {
                if gt(out, add(json, 1)) {
                    mstore8(out, 0x2c) // ,
                    out := add(out, 1)
                }
                let tag := byte(0, calldataload(p))
                p := add(p, 1)
                let bit := 0
                switch tag
                case 1 {
                    bit := 1
                    mstore(out, '"type":"webauthn.get"')
                    out := add(out, 21)
                }
                case 2 {
                    bit := 2
                    mstore(out, '"challenge":"')
                    out := add(out, 13)
                    // Groups 0..7 (bytes 0..23): group j to lane j, i.e. shift right by 8 + 8j.
                    let w := and(shr(8, hash), 0x00ffffff00000000000000000000000000000000000000000000000000000000)
                    w := or(w, and(shr(16, hash), 0x0000000000ffffff000000000000000000000000000000000000000000000000))
                    w := or(w, and(shr(24, hash), 0x000000000000000000ffffff0000000000000000000000000000000000000000))
                    w := or(w, and(shr(32, hash), 0x00000000000000000000000000ffffff00000000000000000000000000000000))
                    w := or(w, and(shr(40, hash), 0x0000000000000000000000000000000000ffffff000000000000000000000000))
                    w := or(w, and(shr(48, hash), 0x000000000000000000000000000000000000000000ffffff0000000000000000))
                    w := or(w, and(shr(56, hash), 0x00000000000000000000000000000000000000000000000000ffffff00000000))
                    w := or(w, and(shr(64, hash), 0x0000000000000000000000000000000000000000000000000000000000ffffff))
                    mstore(out, chars(w))
                    // Groups 8, 9 (bytes 24..29) and bytes 30..31 padded with a zero byte: 11 characters used.
                    w := and(shl(184, hash), 0x00ffffff00000000000000000000000000000000000000000000000000000000)
                    w := or(w, and(shl(176, hash), 0x0000000000ffffff000000000000000000000000000000000000000000000000))
                    w := or(w, and(shl(168, hash), 0x000000000000000000ffffff0000000000000000000000000000000000000000))
                    mstore(add(out, 32), chars(w))
                    mstore8(add(out, 43), 0x22)
                    out := add(out, 44)
                }
                case 3 {
                    bit := 4
                    let length := byte(0, calldataload(p))
                    p := add(p, 1)
                    if gt(add(p, length), end) { built := 0 }
                    originPtr := p
                    originLength := length
                    mstore(out, '"origin":"')
                    calldatacopy(add(out, 10), p, length)
                    originHash := keccak256(add(out, 10), length)
                    out := add(out, add(10, length))
                    mstore8(out, 0x22)
                    out := add(out, 1)
                    p := add(p, length)
                }
                case 4 {
                    // Android: the origin's slashes escaped (`https:\/\/host`).
                    bit := 4
                    let length := byte(0, calldataload(p))
                    p := add(p, 1)
                    if gt(add(p, length), end) { built := 0 }
                    originPtr := p
                    originLength := length
                    // Hash the origin as registered, then overwrite it with the escaped text (read from calldata).
                    calldatacopy(out, p, length)
                    originHash := keccak256(out, length)
                    mstore(out, '"origin":"')
                    out := add(out, 10)
                    for { let i := 0 } lt(i, length) { i := add(i, 1) } {
                        let c := byte(0, calldataload(add(p, i)))
                        if eq(c, 0x2f) {
                            mstore8(out, 0x5c)
                            out := add(out, 1)
                        }
                        mstore8(out, c)
                        out := add(out, 1)
                    }
                    mstore8(out, 0x22)
                    out := add(out, 1)
                    p := add(p, length)
                }
                case 5 {
                    bit := 8
                    mstore(out, '"crossOrigin":false')
                    out := add(out, 19)
                }
                case 6 {
                    let keyLength := byte(0, calldataload(p))
                    let valueLength := byte(1, calldataload(p))
                    p := add(p, 2)
                    if gt(add(p, add(keyLength, valueLength)), end) { built := 0 }
                    if hasQuoteOrBackslash(p, add(keyLength, valueLength)) { built := 0 }
                    // Reserved keys: type, challenge, origin, crossOrigin, topOrigin.
                    let key := calldataload(p)
                    switch keyLength
                    case 4 { if eq(shr(224, key), 0x74797065) { built := 0 } }
                    case 6 { if eq(shr(208, key), 0x6f726967696e) { built := 0 } }
                    case 9 {
                        if or(eq(shr(184, key), 0x6368616c6c656e6765), eq(shr(184, key), 0x746f704f726967696e)) {
                            built := 0
                        }
                    }
                    case 11 { if eq(shr(168, key), 0x63726f73734f726967696e) { built := 0 } }
                    mstore8(out, 0x22)
                    calldatacopy(add(out, 1), p, keyLength)
                    out := add(out, add(1, keyLength))
                    mstore(out, '":"')
                    calldatacopy(add(out, 3), add(p, keyLength), valueLength)
                    out := add(out, add(3, valueLength))
                    mstore8(out, 0x22)
                    out := add(out, 1)
                    p := add(p, add(keyLength, valueLength))
                }
                default { built := 0 }
                if and(seen, bit) { built := 0 }
                seen := or(seen, bit)
                if iszero(built) { break }
            }
            mstore8(out, 0x7d) // }
            jsonLength := sub(add(out, 1), json)
            built := and(built, eq(and(seen, 7), 7))
            // Keep the text: the digest is computed from it after other scratch use of free memory.
            mstore(0x40, and(add(add(json, jsonLength), 0x3f), not(0x1f)))
        }
    }

    /// @dev Step 3, the authenticator data, into memory at `auth` (with a free word after it for {_signedMessage}): the
    /// signature's bytes as they are, or the 37 bytes `rpIdHash ‖ flags ‖ signCount` rebuilt from a compact form,
    /// `rpIdHash` being the sha256 of the origin's bytes `[rpIdStart, rpIdStart + rpIdLength)` (false when that range
    /// is empty or leaves the origin).
    function _authenticatorData(uint256 authPtr, uint256 authLength, uint256 originPtr, uint256 originLength)
        private
        view
        returns (bool rebuilt, uint256 auth, uint256 fullAuthLength)
    {
        assembly ("memory-safe") {
            auth := mload(0x40)
            switch lt(authLength, 37)
            case 0 {
                calldatacopy(auth, authPtr, authLength)
                fullAuthLength := authLength
                rebuilt := 1
            }
            default {
                let head := calldataload(authPtr)
                let start := byte(0, head)
                let length := byte(1, head)
                rebuilt := and(iszero(iszero(length)), iszero(gt(add(start, length), originLength)))
                calldatacopy(auth, add(originPtr, start), length)
                if iszero(staticcall(gas(), 0x02, auth, length, auth, 0x20)) { invalid() }
                // The flags, then signCount: 0 in the 3-byte form, else the 4 bytes after the flags.
                mstore8(add(auth, 32), byte(2, head))
                let count := 0
                if eq(authLength, 7) { count := and(shr(200, head), 0xffffffff) }
                mstore(add(auth, 33), shl(224, count))
                fullAuthLength := 37
            }
            mstore(0x40, and(add(add(auth, fullAuthLength), 0x3f), not(0x1f)))
        }
    }

    /// @dev Step 4, the registered key: the signature's key, the authenticator data's rpIdHash and the client data's
    /// origin are those of `commitment`, whose top 160 bits are those of `keccak256(abi.encode(x, y, rpIdHash,
    /// originHash))` (the validator keeps other data in the low 96 bits of what it stores).
    function _checkRegisteredKey(bytes32 commitment, bytes calldata signature, uint256 auth, bytes32 originHash)
        private
        pure
        returns (bool ok)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, calldataload(add(signature.offset, _X)))
            mstore(add(m, 0x20), calldataload(add(signature.offset, _Y)))
            mstore(add(m, 0x40), mload(auth)) // rpIdHash
            mstore(add(m, 0x60), originHash)
            ok := and(iszero(iszero(commitment)), eq(shr(96, keccak256(m, 0x80)), shr(96, commitment)))
        }
    }

    /// @dev Step 5, the authenticator data flags: user present (UP) and verified (UV), backed up (BS) only when
    /// backup eligible (BE).
    function _checkUserPresentAndVerified(uint256 auth) private pure returns (bool ok) {
        assembly ("memory-safe") {
            let flags := byte(0, mload(add(auth, 32)))
            ok := and(
                and(and(flags, 0x01), shr(2, and(flags, 0x04))),
                or(shr(3, and(flags, 0x08)), iszero(and(flags, 0x10)))
            )
        }
    }

    /// @dev The message the passkey signed: sha256(authenticatorData ‖ sha256(clientDataJSON)), the authenticator
    /// data in memory at `auth` with a free word after it.
    function _signedMessage(uint256 auth, uint256 authLength, uint256 json, uint256 jsonLength)
        private
        view
        returns (bytes32 digest)
    {
        assembly ("memory-safe") {
            if iszero(staticcall(gas(), 0x02, json, jsonLength, add(auth, authLength), 0x20)) { invalid() }
            if iszero(staticcall(gas(), 0x02, auth, add(authLength, 0x20), 0x00, 0x20)) { invalid() }
            digest := mload(0x00)
        }
    }

    /// @dev Step 6, the signature: P-256 over `digest` with low s. Tries the RIP-7212 precompile directly; anything but a clear success goes through
    /// OpenZeppelin {P256-verify}, which tells an invalid signature from a missing precompile (Solidity fallback).
    function _verifyP256LowS(bytes calldata signature, bytes32 digest) private view returns (bool valid) {
        bytes32 r;
        bytes32 s;
        bytes32 x;
        bytes32 y;
        assembly ("memory-safe") {
            // The head was length-checked by the caller.
            x := calldataload(add(signature.offset, _X))
            y := calldataload(add(signature.offset, _Y))
            r := calldataload(add(signature.offset, _R))
            s := calldataload(add(signature.offset, _S))
            let m := mload(0x40)
            mstore(m, digest)
            mstore(add(m, 0x20), r)
            mstore(add(m, 0x40), s)
            mstore(add(m, 0x60), x)
            mstore(add(m, 0x80), y)
            mstore(0x00, 0)
            // r in (0, N), s in (0, N/2]
            valid := and(
                and(iszero(iszero(r)), lt(r, 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551)),
                and(
                    iszero(iszero(s)),
                    iszero(gt(s, 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8))
                )
            )
            if valid {
                // Yul evaluates arguments right to left: call first, then read the output.
                let success := staticcall(gas(), 0x100, m, 0xa0, 0x00, 0x20)
                valid := and(success, eq(mload(0x00), 1))
            }
        }
        if (!valid) valid = P256.verify(digest, r, s, x, y);
    }
}
