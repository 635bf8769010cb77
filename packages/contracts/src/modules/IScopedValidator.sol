// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IScopedValidator
/// @notice A validator whose signatures can never change the account's configuration: they can't install or
/// uninstall modules, upgrade the account or call its modules (e.g. session keys limited by an on-chain policy).
/// @dev SsoAccount asks a validator once, when it is installed; a validator that is not scoped "can sign" for the
/// account, and the account never uninstalls the last one of those (`SsoAccount.LastSigningValidator`). A module
/// without this function is not scoped.
interface IScopedValidator {
    /// @notice True: this validator's signatures can never change the account's configuration.
    function isScopedValidator() external pure returns (bool);
}
