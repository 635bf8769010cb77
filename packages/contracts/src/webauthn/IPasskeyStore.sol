// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IPasskeyStore
/// @notice The account side of passkeys kept in the account (docs/webauthn.md, "Where passkeys are stored"): the
/// account holds the word its passkey validator stores for each passkey, under the credential's 4-byte key, so that
/// userOp validation reads it from the account's own storage and checks the passkey in the account's own code (no
/// call to the validator). The validator keeps deciding what is stored: only it writes here, and only for the
/// account calling it.
interface IPasskeyStore {
    /// @notice Only the account's passkey validator writes its passkeys.
    error NotPasskeyValidator(address caller);

    /// @notice The word stored for the passkey under `credentialKey` (0 when none).
    /// @param credentialKey The first 4 bytes of keccak256(credentialId).
    function passkeyEntry(bytes4 credentialKey) external view returns (uint256);

    /// @notice Stores (or, with 0, clears) the word of the passkey under `credentialKey`. Only the passkey validator.
    /// @param credentialKey The first 4 bytes of keccak256(credentialId).
    /// @param entry The validator's word for that passkey.
    function setPasskeyEntry(bytes4 credentialKey, uint256 entry) external;
}

/// @title IPasskeyStoreValidator
/// @notice A validator that keeps its passkeys in the account ({IPasskeyStore}) and whose signature rules the account
/// applies itself (the WebAuthnValidator's, see WebAuthnSignatureLib). Asked once, when the account implementation
/// is built: at most one preset validator may answer true.
interface IPasskeyStoreValidator {
    /// @notice True: this validator writes its passkeys to the account through {IPasskeyStore}.
    function storesPasskeysInAccount() external pure returns (bool);
}
