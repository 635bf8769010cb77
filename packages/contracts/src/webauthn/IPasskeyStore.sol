// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @dev What a passkey validator answers to {IPasskeyStoreValidator-passkeyRules} when the account may check its
/// passkeys with WebAuthnSignatureLib and the stored word of docs/webauthn.md (version 1 of both).
bytes32 constant PASSKEY_RULES = keccak256("sso.passkeys.WebAuthnSignatureLib.v1");

/// @title IPasskeyStore
/// @notice The account side of passkeys kept in the account (docs/webauthn.md, "Where passkeys are stored"): the
/// account holds the word its passkey validator stores for each passkey, under the credential's 4-byte key, so that
/// userOp validation reads it from the account's own storage and checks the passkey in the account's own code (no
/// call to the validator). The validator keeps deciding what is stored: only it writes here, and only for the
/// account calling it. Words are kept per validator: after an upgrade that names another passkey validator, the
/// old one's words are neither read nor writable.
interface IPasskeyStore {
    /// @notice Only the account's passkey validator writes its passkeys.
    error NotPasskeyValidator(address caller);

    /// @notice The word `validator` stored for the passkey under `credentialKey` (0 when none).
    /// @param validator The validator that wrote it.
    /// @param credentialKey The first 4 bytes of keccak256(credentialId).
    function passkeyEntry(address validator, bytes4 credentialKey) external view returns (uint256);

    /// @notice Stores (or, with 0, clears) the caller's word of the passkey under `credentialKey`. Only the passkey
    /// validator.
    /// @param credentialKey The first 4 bytes of keccak256(credentialId).
    /// @param entry The validator's word for that passkey.
    function setPasskeyEntry(bytes4 credentialKey, uint256 entry) external;
}

/// @title IPasskeyStoreValidator
/// @notice A validator that keeps its passkeys in the account ({IPasskeyStore}) and whose signature rules the account
/// applies itself (the WebAuthnValidator's, see WebAuthnSignatureLib). Asked once, when the account implementation
/// is built: at most one preset validator may answer {PASSKEY_RULES}, the rules that implementation applies.
interface IPasskeyStoreValidator {
    /// @notice {PASSKEY_RULES}: this validator writes its passkeys to the account through {IPasskeyStore}, as words
    /// the account may check with the rules of that version.
    function passkeyRules() external pure returns (bytes32);
}
