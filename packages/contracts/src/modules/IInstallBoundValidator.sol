// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IInstallBoundValidator
/// @notice A validator that can never validate for an account that has not installed it: it takes keys (or
/// whatever it validates against) only from an account that reports it installed at that moment, including in
/// `onInstall`, and `onUninstall` clears every one of them (or fails). For an account that has not installed it,
/// or uninstalled it, it holds nothing to validate against.
/// @dev SsoAccount asks its preset validators once, in its constructor, and skips reading its own installed flag
/// (a cold storage slot) for the bound ones when it validates a userOp: the validator's own state answers.
/// A module without this function is not bound.
interface IInstallBoundValidator {
    /// @notice True: this validator holds no key for an account that has not installed it.
    function isInstallBound() external pure returns (bool);
}
