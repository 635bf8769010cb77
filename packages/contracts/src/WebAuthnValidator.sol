// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInstallBoundValidator} from "./modules/IInstallBoundValidator.sol";
import {IPasskeyStore, IPasskeyStoreValidator, PASSKEY_RULES} from "./webauthn/IPasskeyStore.sol";
import {PasskeyAccountIndex} from "./webauthn/PasskeyAccountIndex.sol";
import {WebAuthnSignatureLib} from "./webauthn/WebAuthnSignatureLib.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Validator, MODULE_TYPE_VALIDATOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title WebAuthnValidator
/// @notice ERC-7579 validator (type 1): passkeys (WebAuthn, P-256) sign userOps and ERC-1271 digests.
/// @dev Per account, any number of passkeys: credential id -> P-256 key bound to the rpId and origin it was
/// registered for. Each passkey is one word, under the credential's 4-byte key (the first 4 bytes of
/// keccak256(credentialId), which the signature carries instead of the whole hash): the top 160 bits of the
/// commitment `keccak256(abi.encode(x, y, sha256(rpId), keccak256(origin)))`, bits 4..15 of the credential id's
/// hash (so a passkey is told from another one with the same key) and the "proven" flag in the lowest bit (see
/// {passkeyCommitment}); the key itself travels in the signature and in the {PasskeyAdded} event.
/// The words live in the account ({IPasskeyStore}, docs/webauthn.md "Where passkeys are stored"): this validator
/// decides them and writes them to the account calling it, and the account checks its passkey userOps in its own
/// code with the same rules, asking this validator only when its check does not accept. An account must therefore
/// implement {IPasskeyStore} (the SsoAccount does, for its preset passkey validator). All storage read in
/// validation is the account's own (ERC-7562); nothing keyed by a credential is written during validation.
/// The views that take an account ({passkeyCommitment}, {passkeyState}, {hasPasskey}, {passkeyCount}, {verify})
/// report what that account keeps: for an SsoAccount proxy only this validator writes it, any other contract
/// answers what it likes. {accountsOf} lists only accounts a passkey joined with a proof; still check that a
/// candidate is an SsoAccount proxy before trusting any of them.
///
/// Proof of possession: a passkey joins an account with an assertion by that passkey over
/// {registrationChallenge}`(account, credentialId)` (chain-independent; it names the credential id and a nonce
/// that every removal of that passkey from that account bumps), so no one can attach someone else's public
/// credential to an account of theirs, and a removed passkey can't come back with an old proof. The only passkey
/// registered without a proof is the first one of an account deployed by the AccountFactory, whose address derives
/// from that very passkey. Only proven registrations enter the passkey -> account index ({accountsOf}), which is
/// keyed by the credential id and the key together: only the key's holder can add to its list. Log-in finds the
/// first passkey's account by the factory's derivation.
///
/// Signatures are packed WebAuthn assertions, checked step by step by {WebAuthnSignatureLib} (docs/webauthn.md):
/// the key is registered for the account under the signature's `credentialIdHash`, with the rpId and origin the
/// assertion names; flags UP and UV; a low-s P-256 signature. Invalid input never reverts: it returns
/// SIG_VALIDATION_FAILED / 0xffffffff.
contract WebAuthnValidator is PasskeyAccountIndex, IERC7579Validator, IInstallBoundValidator, IPasskeyStoreValidator {
    /// @notice The type hash of a passkey registration proof: the challenge the joining passkey signs.
    bytes32 public constant REGISTRATION_TYPEHASH =
        keccak256("SsoPasskeyRegistration(address validator,address account,bytes32 credentialIdHash,uint256 nonce)");

    /// @dev The stored word: commitment (top 160 bits) ‖ credential id hash bytes 4..15 (96 bits, lowest bit: proven).
    uint256 private constant _CREDENTIAL_BITS = (1 << 96) - 2;

    /// @dev Gas given to an account's {IPasskeyStore-passkeyEntry} in views (bounds {accountsOf}).
    uint256 private constant _ENTRY_READ_GAS = 30_000;

    // Passkeys beyond the first: the first one needs no counter slot (deployment gas).
    mapping(address account => uint256 count) private _extraPasskeys;
    // Bumped each time the passkey leaves the account: proofs signed before no longer hold.
    mapping(bytes32 credentialIdHash => mapping(address account => uint256 nonce)) private _registrationNonces;

    // ------------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Registers the first passkey of the calling account, which must report this validator installed
    /// (`NotInstalled` otherwise: called directly, it would leave a key behind the account's back).
    /// @dev The account guarantees one install at a time; uninstalling clears every key. Without a proof the
    /// passkey is registered as {PasskeyState.Installed}: the factory's first passkey, which log-in trusts only
    /// when the account's address derives from it.
    /// @param data `abi.encode(bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin)`, or the same
    /// with a sixth member `bytes proof` (a WebAuthn signature of {registrationChallenge}, as in validation).
    function onInstall(bytes calldata data) external {
        if (!_isInstalledOn(msg.sender)) revert NotInstalled(msg.sender);
        // The first head word is the credential id's offset: 0xa0 with five members, 0xc0 with a proof.
        if (data.length >= 0x20 && uint256(bytes32(data[0:0x20])) == 0xc0) {
            (bytes memory credentialId, bytes32 x, bytes32 y, string memory rpId, string memory origin,) =
                abi.decode(data, (bytes, bytes32, bytes32, string, string, bytes));
            // The proof as a calldata slice (the verifier reads calldata); slicing reverts when out of bounds.
            uint256 offset = uint256(bytes32(data[0xa0:0xc0]));
            uint256 length = uint256(bytes32(data[offset:offset + 0x20]));
            _addProvenPasskey(msg.sender, credentialId, x, y, rpId, origin, data[offset + 0x20:offset + 0x20 + length]);
        } else {
            (bytes memory credentialId, bytes32 x, bytes32 y, string memory rpId, string memory origin) =
                abi.decode(data, (bytes, bytes32, bytes32, string, string));
            _addPasskey(msg.sender, credentialId, x, y, rpId, origin, false);
        }
    }

    /// @notice Removes every passkey of the calling account.
    /// @param data `abi.encode(bytes[] credentialIds)`: all registered credential ids (events list them).
    function onUninstall(bytes calldata data) external {
        bytes[] memory credentialIds = abi.decode(data, (bytes[]));
        uint256 count = _extraPasskeys[msg.sender] + 1;
        for (uint256 i = 0; i < credentialIds.length; ++i) {
            bytes32 credentialIdHash = keccak256(credentialIds[i]);
            if (_entryOf(credentialIdHash, msg.sender) == 0) revert PasskeyNotRegistered(msg.sender, credentialIds[i]);
            _store(msg.sender, bytes4(credentialIdHash), 0);
            ++_registrationNonces[credentialIdHash][msg.sender];
            --count;
            emit PasskeyRemoved(msg.sender, credentialIdHash, credentialIds[i]);
        }
        // Left-over keys would come back to life on a later re-install.
        if (count != 0) revert PasskeysRemaining(msg.sender, count);
        _extraPasskeys[msg.sender] = 0;
    }

    /// @notice True: keys are only taken from an account that reports this validator installed ({onInstall},
    /// {addPasskey}) and {onUninstall} clears them all, so an account that has not installed it has no key here.
    function isInstallBound() external pure returns (bool) {
        return true;
    }

    /// @notice {PASSKEY_RULES}: passkeys are kept in the account ({IPasskeyStore}), which checks its passkey userOps
    /// itself with WebAuthnSignatureLib.
    function passkeyRules() external pure returns (bytes32) {
        return PASSKEY_RULES;
    }

    /// @notice This is a validator (type 1) only.
    /// @param moduleTypeId ERC-7579 module type.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Passkey management (called by the account)
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Registers another passkey for the calling account, with its proof of possession.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id (hashed with sha256 as in authenticator data).
    /// @param origin The exact `origin` of clientDataJSON (scheme://host[:port]).
    /// @param proof A WebAuthn signature (the validation encoding) by this passkey of
    /// `registrationChallenge(msg.sender, credentialId)`.
    function addPasskey(
        bytes calldata credentialId,
        bytes32 x,
        bytes32 y,
        string calldata rpId,
        string calldata origin,
        bytes calldata proof
    ) external {
        if (!_isInstalledOn(msg.sender)) revert NotInstalled(msg.sender);
        _addProvenPasskey(msg.sender, credentialId, x, y, rpId, origin, proof);
        ++_extraPasskeys[msg.sender];
    }

    /// @notice Removes a passkey of the calling account; the last one can't be removed. Proofs it signed for this
    /// account no longer hold (its registration nonce moves on).
    /// @param credentialId The WebAuthn credential id (raw bytes).
    function removePasskey(bytes calldata credentialId) external {
        bytes32 credentialIdHash = keccak256(credentialId);
        if (_entryOf(credentialIdHash, msg.sender) == 0) revert PasskeyNotRegistered(msg.sender, credentialId);
        uint256 extra = _extraPasskeys[msg.sender];
        if (extra == 0) revert LastPasskey(msg.sender, credentialId);
        _store(msg.sender, bytes4(credentialIdHash), 0);
        ++_registrationNonces[credentialIdHash][msg.sender];
        _extraPasskeys[msg.sender] = extra - 1;
        emit PasskeyRemoved(msg.sender, credentialIdHash, credentialId);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The challenge a passkey signs to join `account` under `credentialId`:
    /// `keccak256(abi.encode(REGISTRATION_TYPEHASH, address(this), account, keccak256(credentialId), nonce))` with
    /// the {registrationNonce}. No chain id: the proof holds on every chain, where the account has the same address
    /// (and the same nonce until the passkey is removed there).
    /// @param account The account the passkey joins.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    function registrationChallenge(address account, bytes calldata credentialId) external view returns (bytes32) {
        return _registrationChallenge(account, keccak256(credentialId));
    }

    /// @notice How many times the passkey `credentialId` left `account` (signed into {registrationChallenge}).
    /// @param account The account.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    function registrationNonce(address account, bytes calldata credentialId) external view returns (uint256) {
        return _registrationNonces[keccak256(credentialId)][account];
    }

    /// @notice The stored word of a passkey (0 when not registered): the top 160 bits of {passkeyCommitmentOf},
    /// then bits 4..15 of keccak256(credentialId) with the lowest bit replaced by the proven flag.
    /// @param account The account.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    function passkeyCommitment(address account, bytes calldata credentialId) external view returns (bytes32) {
        return bytes32(_entryOf(keccak256(credentialId), account));
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
        return passkeyState(account, credentialId, x, y, rpId, origin) != PasskeyState.None;
    }

    /// @notice How `account` holds exactly this passkey: not at all, installed without proof, or proven.
    /// @param account The account.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id.
    /// @param origin The origin.
    function passkeyState(
        address account,
        bytes calldata credentialId,
        bytes32 x,
        bytes32 y,
        string calldata rpId,
        string calldata origin
    ) public view returns (PasskeyState) {
        bytes32 credentialIdHash = keccak256(credentialId);
        uint256 stored = _entryOf(credentialIdHash, account);
        if (stored == 0 || stored | 1 != _entry(credentialIdHash, passkeyCommitmentOf(x, y, rpId, origin), true)) {
            return PasskeyState.None;
        }
        return stored & 1 == 1 ? PasskeyState.Proven : PasskeyState.Installed;
    }

    /// @notice The number of passkeys of `account` (0 when this validator is not installed).
    /// @param account The account.
    function passkeyCount(address account) external view returns (uint256) {
        return _isInstalledOn(account) ? _extraPasskeys[account] + 1 : 0;
    }

    /// @notice Accounts that this passkey (credential id, key, rpId and origin) joined with a proof of possession
    /// and still holds, with this validator installed (log-in on a new device). At most
    /// {MAX_ACCOUNTS_PER_CREDENTIAL}, oldest first, and only accounts the key's holder signed for: the list is keyed
    /// by the key as well, so outsiders can neither add to it nor fill it. An account's first passkey is not listed:
    /// its account is the factory's address for that passkey. Still check a candidate's code (a proxy of the SSO
    /// implementation) before trusting it.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id.
    /// @param origin The origin.
    /// @return accounts The accounts, oldest first.
    function accountsOf(bytes calldata credentialId, bytes32 x, bytes32 y, string calldata rpId, string calldata origin)
        external
        view
        returns (address[] memory accounts)
    {
        bytes32 credentialIdHash = keccak256(credentialId);
        bytes32 commitment = passkeyCommitmentOf(x, y, rpId, origin);
        return _listedAccounts(credentialIdHash, commitment, _entry(credentialIdHash, commitment, true));
    }

    /// @notice The commitment of a passkey: `keccak256(abi.encode(x, y, sha256(rpId), keccak256(origin)))` (stored
    /// with its lowest bit set to the proven flag).
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
    /// @param userOp The user operation (its `signature` is the packed WebAuthn signature).
    /// @param userOpHash The EntryPoint v0.8 userOp hash (the WebAuthn challenge).
    /// @return 0 on success, 1 (SIG_VALIDATION_FAILED) otherwise.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external view returns (uint256) {
        return _internalVerify(msg.sender, userOpHash, userOp.signature)
            ? ERC4337Utils.SIG_VALIDATION_SUCCESS
            : ERC4337Utils.SIG_VALIDATION_FAILED;
    }

    /// @notice ERC-1271 for the calling account: the passkey signs `hash` (the account's ERC-7739 digest).
    /// @param hash The digest (the WebAuthn challenge).
    /// @param signature The packed WebAuthn signature.
    /// @return 0x1626ba7e on success, 0xffffffff otherwise.
    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        return _internalVerify(msg.sender, hash, signature) ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    /// @notice Checks a packed WebAuthn signature of `hash` by a passkey of `account` (same rules as validation).
    /// @param account The account.
    /// @param hash The signed hash (challenge).
    /// @param signature The packed WebAuthn signature.
    function verify(address account, bytes32 hash, bytes calldata signature) external view returns (bool) {
        return _internalVerify(account, hash, signature);
    }

    /// @notice Checks a packed WebAuthn signature of `hash` by the given passkey, registered or not (e.g. a proof of
    /// possession before it is sent, or a genuine assertion under test). False for an origin that could not be
    /// registered (see {InvalidPasskey}).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id.
    /// @param origin The origin.
    /// @param hash The signed hash (challenge).
    /// @param signature The packed WebAuthn signature (its key fields must be this key).
    function verifyWithKey(
        bytes32 x,
        bytes32 y,
        string calldata rpId,
        string calldata origin,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bool) {
        return _isPlainOrigin(bytes(origin))
            && WebAuthnSignatureLib.verify(passkeyCommitmentOf(x, y, rpId, origin), hash, signature);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    function _addProvenPasskey(
        address account,
        bytes memory credentialId,
        bytes32 x,
        bytes32 y,
        string memory rpId,
        string memory origin,
        bytes calldata proof
    ) private {
        bytes32 credentialIdHash = keccak256(credentialId);
        bytes32 commitment = passkeyCommitmentOf(x, y, rpId, origin);
        if (!WebAuthnSignatureLib.verify(commitment, _registrationChallenge(account, credentialIdHash), proof)) {
            revert InvalidPasskeyProof(account, credentialId);
        }
        _addPasskey(account, credentialId, x, y, rpId, origin, true);
        _listAccount(account, credentialId, credentialIdHash, commitment, _entry(credentialIdHash, commitment, true));
    }

    function _registrationChallenge(address account, bytes32 credentialIdHash) private view returns (bytes32) {
        return keccak256(
            abi.encode(
                REGISTRATION_TYPEHASH,
                address(this),
                account,
                credentialIdHash,
                _registrationNonces[credentialIdHash][account]
            )
        );
    }

    function _addPasskey(
        address account,
        bytes memory credentialId,
        bytes32 x,
        bytes32 y,
        string memory rpId,
        string memory origin,
        bool proven
    ) private {
        if (
            credentialId.length == 0 || bytes(rpId).length == 0 || !_isPlainOrigin(bytes(origin))
                || !P256.isValidPublicKey(x, y)
        ) revert InvalidPasskey(credentialId);
        bytes32 credentialIdHash = keccak256(credentialId);
        if (_stored(account, bytes4(credentialIdHash)) != 0) {
            if (_entryOf(credentialIdHash, account) != 0) revert PasskeyAlreadyRegistered(account, credentialId);
            revert CredentialKeyTaken(account, credentialId);
        }
        _store(
            account, bytes4(credentialIdHash), _entry(credentialIdHash, passkeyCommitmentOf(x, y, rpId, origin), proven)
        );
        emit PasskeyAdded(account, credentialIdHash, credentialId, x, y, rpId, origin, proven);
    }

    /// @dev 1..255 bytes, printable ASCII without `"` and `\`: what a browser's serialised origin is, and what the
    /// one-byte origin length of the signature's client data can carry.
    function _isPlainOrigin(bytes memory origin) private pure returns (bool) {
        uint256 length = origin.length;
        if (length == 0 || length > 255) return false;
        for (uint256 i = 0; i < length; ++i) {
            bytes1 c = origin[i];
            if (c < 0x21 || c > 0x7e || c == 0x22 || c == 0x5c) return false;
        }
        return true;
    }

    /// @dev The word stored for a passkey: `commitment`'s top 160 bits, the credential id hash's bytes 4..15 and the
    /// proven flag in the lowest bit.
    function _entry(bytes32 credentialIdHash, bytes32 commitment, bool proven) private pure returns (uint256) {
        return
            (uint256(commitment) >> 96 << 96) | ((uint256(credentialIdHash) >> 128) & _CREDENTIAL_BITS)
                | (proven ? 1 : 0);
    }

    /// @dev The stored word of this very credential for `account` (0 when none, or when the word under its key is
    /// another credential's).
    function _entryOf(bytes32 credentialIdHash, address account) private view returns (uint256 stored) {
        stored = _stored(account, bytes4(credentialIdHash));
        if (stored & _CREDENTIAL_BITS != (uint256(credentialIdHash) >> 128) & _CREDENTIAL_BITS) stored = 0;
    }

    function _holdsProven(address account, bytes32 credentialIdHash, uint256 proven)
        internal
        view
        override
        returns (bool)
    {
        return _stored(account, bytes4(credentialIdHash)) == proven;
    }

    function _internalVerify(address account, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        bytes4 credentialKey;
        if (signature.length >= 4) credentialKey = bytes4(signature[0:4]);
        return WebAuthnSignatureLib.verify(bytes32(_stored(account, credentialKey)), hash, signature);
    }

    /// @dev The word `account` keeps for this validator under `credentialKey` ({IPasskeyStore-passkeyEntry}), 0 for an account that does
    /// not answer with one word (not deployed, or not a passkey store), with bounded gas and one word copied.
    function _stored(address account, bytes4 credentialKey) private view returns (uint256 entry) {
        bytes4 selector = IPasskeyStore.passkeyEntry.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), address())
            mstore(add(m, 0x24), credentialKey)
            mstore(0x00, 0)
            let ok := staticcall(_ENTRY_READ_GAS, account, m, 0x44, 0x00, 0x20)
            if and(ok, iszero(lt(returndatasize(), 0x20))) { entry := mload(0x00) }
        }
    }

    /// @dev Writes the word of a passkey of `account` ({IPasskeyStore-setPasskeyEntry}) and reads it back: an account
    /// that refuses the write or does not keep it (`PasskeyStoreUnsupported`) can't take passkeys.
    function _store(address account, bytes4 credentialKey, uint256 entry) private {
        (bool ok,) = account.call(abi.encodeCall(IPasskeyStore.setPasskeyEntry, (credentialKey, entry)));
        if (!ok || _stored(account, credentialKey) != entry) revert PasskeyStoreUnsupported(account);
    }
}
