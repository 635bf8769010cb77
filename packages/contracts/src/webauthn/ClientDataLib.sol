// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ClientDataLib
/// @notice Rebuilds the exact clientDataJSON text a passkey signed, in free memory, from what a packed WebAuthn
/// signature carries (docs/webauthn.md, "The signature"): {fromMembers} from the general form's member list,
/// {standard} from the short form's origin (the two shapes browsers send, with and without `crossOrigin`). The
/// challenge is always base64url of the hash being validated ({challenge}); nothing in the text is trusted: the
/// caller checks the origin it names against the passkey's commitment and the P-256 signature over its sha256.
library ClientDataLib {
    /// @notice base64url(`hash`) without padding: 43 characters, the first 32 in `head`, the other 11 in the high
    /// bytes of `tail` (its low 21 bytes are not characters).
    function challenge(bytes32 hash) internal pure returns (bytes32 head, bytes32 tail) {
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
            // Groups 0..7 (bytes 0..23): group j to lane j, i.e. shift right by 8 + 8j.
            let w := and(shr(8, hash), 0x00ffffff00000000000000000000000000000000000000000000000000000000)
            w := or(w, and(shr(16, hash), 0x0000000000ffffff000000000000000000000000000000000000000000000000))
            w := or(w, and(shr(24, hash), 0x000000000000000000ffffff0000000000000000000000000000000000000000))
            w := or(w, and(shr(32, hash), 0x00000000000000000000000000ffffff00000000000000000000000000000000))
            w := or(w, and(shr(40, hash), 0x0000000000000000000000000000000000ffffff000000000000000000000000))
            w := or(w, and(shr(48, hash), 0x000000000000000000000000000000000000000000ffffff0000000000000000))
            w := or(w, and(shr(56, hash), 0x00000000000000000000000000000000000000000000000000ffffff00000000))
            w := or(w, and(shr(64, hash), 0x0000000000000000000000000000000000000000000000000000000000ffffff))
            head := chars(w)
            // Groups 8, 9 (bytes 24..29) and bytes 30..31 padded with a zero byte: 11 characters used.
            w := and(shl(184, hash), 0x00ffffff00000000000000000000000000000000000000000000000000000000)
            w := or(w, and(shl(176, hash), 0x0000000000ffffff000000000000000000000000000000000000000000000000))
            w := or(w, and(shl(168, hash), 0x000000000000000000ffffff0000000000000000000000000000000000000000))
            tail := chars(w)
        }
    }

    /// @notice The general form: rebuilds the clientDataJSON text from the signature's member list (docs/webauthn.md)
    /// into free memory, with the challenge = base64url(`hash`), and hashes the origin it names.
    /// `built` is false for a list that is malformed, repeats or lacks type, challenge or origin, or holds a member
    /// that is not allowed (`crossOrigin: true`, `topOrigin`, a reserved key, `"` or `\` in a value). `originPtr` and
    /// `originLength` locate the origin as registered (unescaped) in calldata.
    function fromMembers(bytes32 hash, uint256 dataPtr, uint256 dataLength)
        internal
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
        (bytes32 challengeHead, bytes32 challengeTail) = challenge(hash);
        assembly ("memory-safe") {
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

            // The challenge's characters in scratch space (the stack is full in the loop below).
            mstore(0x00, challengeHead)
            mstore(0x20, challengeTail)
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
                    mstore(add(out, 13), mload(0x00))
                    mstore(add(out, 45), mload(0x20))
                    mstore8(add(out, 56), 0x22)
                    out := add(out, 57)
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

    /// @notice The short form: `{"type":"webauthn.get","challenge":"<base64url(hash)>","origin":"<scheme><text>"}`,
    /// with `,"crossOrigin":false` before the `}` when `crossOrigin` is set (Chrome and Firefox send it, Safari does
    /// not), `scheme` being `http://` when `http` is set and `https://` otherwise, and `text` the `textLength` bytes at
    /// calldata `textPtr`.
    /// @return json Where the text starts in memory.
    /// @return jsonLength Its length.
    /// @return originPtr Where the origin (`<scheme><text>`) starts in memory, inside the text.
    /// @return originLength The origin's length.
    function standard(bytes32 hash, uint256 textPtr, uint256 textLength, bool http, bool crossOrigin)
        internal
        pure
        returns (uint256 json, uint256 jsonLength, uint256 originPtr, uint256 originLength)
    {
        (bytes32 challengeHead, bytes32 challengeTail) = challenge(hash);
        assembly ("memory-safe") {
            json := mload(0x40)
            mstore(json, '{"type":"webauthn.get","challeng')
            mstore(add(json, 32), 'e":"')
            mstore(add(json, 36), challengeHead)
            mstore(add(json, 68), challengeTail)
            // 36 + 43 characters, then `","origin":"` (12) and the scheme.
            originPtr := add(json, 91)
            mstore(add(json, 79), '","origin":"https://')
            originLength := add(textLength, 8)
            if http {
                mstore(add(json, 79), '","origin":"http://')
                originLength := add(textLength, 7)
            }
            calldatacopy(add(originPtr, sub(originLength, textLength)), textPtr, textLength)
            let out := add(originPtr, originLength)
            mstore8(out, 0x22) // "
            out := add(out, 1)
            if crossOrigin {
                mstore(out, ',"crossOrigin":false')
                out := add(out, 20)
            }
            mstore8(out, 0x7d) // }
            jsonLength := sub(add(out, 1), json)
            mstore(0x40, and(add(add(json, jsonLength), 0x3f), not(0x1f)))
        }
    }
}
