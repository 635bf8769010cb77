// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {
    IERC7579Module,
    IERC7579ModuleConfig,
    IERC7579Validator,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title WebAuthnValidator
/// @notice ERC-7579 validator (type 1): passkeys (WebAuthn, P-256) sign userOps and ERC-1271 digests.
/// @dev Per account, any number of passkeys: credential id -> P-256 key bound to the rpId and origin it was
/// registered for. Storage holds one 32-byte commitment per (credential, account),
/// `keccak256(abi.encode(x, y, sha256(rpId), keccak256(origin)))`; the key itself travels in the signature
/// and in the {PasskeyAdded} event. All storage read in validation is keyed by the account (ERC-7562).
///
/// Signature (flat, `abi.encode`, see the README): `(bytes32 credentialIdHash, bytes32 x, bytes32 y, bytes32 r,
/// bytes32 s, uint256 originLength, bytes authenticatorData, bytes clientDataSuffix)` where
/// `clientDataJSON = '{"type":"webauthn.get","challenge":"' ‖ base64url(hash) ‖ '"' ‖ clientDataSuffix`
/// (browsers serialise `type`, `challenge`, `origin` first, in this order) and `clientDataSuffix` starts with
/// `,"origin":"<origin>"`.
///
/// A signature is valid when: the key is registered for the account under `credentialIdHash`; the
/// authenticator data's rpIdHash and the clientDataJSON `origin` are the ones the key was registered with;
/// flags UP and UV are set (and BS implies BE); `type` is `webauthn.get` and `challenge` is base64url(hash)
/// (both fixed by the reconstruction above); and the P-256 signature (low-s) verifies (RIP-7212 precompile at
/// 0x100, OpenZeppelin's Solidity fallback otherwise).
/// Invalid input never reverts: it returns SIG_VALIDATION_FAILED / 0xffffffff. Once the input is well formed,
/// the P-256 check runs even if another check failed, so a dummy signature costs what a real one does.
contract WebAuthnValidator is IERC7579Validator {
    /// @dev Static head of the signature: 6 words + 2 offsets.
    uint256 private constant _HEAD_LENGTH = 0x100;
    /// @dev clientDataJSON up to the challenge value (36 bytes).
    bytes private constant _CLIENT_DATA_PREFIX = '{"type":"webauthn.get","challenge":"';
    bytes1 private constant _FLAG_UP = 0x01;
    bytes1 private constant _FLAG_UV = 0x04;
    bytes1 private constant _FLAG_BE = 0x08;
    bytes1 private constant _FLAG_BS = 0x10;

    /// @dev Accounts that registered a credential (append-only; {accountsOf} filters the current ones).
    struct CredentialAccounts {
        address first;
        uint96 length;
        mapping(uint256 index => address account) rest;
    }

    mapping(bytes32 credentialIdHash => mapping(address account => bytes32 commitment)) private _commitments;
    // Passkeys beyond the first: the first one needs no counter slot (deployment gas).
    mapping(address account => uint256 count) private _extraPasskeys;
    mapping(bytes32 credentialIdHash => CredentialAccounts) private _credentialAccounts;

    /// @notice Emitted when `account` registered a passkey.
    /// @param account The account.
    /// @param credentialIdHash keccak256 of the credential id.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The WebAuthn relying party id the key is bound to.
    /// @param origin The origin (e.g. `https://auth.example`) the key is bound to.
    event PasskeyAdded(
        address indexed account,
        bytes32 indexed credentialIdHash,
        bytes credentialId,
        bytes32 x,
        bytes32 y,
        string rpId,
        string origin
    );

    /// @notice Emitted when `account` removed a passkey.
    /// @param account The account.
    /// @param credentialIdHash keccak256 of the credential id.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    event PasskeyRemoved(address indexed account, bytes32 indexed credentialIdHash, bytes credentialId);

    /// @notice Thrown when the credential is already registered for the account.
    error PasskeyAlreadyRegistered(address account, bytes credentialId);

    /// @notice Thrown when the credential is not registered for the account.
    error PasskeyNotRegistered(address account, bytes credentialId);

    /// @notice Thrown when removing the account's last passkey.
    error LastPasskey(address account, bytes credentialId);

    /// @notice Thrown when a passkey is malformed (empty credential id, rpId or origin, or a point off the curve).
    error InvalidPasskey(bytes credentialId);

    /// @notice Thrown when the account has not installed this validator (no passkey registered).
    error NotInstalled(address account);

    /// @notice Thrown when uninstalling without listing every registered credential id.
    error PasskeysRemaining(address account, uint256 remaining);

    // ------------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Registers the first passkey of the calling account.
    /// @dev The account guarantees one install at a time; uninstalling clears every key.
    /// @param data `abi.encode(bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin)`.
    function onInstall(bytes calldata data) external {
        (bytes memory credentialId, bytes32 x, bytes32 y, string memory rpId, string memory origin) =
            abi.decode(data, (bytes, bytes32, bytes32, string, string));
        _addPasskey(msg.sender, credentialId, x, y, rpId, origin);
    }

    /// @notice Removes every passkey of the calling account.
    /// @param data `abi.encode(bytes[] credentialIds)`: all registered credential ids (events list them).
    function onUninstall(bytes calldata data) external {
        bytes[] memory credentialIds = abi.decode(data, (bytes[]));
        uint256 count = _extraPasskeys[msg.sender] + 1;
        for (uint256 i = 0; i < credentialIds.length; ++i) {
            bytes32 credentialIdHash = keccak256(credentialIds[i]);
            if (_commitments[credentialIdHash][msg.sender] == 0) {
                revert PasskeyNotRegistered(msg.sender, credentialIds[i]);
            }
            delete _commitments[credentialIdHash][msg.sender];
            --count;
            emit PasskeyRemoved(msg.sender, credentialIdHash, credentialIds[i]);
        }
        // Left-over keys would come back to life on a later re-install.
        if (count != 0) revert PasskeysRemaining(msg.sender, count);
        _extraPasskeys[msg.sender] = 0;
    }

    /// @notice This is a validator (type 1) only.
    /// @param moduleTypeId ERC-7579 module type.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Passkey management (called by the account)
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Registers another passkey for the calling account.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id (hashed with sha256 as in authenticator data).
    /// @param origin The exact `origin` of clientDataJSON (scheme://host[:port]).
    function addPasskey(bytes calldata credentialId, bytes32 x, bytes32 y, string calldata rpId, string calldata origin)
        external
    {
        if (!_isInstalledOn(msg.sender)) revert NotInstalled(msg.sender);
        _addPasskey(msg.sender, credentialId, x, y, rpId, origin);
        ++_extraPasskeys[msg.sender];
    }

    /// @notice Removes a passkey of the calling account; the last one can't be removed.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    function removePasskey(bytes calldata credentialId) external {
        bytes32 credentialIdHash = keccak256(credentialId);
        if (_commitments[credentialIdHash][msg.sender] == 0) revert PasskeyNotRegistered(msg.sender, credentialId);
        uint256 extra = _extraPasskeys[msg.sender];
        if (extra == 0) revert LastPasskey(msg.sender, credentialId);
        delete _commitments[credentialIdHash][msg.sender];
        _extraPasskeys[msg.sender] = extra - 1;
        emit PasskeyRemoved(msg.sender, credentialIdHash, credentialId);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The commitment `keccak256(abi.encode(x, y, sha256(rpId), keccak256(origin)))` of a passkey, or 0.
    /// @param account The account.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    function passkeyCommitment(address account, bytes calldata credentialId) external view returns (bytes32) {
        return _commitments[keccak256(credentialId)][account];
    }

    /// @notice Whether `account` has exactly this passkey (key, rpId and origin) under `credentialId`.
    /// @param account The account.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id.
    /// @param origin The origin.
    function hasPasskey(
        address account,
        bytes calldata credentialId,
        bytes32 x,
        bytes32 y,
        string calldata rpId,
        string calldata origin
    ) external view returns (bool) {
        bytes32 commitment = _commitments[keccak256(credentialId)][account];
        return commitment != 0 && commitment == passkeyCommitmentOf(x, y, rpId, origin);
    }

    /// @notice The number of passkeys of `account` (0 when this validator is not installed).
    /// @param account The account.
    function passkeyCount(address account) external view returns (uint256) {
        return _isInstalledOn(account) ? _extraPasskeys[account] + 1 : 0;
    }

    /// @notice Accounts that currently hold `credentialId` and have this validator installed (login on a new
    /// device). A hint, not a proof: anyone can register any public credential for a contract of their own, so
    /// check a candidate (e.g. it is a proxy of our implementation and `hasPasskey` matches the key) before use.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @return accounts Every account with this credential registered, oldest first, without duplicates.
    function accountsOf(bytes calldata credentialId) external view returns (address[] memory accounts) {
        bytes32 credentialIdHash = keccak256(credentialId);
        CredentialAccounts storage list = _credentialAccounts[credentialIdHash];
        uint256 length = list.length;
        accounts = new address[](length);
        uint256 found = 0;
        for (uint256 i = 0; i < length; ++i) {
            address account = i == 0 ? list.first : list.rest[i];
            if (_commitments[credentialIdHash][account] == 0 || !_isInstalledOn(account)) continue;
            bool duplicate = false;
            for (uint256 j = 0; j < found; ++j) {
                if (accounts[j] == account) duplicate = true;
            }
            if (!duplicate) accounts[found++] = account;
        }
        assembly ("memory-safe") {
            mstore(accounts, found)
        }
    }

    /// @notice The commitment stored for a passkey: `keccak256(abi.encode(x, y, sha256(rpId), keccak256(origin)))`.
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id.
    /// @param origin The origin.
    function passkeyCommitmentOf(bytes32 x, bytes32 y, string memory rpId, string memory origin)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(x, y, sha256(bytes(rpId)), keccak256(bytes(origin))));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Validation
    // ------------------------------------------------------------------------------------------------------------

    /// @notice ERC-4337 validation for the calling account: the passkey signs `userOpHash`.
    /// @param userOp The user operation (its `signature` is the flat WebAuthn signature).
    /// @param userOpHash The EntryPoint v0.8 userOp hash (the WebAuthn challenge).
    /// @return 0 on success, 1 (SIG_VALIDATION_FAILED) otherwise.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external view returns (uint256) {
        return _internalVerify(msg.sender, userOpHash, userOp.signature)
            ? ERC4337Utils.SIG_VALIDATION_SUCCESS
            : ERC4337Utils.SIG_VALIDATION_FAILED;
    }

    /// @notice ERC-1271 for the calling account: the passkey signs `hash` (the account's ERC-7739 digest).
    /// @param hash The digest (the WebAuthn challenge).
    /// @param signature The flat WebAuthn signature.
    /// @return 0x1626ba7e on success, 0xffffffff otherwise.
    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        return _internalVerify(msg.sender, hash, signature) ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    /// @notice Checks a flat WebAuthn signature of `hash` by a passkey of `account` (same rules as validation).
    /// @param account The account.
    /// @param hash The signed hash (challenge).
    /// @param signature The flat WebAuthn signature.
    function verify(address account, bytes32 hash, bytes calldata signature) external view returns (bool) {
        return _internalVerify(account, hash, signature);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    function _addPasskey(
        address account,
        bytes memory credentialId,
        bytes32 x,
        bytes32 y,
        string memory rpId,
        string memory origin
    ) internal {
        if (
            credentialId.length == 0 || bytes(rpId).length == 0 || bytes(origin).length == 0
                || !P256.isValidPublicKey(x, y)
        ) revert InvalidPasskey(credentialId);
        bytes32 credentialIdHash = keccak256(credentialId);
        if (_commitments[credentialIdHash][account] != 0) revert PasskeyAlreadyRegistered(account, credentialId);
        _commitments[credentialIdHash][account] = passkeyCommitmentOf(x, y, rpId, origin);

        CredentialAccounts storage list = _credentialAccounts[credentialIdHash];
        uint96 length = list.length;
        if (length == 0) {
            list.first = account;
        } else {
            list.rest[length] = account;
        }
        list.length = length + 1;

        emit PasskeyAdded(account, credentialIdHash, credentialId, x, y, rpId, origin);
    }

    /// @dev Whether `account` reports this validator as installed (false for non-accounts).
    function _isInstalledOn(address account) private view returns (bool) {
        (bool ok, bytes memory result) = account.staticcall(
            abi.encodeCall(IERC7579ModuleConfig.isModuleInstalled, (MODULE_TYPE_VALIDATOR, address(this), ""))
        );
        return ok && result.length >= 32 && abi.decode(result, (uint256)) == 1;
    }

    /// @dev Never reverts on malformed input. Past the structural checks every check is evaluated (no early
    /// return), so that gas estimation with a dummy signature costs at least what a real one does.
    /// Written in assembly: calldata slices and memory copies in Solidity cost more than the P-256 check itself.
    function _internalVerify(address account, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        if (signature.length < _HEAD_LENGTH) return false;
        uint256 authPtr;
        uint256 authLength;
        uint256 suffixPtr;
        uint256 suffixLength;
        bool wellFormed;
        assembly ("memory-safe") {
            let base := signature.offset
            let length := signature.length
            let authOffset := calldataload(add(base, 0xc0))
            let suffixOffset := calldataload(add(base, 0xe0))
            // offset + 32 <= length (length >= 0x100, no underflow)
            wellFormed := and(lt(authOffset, sub(length, 0x1f)), lt(suffixOffset, sub(length, 0x1f)))
            if wellFormed {
                authLength := calldataload(add(base, authOffset))
                suffixLength := calldataload(add(base, suffixOffset))
                authPtr := add(base, add(authOffset, 0x20))
                suffixPtr := add(base, add(suffixOffset, 0x20))
                wellFormed := and(
                    and(
                        iszero(gt(authLength, sub(sub(length, authOffset), 0x20))),
                        iszero(gt(suffixLength, sub(sub(length, suffixOffset), 0x20)))
                    ),
                    gt(authLength, 36)
                )
            }
        }
        if (!wellFormed) return false;

        bool ok = _checkKey(account, signature, authPtr, suffixPtr, suffixLength);
        assembly ("memory-safe") {
            // flags: UP, UV, and BS only with BE
            let flags := byte(0, calldataload(add(authPtr, 32)))
            ok := and(
                ok,
                and(
                    and(and(flags, 0x01), shr(2, and(flags, 0x04))),
                    or(shr(3, and(flags, 0x08)), iszero(and(flags, 0x10)))
                )
            )
        }
        return _checkP256(signature, _digest(hash, authPtr, authLength, suffixPtr, suffixLength)) && ok;
    }

    /// @dev The key, the rpIdHash and the origin match the commitment registered for the account. The suffix must
    /// start with `,"origin":"<origin>"` where `<origin>` is `originLength` bytes long; the pattern can only be the
    /// `origin` member since it follows the challenge's closing quote.
    function _checkKey(
        address account,
        bytes calldata signature,
        uint256 authPtr,
        uint256 suffixPtr,
        uint256 suffixLength
    ) private view returns (bool ok) {
        bytes32 credentialIdHash;
        assembly ("memory-safe") {
            credentialIdHash := calldataload(signature.offset)
        }
        bytes32 commitment = _commitments[credentialIdHash][account];
        assembly ("memory-safe") {
            let base := signature.offset
            let originLength := calldataload(add(base, 0xa0))
            ok := and(
                and(lt(originLength, suffixLength), iszero(lt(sub(suffixLength, originLength), 12))),
                // ,"origin":"
                eq(shr(168, calldataload(suffixPtr)), 0x2c226f726967696e223a22)
            )
            ok := and(ok, eq(byte(0, calldataload(add(suffixPtr, add(11, originLength)))), 0x22))
            if ok {
                let m := mload(0x40)
                calldatacopy(m, add(suffixPtr, 11), originLength)
                let originHash := keccak256(m, originLength)
                mstore(m, calldataload(add(base, 0x20))) // x
                mstore(add(m, 0x20), calldataload(add(base, 0x40))) // y
                mstore(add(m, 0x40), calldataload(authPtr)) // rpIdHash
                mstore(add(m, 0x60), originHash)
                ok := and(iszero(iszero(commitment)), eq(keccak256(m, 0x80), commitment))
            }
        }
    }

    /// @dev The message the passkey signed: sha256(authenticatorData ‖ sha256(clientDataJSON)), with
    /// clientDataJSON = `{"type":"webauthn.get","challenge":"` ‖ base64url(hash) ‖ `"` ‖ suffix. Browsers
    /// serialise type, challenge and origin first, in this order, so only what follows the challenge travels.
    function _digest(bytes32 hash, uint256 authPtr, uint256 authLength, uint256 suffixPtr, uint256 suffixLength)
        private
        view
        returns (bytes32 digest)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            // {"type":"webauthn.get","challenge":"   (36 bytes)
            mstore(m, '{"type":"webauthn.get","challeng')
            mstore(add(m, 0x20), 'e":"')
            // base64url(hash): 43 characters, no padding, computed 32 characters per word (SWAR):
            // 24-bit groups go to 32-bit lanes, each lane is spread to four 6-bit indices (one per byte),
            // and the indices map to ASCII with per-byte range flags.
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
            let out := add(m, 36)
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
            mstore8(add(m, 79), 0x22)
            calldatacopy(add(m, 80), suffixPtr, suffixLength)
            if iszero(staticcall(gas(), 0x02, m, add(80, suffixLength), 0x00, 0x20)) { invalid() }
            let clientDataHash := mload(0x00)
            calldatacopy(m, authPtr, authLength)
            mstore(add(m, authLength), clientDataHash)
            if iszero(staticcall(gas(), 0x02, m, add(authLength, 0x20), 0x00, 0x20)) { invalid() }
            digest := mload(0x00)
        }
    }

    /// @dev P-256 with low-s. Tries the RIP-7212 precompile directly; anything but a clear success goes through
    /// OpenZeppelin {P256-verify}, which tells an invalid signature from a missing precompile (Solidity fallback).
    function _checkP256(bytes calldata signature, bytes32 digest) private view returns (bool valid) {
        bytes32 r;
        bytes32 s;
        bytes32 x;
        bytes32 y;
        assembly ("memory-safe") {
            // The head (0x100 bytes) was length-checked by the caller.
            x := calldataload(add(signature.offset, 0x20))
            y := calldataload(add(signature.offset, 0x40))
            r := calldataload(add(signature.offset, 0x60))
            s := calldataload(add(signature.offset, 0x80))
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
