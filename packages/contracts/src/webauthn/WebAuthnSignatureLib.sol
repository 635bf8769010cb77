// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ClientDataLib} from "./ClientDataLib.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title WebAuthnSignatureLib
/// @notice Checks a packed WebAuthn assertion against a passkey commitment, one named step at a time: rebuild what
/// the passkey signed ({_shortForm}, or {_generalForm} with {ClientDataLib-fromMembers} and {_authenticatorData}),
/// {_checkRegisteredKey} (key, rpId and origin), {_checkUserPresentAndVerified} (authenticator data flags),
/// {_verifyP256LowS}. The WebAuthnValidator stores the commitments and runs these checks for its accounts.
///
/// Signature (packed, docs/webauthn.md): `bytes4 credentialKey ‖ bytes32 x ‖ bytes32 y ‖ bytes32 r ‖ bytes32 s`,
/// then one of two forms, told apart by the top bit of the next byte.
/// - Short form, for the assertions browsers make for web pages (37-byte authenticatorData, flags UP UV or
///   UP UV BE BS, clientDataJSON `{"type":"webauthn.get","challenge":"…","origin":"http(s)://…"}` with or without
///   `,"crossOrigin":false`): `bytes1 format ‖ signCount (0, 1, 2 or 4 bytes) ‖ rpId position (0, 1 or 2 bytes) ‖
///   origin without its scheme (to the end)`. format: 0x80 set; 0x40 `crossOrigin` present; 0x20 `http://` (else
///   `https://`); bits 3-4 the rpId: 0 the origin's whole host text, 1 `uint8 length` (the host before a port),
///   2 `uint8 start ‖ uint8 length` anywhere in the origin; 0x04 flags 0x1D (else 0x05); bits 0-1 signCount's
///   width (0, 1, 2, 4 bytes; 0 means signCount 0). The validator rebuilds the 37 bytes
///   `sha256(rpId) ‖ flags ‖ signCount` and the exact JSON text ({ClientDataLib-standard}).
/// - General form, for anything else: `uint16 authenticatorDataLength (< 0x8000) ‖ authenticatorData ‖ clientData`.
///   `authenticatorData` is the authenticator's bytes as they are (37 bytes or more), or, when its rpIdHash is the
///   sha256 of a part of the origin, the compact `uint8 rpIdStart ‖ uint8 rpIdLength ‖ bytes1 flags` (signCount 0)
///   or the same followed by `uint32 signCount` (3 or 7 bytes), from which {_authenticatorData} rebuilds the
///   37 bytes. `clientData` is the member list {ClientDataLib-fromMembers} rebuilds the JSON text from (Android's
///   escaped origin, extra members, other member orders).
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
    /// @dev Where the key, r and s start (after the 4-byte credential key), and the byte that tells the forms apart:
    /// the short form's format byte, or the general form's uint16 authenticatorData length.
    uint256 private constant _X = 0x04;
    uint256 private constant _Y = 0x24;
    uint256 private constant _R = 0x44;
    uint256 private constant _S = 0x64;
    uint256 private constant _FORM = 0x84;

    /// @dev The general form's fixed head: the credential key, 4 words and the uint16 authenticatorData length.
    uint256 private constant _HEAD_LENGTH = 0x86;

    /// @dev The short form's format bits (see the library's NatSpec).
    uint256 private constant _SHORT_FORM = 0x80;
    uint256 private constant _CROSS_ORIGIN = 0x40;
    uint256 private constant _HTTP = 0x20;
    uint256 private constant _BACKED_UP = 0x04;

    /// @notice Whether `signature` is an assertion over the challenge `hash` by the passkey of `commitment`.
    /// @dev Never reverts on malformed input. Past the structural checks every check is evaluated (no early
    /// return), so that gas estimation with a dummy signature costs at least what a real one does.
    /// Written in assembly: calldata slices and memory copies in Solidity cost more than the P-256 check itself.
    function verify(bytes32 commitment, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        (bool ok, bool onPrecompile, bytes32 digest) = _check(commitment, hash, signature);
        if (digest == 0) return false;
        return (onPrecompile || _verifyP256InSolidity(signature, digest)) && ok;
    }

    /// @notice {verify} on the P-256 precompile alone: true only when the precompile itself accepts the signature
    /// and every other check holds. False says nothing more (an invalid signature, or a chain without the
    /// precompile): the caller then asks {verify}. Leaves out OpenZeppelin's Solidity fallback, so that the account
    /// can check its passkeys in its own code (docs/webauthn.md, "Where passkeys are stored").
    function verifyOnPrecompile(bytes32 commitment, bytes32 hash, bytes calldata signature)
        internal
        view
        returns (bool)
    {
        (bool ok, bool onPrecompile,) = _check(commitment, hash, signature);
        return onPrecompile && ok;
    }

    /// @dev Steps 1 to 4 on the precompile. `digest` is 0 when the signature is not well formed (the message's
    /// sha256 is never 0); `ok` tells whether steps 2 and 3 hold, `onPrecompile` whether the precompile accepts.
    function _check(bytes32 commitment, bytes32 hash, bytes calldata signature)
        private
        view
        returns (bool ok, bool onPrecompile, bytes32 digest)
    {
        if (signature.length <= _FORM) return (false, false, 0);
        bool built;
        uint256 json;
        uint256 jsonLength;
        bytes32 originHash;
        uint256 auth;
        uint256 authLength;
        if (uint8(signature[_FORM]) & _SHORT_FORM != 0) {
            (built, json, jsonLength, originHash, auth) = _shortForm(hash, signature);
            authLength = 37;
        } else {
            (built, json, jsonLength, originHash, auth, authLength) = _generalForm(hash, signature);
        }
        if (!built) return (false, false, 0);
        ok = _checkRegisteredKey(commitment, signature, auth, originHash) && _checkUserPresentAndVerified(auth);
        digest = _signedMessage(auth, authLength, json, jsonLength);
        onPrecompile = _verifyP256LowS(signature, digest);
    }

    /// @dev Step 1, short form: reads the format byte, the signCount and the rpId position, rebuilds the clientDataJSON
    /// with {ClientDataLib-standard} and the 37-byte authenticator data `sha256(rpId) ‖ flags ‖ signCount` into memory
    /// at `auth` (with a free word after it for {_signedMessage}). `built` is false when the origin text is empty, the
    /// rpId form is 3, or the rpId range is empty or leaves the origin.
    function _shortForm(bytes32 hash, bytes calldata signature)
        private
        view
        returns (bool built, uint256 json, uint256 jsonLength, bytes32 originHash, uint256 auth)
    {
        uint256 format;
        uint256 signCount;
        uint256 rpIdStart;
        uint256 rpIdLength;
        uint256 textPtr;
        uint256 textLength;
        assembly ("memory-safe") {
            format := byte(0, calldataload(add(signature.offset, _FORM)))
            let p := add(signature.offset, add(_FORM, 1))
            let end := add(signature.offset, signature.length)
            let countBytes := and(format, 3)
            if eq(countBytes, 3) { countBytes := 4 }
            signCount := shr(sub(256, shl(3, countBytes)), calldataload(p))
            p := add(p, countBytes)
            let schemeLength := 8 // https://
            if and(format, _HTTP) { schemeLength := 7 } // http://
            built := 1
            switch and(shr(3, format), 3)
            case 0 { rpIdStart := schemeLength }
            case 1 {
                rpIdStart := schemeLength
                rpIdLength := byte(0, calldataload(p))
                p := add(p, 1)
            }
            case 2 {
                rpIdStart := byte(0, calldataload(p))
                rpIdLength := byte(1, calldataload(p))
                p := add(p, 2)
            }
            default { built := 0 }
            built := and(built, lt(p, end))
            textPtr := p
            if built {
                textLength := sub(end, p)
                // The whole host text (form 0); the range must not be empty nor leave the origin.
                if iszero(and(shr(3, format), 3)) { rpIdLength := textLength }
                built := and(
                    iszero(iszero(rpIdLength)),
                    iszero(gt(add(rpIdStart, rpIdLength), add(schemeLength, textLength)))
                )
            }
        }
        if (!built) return (false, 0, 0, 0, 0);
        uint256 originPtr;
        uint256 originLength;
        (json, jsonLength, originPtr, originLength) =
            ClientDataLib.standard(hash, textPtr, textLength, format & _HTTP != 0, format & _CROSS_ORIGIN != 0);
        assembly ("memory-safe") {
            originHash := keccak256(originPtr, originLength)
            auth := mload(0x40)
            if iszero(staticcall(gas(), 0x02, add(originPtr, rpIdStart), rpIdLength, auth, 0x20)) {
                invalid()
            }
            let flags := 0x05 // UP UV
            if and(format, _BACKED_UP) { flags := 0x1d } // UP UV BE BS
            mstore8(add(auth, 32), flags)
            mstore(add(auth, 33), shl(224, signCount))
            mstore(0x40, add(auth, 0x60))
        }
    }

    /// @dev Step 1, general form: {_parse}, the clientDataJSON from the member list ({ClientDataLib-fromMembers}) and
    /// the authenticator data ({_authenticatorData}).
    function _generalForm(bytes32 hash, bytes calldata signature)
        private
        view
        returns (bool built, uint256 json, uint256 jsonLength, bytes32 originHash, uint256 auth, uint256 authLength)
    {
        (bool wellFormed, uint256 authPtr, uint256 sentLength, uint256 dataPtr, uint256 dataLength) = _parse(signature);
        if (!wellFormed) return (false, 0, 0, 0, 0, 0);
        uint256 originPtr;
        uint256 originLength;
        (built, json, jsonLength, originHash, originPtr, originLength) =
            ClientDataLib.fromMembers(hash, dataPtr, dataLength);
        if (!built) return (false, 0, 0, 0, 0, 0);
        (built, auth, authLength) = _authenticatorData(authPtr, sentLength, originPtr, originLength);
    }

    /// @dev The general form's layout: where authenticatorData and the member list lie: `uint16` authenticatorData length at 0x84,
    /// the data right after it, the member list to the end. authenticatorData holds at least the rpIdHash, the flags
    /// and the counter (37 bytes), or is one of the compact forms (3 or 7 bytes).
    function _parse(bytes calldata signature)
        private
        pure
        returns (bool wellFormed, uint256 authPtr, uint256 authLength, uint256 dataPtr, uint256 dataLength)
    {
        if (signature.length < _HEAD_LENGTH) return (false, 0, 0, 0, 0);
        assembly ("memory-safe") {
            authLength := shr(240, calldataload(add(signature.offset, _FORM)))
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

    /// @dev The general form's authenticator data, into memory at `auth` (with a free word after it for {_signedMessage}): the
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

    /// @dev Step 2, the registered key: the signature's key, the authenticator data's rpIdHash and the client data's
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

    /// @dev Step 3, the authenticator data flags: user present (UP) and verified (UV), backed up (BS) only when
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

    /// @dev Step 4, the signature: P-256 over `digest` with low s, on the RIP-7212 precompile (called directly).
    /// False for anything but a clear success.
    function _verifyP256LowS(bytes calldata signature, bytes32 digest) private view returns (bool valid) {
        assembly ("memory-safe") {
            // The head was length-checked by the caller.
            let r := calldataload(add(signature.offset, _R))
            let s := calldataload(add(signature.offset, _S))
            let m := mload(0x40)
            mstore(m, digest)
            mstore(add(m, 0x20), r)
            mstore(add(m, 0x40), s)
            mstore(add(m, 0x60), calldataload(add(signature.offset, _X)))
            mstore(add(m, 0x80), calldataload(add(signature.offset, _Y)))
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
    }

    /// @dev Step 4 where the precompile said no: OpenZeppelin {P256-verify}, which tells an invalid signature from a
    /// missing precompile and checks in Solidity (low s as well).
    function _verifyP256InSolidity(bytes calldata signature, bytes32 digest) private view returns (bool) {
        bytes32 x;
        bytes32 y;
        bytes32 r;
        bytes32 s;
        assembly ("memory-safe") {
            x := calldataload(add(signature.offset, _X))
            y := calldataload(add(signature.offset, _Y))
            r := calldataload(add(signature.offset, _R))
            s := calldataload(add(signature.offset, _S))
        }
        return P256.verify(digest, r, s, x, y);
    }
}
