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
/// `keccak256(abi.encode(x, y, sha256(rpId), keccak256(origin)))` with its lowest bit replaced by the "proven" flag;
/// the key itself travels in the signature and in the {PasskeyAdded} event. All storage read in validation is
/// keyed by the account (ERC-7562); nothing keyed by a credential is written during validation.
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
/// Signature (packed, see docs/webauthn.md): `bytes32 credentialIdHash ‖ bytes32 x ‖ bytes32 y ‖ bytes32 r ‖
/// bytes32 s ‖ uint16 authenticatorDataLength ‖ authenticatorData ‖ clientData`. `clientData` describes the clientDataJSON
/// the browser produced as a list of members, from which the validator rebuilds the exact JSON text that was
/// signed (members in the browser's order): `0x01` `"type":"webauthn.get"`; `0x02` `"challenge":"<base64url(hash)>"`;
/// `0x03 len origin` `"origin":"<origin>"`; `0x04 len origin` the same with every `/` escaped as `\/` (Android);
/// `0x05` `"crossOrigin":false`; `0x06 keyLen valueLen key value` any other string member (`androidPackageName`,
/// Chrome's `other_keys_can_be_added_here`), whose key and value may not contain `"` or `\` and whose key may not
/// be type, challenge, origin, crossOrigin or topOrigin. type, challenge and origin are required once each,
/// crossOrigin at most once; `"crossOrigin":true` and `topOrigin` can't be expressed, so cross-origin (framed)
/// assertions never verify.
///
/// A signature is valid when: the key is registered for the account under `credentialIdHash`; the
/// authenticator data's rpIdHash and the clientDataJSON `origin` are the ones the key was registered with;
/// flags UP and UV are set (and BS implies BE); and the P-256 signature (low-s) over
/// `sha256(authenticatorData ‖ sha256(clientDataJSON))` verifies (RIP-7212 precompile at 0x100, OpenZeppelin's
/// Solidity fallback otherwise). Invalid input never reverts: it returns SIG_VALIDATION_FAILED / 0xffffffff.
/// Once the input is well formed, the P-256 check runs even if another check failed, so a dummy signature costs
/// what a real one does.
contract WebAuthnValidator is IERC7579Validator {
    /// @dev Fixed head of the signature: 5 words and the uint16 authenticatorData length.
    uint256 private constant _HEAD_LENGTH = 0xa2;

    /// @notice How many accounts one passkey can join with a proof (bounds {accountsOf}).
    uint256 public constant MAX_ACCOUNTS_PER_CREDENTIAL = 16;

    /// @dev Gas given to an account's `isModuleInstalled` when the validator asks it (bounds {accountsOf}).
    uint256 private constant _INSTALLED_CHECK_GAS = 50_000;

    /// @notice The type hash of a passkey registration proof: the challenge the joining passkey signs.
    bytes32 public constant REGISTRATION_TYPEHASH =
        keccak256("SsoPasskeyRegistration(address validator,address account,bytes32 credentialIdHash,uint256 nonce)");

    /// @notice How a passkey is registered for an account.
    enum PasskeyState {
        None,
        /// Registered without a proof of possession (an account's first passkey, installed by the factory).
        Installed,
        /// Registered with a proof of possession: the passkey signed {registrationChallenge} of the account.
        Proven
    }

    mapping(bytes32 credentialIdHash => mapping(address account => bytes32 commitment)) private _commitments;
    // Passkeys beyond the first: the first one needs no counter slot (deployment gas).
    mapping(address account => uint256 count) private _extraPasskeys;
    // Accounts a passkey (credential id and key) joined with a proof, written in execution only (never during
    // validation); keyed by `keccak256(abi.encode(credentialIdHash, commitment | 1))`.
    mapping(bytes32 passkeyId => address[] accounts) private _provenAccounts;
    // Bumped each time the passkey leaves the account: proofs signed before no longer hold.
    mapping(bytes32 credentialIdHash => mapping(address account => uint256 nonce)) private _registrationNonces;

    /// @notice Emitted when `account` registered a passkey.
    /// @param account The account.
    /// @param credentialIdHash keccak256 of the credential id.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The WebAuthn relying party id the key is bound to.
    /// @param origin The origin (e.g. `https://auth.example`) the key is bound to.
    /// @param proven Whether the registration carried a proof of possession.
    event PasskeyAdded(
        address indexed account,
        bytes32 indexed credentialIdHash,
        bytes credentialId,
        bytes32 x,
        bytes32 y,
        string rpId,
        string origin,
        bool proven
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

    /// @notice Thrown when a passkey is malformed (empty credential id, rpId or origin, an origin with `"`, `\` or
    /// a control character, or a point off the curve).
    error InvalidPasskey(bytes credentialId);

    /// @notice Thrown when the proof of possession is not an assertion by this passkey over
    /// {registrationChallenge} of the account.
    error InvalidPasskeyProof(address account, bytes credentialId);

    /// @notice Thrown when a passkey already joined {MAX_ACCOUNTS_PER_CREDENTIAL} accounts with a proof (and
    /// still holds them all).
    error TooManyAccounts(bytes credentialId);

    /// @notice Thrown when the account has not installed this validator (no passkey registered).
    error NotInstalled(address account);

    /// @notice Thrown when uninstalling without listing every registered credential id.
    error PasskeysRemaining(address account, uint256 remaining);

    // ------------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Registers the first passkey of the calling account.
    /// @dev The account guarantees one install at a time; uninstalling clears every key. Without a proof the
    /// passkey is registered as {PasskeyState.Installed}: the factory's first passkey, which log-in trusts only
    /// when the account's address derives from it.
    /// @param data `abi.encode(bytes credentialId, bytes32 x, bytes32 y, string rpId, string origin)`, or the same
    /// with a sixth member `bytes proof` (a WebAuthn signature of {registrationChallenge}, as in validation).
    function onInstall(bytes calldata data) external {
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
            if (_commitments[credentialIdHash][msg.sender] == 0) {
                revert PasskeyNotRegistered(msg.sender, credentialIds[i]);
            }
            delete _commitments[credentialIdHash][msg.sender];
            ++_registrationNonces[credentialIdHash][msg.sender];
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
        if (_commitments[credentialIdHash][msg.sender] == 0) revert PasskeyNotRegistered(msg.sender, credentialId);
        uint256 extra = _extraPasskeys[msg.sender];
        if (extra == 0) revert LastPasskey(msg.sender, credentialId);
        delete _commitments[credentialIdHash][msg.sender];
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

    /// @notice The stored commitment of a passkey (0 when not registered). Its lowest bit is the proven flag.
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
        bytes32 stored = _commitments[keccak256(credentialId)][account];
        if (
            stored == 0 || stored | bytes32(uint256(1)) != passkeyCommitmentOf(x, y, rpId, origin) | bytes32(uint256(1))
        ) {
            return PasskeyState.None;
        }
        return uint256(stored) & 1 == 1 ? PasskeyState.Proven : PasskeyState.Installed;
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
        bytes32 proven = passkeyCommitmentOf(x, y, rpId, origin) | bytes32(uint256(1));
        address[] storage list = _provenAccounts[_passkeyId(credentialIdHash, proven)];
        uint256 length = list.length;
        accounts = new address[](length);
        uint256 found = 0;
        for (uint256 i = 0; i < length; ++i) {
            address account = list[i];
            if (_commitments[credentialIdHash][account] != proven || !_isInstalledOn(account)) continue;
            accounts[found++] = account;
        }
        assembly ("memory-safe") {
            mstore(accounts, found)
        }
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
        return _isPlainOrigin(bytes(origin)) && _verify(passkeyCommitmentOf(x, y, rpId, origin), hash, signature);
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
        if (!_verify(commitment, _registrationChallenge(account, credentialIdHash), proof)) {
            revert InvalidPasskeyProof(account, credentialId);
        }
        _addPasskey(account, credentialId, x, y, rpId, origin, true);

        bytes32 proven = commitment | bytes32(uint256(1));
        address[] storage list = _provenAccounts[_passkeyId(credentialIdHash, proven)];
        uint256 length = list.length;
        for (uint256 i = 0; i < length; ++i) {
            if (list[i] == account) return;
        }
        if (length == MAX_ACCOUNTS_PER_CREDENTIAL) {
            // Full: drop the accounts that no longer hold the passkey (it left them), keeping the order.
            uint256 kept = 0;
            for (uint256 i = 0; i < length; ++i) {
                address held = list[i];
                if (_commitments[credentialIdHash][held] == proven) list[kept++] = held;
            }
            if (kept == length) revert TooManyAccounts(credentialId);
            while (list.length > kept) list.pop();
        }
        list.push(account);
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

    function _passkeyId(bytes32 credentialIdHash, bytes32 provenCommitment) private pure returns (bytes32) {
        return keccak256(abi.encode(credentialIdHash, provenCommitment));
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
        if (_commitments[credentialIdHash][account] != 0) revert PasskeyAlreadyRegistered(account, credentialId);
        bytes32 commitment = passkeyCommitmentOf(x, y, rpId, origin);
        _commitments[credentialIdHash][account] =
            proven ? commitment | bytes32(uint256(1)) : commitment & ~bytes32(uint256(1));
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

    /// @dev Whether `account` reports this validator as installed (false for non-accounts), with bounded gas and
    /// at most one word of return data copied: an account can't make a lookup expensive.
    function _isInstalledOn(address account) private view returns (bool installed) {
        bytes memory query =
            abi.encodeCall(IERC7579ModuleConfig.isModuleInstalled, (MODULE_TYPE_VALIDATOR, address(this), ""));
        assembly ("memory-safe") {
            mstore(0x00, 0)
            let ok := staticcall(_INSTALLED_CHECK_GAS, account, add(query, 0x20), mload(query), 0x00, 0x20)
            installed := and(and(ok, iszero(lt(returndatasize(), 0x20))), eq(mload(0x00), 1))
        }
    }

    function _internalVerify(address account, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        bytes32 credentialIdHash;
        if (signature.length >= 0x20) {
            assembly ("memory-safe") {
                credentialIdHash := calldataload(signature.offset)
            }
        }
        return _verify(_commitments[credentialIdHash][account], hash, signature);
    }

    /// @dev Never reverts on malformed input. Past the structural checks every check is evaluated (no early
    /// return), so that gas estimation with a dummy signature costs at least what a real one does.
    /// Written in assembly: calldata slices and memory copies in Solidity cost more than the P-256 check itself.
    function _verify(bytes32 commitment, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        (bool wellFormed, uint256 authPtr, uint256 authLength, uint256 dataPtr, uint256 dataLength) =
            _readSignature(signature);
        if (!wellFormed) return false;
        (bool built, uint256 json, uint256 jsonLength, bytes32 originHash) =
            _buildClientDataJSON(hash, dataPtr, dataLength);
        if (!built) return false;
        bool ok = _checkKey(commitment, signature, authPtr, originHash) && _checkFlags(authPtr);
        return _checkP256(signature, _digest(authPtr, authLength, json, jsonLength)) && ok;
    }

    /// @dev Where authenticatorData and the member list lie: `uint16` authenticatorData length at 0xa0, the data
    /// right after it, the member list to the end. authenticatorData holds at least the rpIdHash, the flags and the
    /// counter (37 bytes).
    function _readSignature(bytes calldata signature)
        private
        pure
        returns (bool wellFormed, uint256 authPtr, uint256 authLength, uint256 dataPtr, uint256 dataLength)
    {
        if (signature.length < _HEAD_LENGTH) return (false, 0, 0, 0, 0);
        assembly ("memory-safe") {
            authLength := shr(240, calldataload(add(signature.offset, 0xa0)))
            authPtr := add(signature.offset, _HEAD_LENGTH)
            let end := add(_HEAD_LENGTH, authLength)
            wellFormed := and(gt(authLength, 36), iszero(gt(end, signature.length)))
            dataPtr := add(authPtr, authLength)
            dataLength := sub(signature.length, end)
        }
    }

    /// @dev Rebuilds the clientDataJSON text from the signature's member list (see the contract's NatSpec) into
    /// free memory, and hashes the origin it names. `built` is false for a list that is malformed, repeats or lacks
    /// a required member, or holds a member that is not allowed.
    function _buildClientDataJSON(bytes32 hash, uint256 dataPtr, uint256 dataLength)
        private
        pure
        returns (bool built, uint256 json, uint256 jsonLength, bytes32 originHash)
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

    /// @dev The key, the rpIdHash and the origin match `commitment` (ignoring its proven bit).
    function _checkKey(bytes32 commitment, bytes calldata signature, uint256 authPtr, bytes32 originHash)
        private
        pure
        returns (bool ok)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, calldataload(add(signature.offset, 0x20))) // x
            mstore(add(m, 0x20), calldataload(add(signature.offset, 0x40))) // y
            mstore(add(m, 0x40), calldataload(authPtr)) // rpIdHash
            mstore(add(m, 0x60), originHash)
            ok := and(iszero(iszero(commitment)), eq(or(keccak256(m, 0x80), 1), or(commitment, 1)))
        }
    }

    /// @dev Flags: UP, UV, and BS only with BE.
    function _checkFlags(uint256 authPtr) private pure returns (bool ok) {
        assembly ("memory-safe") {
            let flags := byte(0, calldataload(add(authPtr, 32)))
            ok := and(
                and(and(flags, 0x01), shr(2, and(flags, 0x04))),
                or(shr(3, and(flags, 0x08)), iszero(and(flags, 0x10)))
            )
        }
    }

    /// @dev The message the passkey signed: sha256(authenticatorData ‖ sha256(clientDataJSON)).
    function _digest(uint256 authPtr, uint256 authLength, uint256 json, uint256 jsonLength)
        private
        view
        returns (bytes32 digest)
    {
        assembly ("memory-safe") {
            if iszero(staticcall(gas(), 0x02, json, jsonLength, 0x00, 0x20)) { invalid() }
            let clientDataHash := mload(0x00)
            let m := mload(0x40)
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
            // The head was length-checked by the caller.
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
