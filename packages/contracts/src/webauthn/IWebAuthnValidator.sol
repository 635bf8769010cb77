// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IWebAuthnValidator
/// @notice Types, events and errors of the {WebAuthnValidator} module (docs/webauthn.md).
interface IWebAuthnValidator {
    /// @notice How a passkey is registered for an account.
    enum PasskeyState {
        None,
        /// Registered without a proof of possession (an account's first passkey, installed by the factory).
        Installed,
        /// Registered with a proof of possession: the passkey signed {registrationChallenge} of the account.
        Proven
    }

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

    /// @notice Thrown when another passkey of the account has the same credential key (the first 4 bytes of
    /// keccak256 of the credential id; about one pair in four billion): make another passkey.
    error CredentialKeyTaken(address account, bytes credentialId);

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

    /// @notice The account does not keep its passkeys ({IPasskeyStore}): this validator can't give it any.
    error PasskeyStoreUnsupported(address account);
}
