// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @title IVersionedValidator
/// @notice A validator that needs the account's `modulesVersion()` during validation (e.g. the SessionKeyValidator,
/// whose checks at session creation hold while it is unchanged) and takes it as an argument from an account that
/// gives it, instead of calling back into the account.
/// @dev SsoAccount asks its preset validators once, in its constructor, and validates userOps with a versioned one
/// through {validateUserOpWithKnownVersion}, passing the version it holds in the slot it reads anyway. The version
/// is the caller's word for its own modules, as a `modulesVersion()` answer would be: it only concerns the caller.
/// Calling this entry is also the caller's word that it is an SsoAccount in the other way such a validator may rely
/// on: `executePacked_ezig()` (selector `0x00000017`) is its `execute` with packed arguments (the SessionKeyValidator
/// then checks a userOp calling it as it checks `execute`; through the plain entry it refuses that selector, which
/// another account could route anywhere, e.g. to a fallback handler). An account that is not an SsoAccount calls
/// the plain ERC-7579 `validateUserOp`.
/// A module without {isVersionedValidator} is called with the plain ERC-7579 `validateUserOp`. The name is chosen for
/// its low selector (`0x0e53ae2c`): the compiler's dispatch compares selectors in ascending order, one by one, so a
/// low selector is reached after fewer comparisons (~22 gas each) on every session userOp.
interface IVersionedValidator {
    /// @notice True: the account may call {validateUserOpWithKnownVersion}.
    function isVersionedValidator() external pure returns (bool);

    /// @notice ERC-7579 `validateUserOp` for the calling account, with its current `modulesVersion()`.
    /// @param userOp The user operation.
    /// @param userOpHash The hash the account asks to validate.
    /// @param modulesVersion The calling account's `modulesVersion()` now.
    /// @return validationData As ERC-7579 `validateUserOp`.
    function validateUserOpWithKnownVersion(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        uint256 modulesVersion
    ) external returns (uint256 validationData);
}
