// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ISsoAccount
/// @notice The errors of {SsoAccount} and its {ModuleManager}.
interface ISsoAccount {
    /// @notice Thrown when a call reaches the fallback with a selector that has no installed handler.
    error MissingFallbackHandler(bytes4 selector);

    /// @notice Thrown when fallback init/deinit data is shorter than the 4-byte selector it must start with.
    error InvalidFallbackData(uint256 length);

    /// @notice Thrown when uninstalling `validator` would leave the account without any validator.
    error LastValidator(address validator);

    /// @notice Thrown when uninstalling `validator` would leave the account without a validator that can sign for
    /// it: only scoped validators (e.g. session keys, see {IScopedValidator}) would remain.
    error LastSigningValidator(address validator);

    /// @notice Thrown when `initialize` is called on an account that was initialised, or on the implementation.
    error InvalidInitialization();

    /// @notice Thrown when an upgrade names an implementation that does not keep the account's head (the flags,
    /// counts and modules version in the ERC-1967 slot): it answers `ACCOUNT_HEAD_LAYOUT()` with another value or
    /// not at all.
    error UpgradeLosesHead(address implementation);

    /// @notice Thrown when `initialize` would leave the account without a validator that can sign for it.
    error NoValidator();

    /// @notice Thrown when the module lists given to `initialize` have different lengths.
    error ModuleListLengthMismatch(uint256 moduleTypeIds, uint256 modules, uint256 initData);

    /// @notice Thrown when {bumpModulesVersion} is called by anyone but the account, the EntryPoint or a module.
    error UnauthorizedVersionBump(address caller);

    /// @notice Thrown when `execute` gets an execution mode the account does not support.
    error UnsupportedExecutionMode(bytes32 mode);

    /// @notice Thrown when an execution calls a module's `onInstall` or `onUninstall` itself: a module is configured
    /// only by {installModule} / {uninstallModule}, which keep the account's own records (installed flags, counts)
    /// in step with the module's.
    error ModuleHookCall(address target, bytes4 selector);

    /// @notice Thrown when a preset module is not a validator or executor, or the lists are malformed.
    error InvalidPresetModule(uint256 moduleTypeId, address module);
}
