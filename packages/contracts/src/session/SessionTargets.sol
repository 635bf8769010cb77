// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "./ISessionKeyValidator.sol";
import {IERC7579ModuleConfig} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/// @title SessionTargets
/// @notice What a session of the SessionKeyValidator may never call: the forbidden targets (the account itself, the
/// validator, the EntryPoint), the forbidden selectors (on any target) and every module installed on the account,
/// with the account's `modulesVersion()` that lets a use skip asking again (see docs/interfaces.md).
/// @dev The one list: {forbiddenTargets} / {forbiddenSelectors} publish what {isForbiddenTarget} /
/// {isForbiddenSelector} check (keep them in step). Functions are internal: `address(this)` is the validator.
library SessionTargets {
    /// @dev The canonical ERC-4337 v0.8 EntryPoint: a session may never call it (deposits, stake, withdrawals).
    address internal constant ENTRY_POINT = 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108;

    bytes4 internal constant INSTALL_MODULE = IERC7579ModuleConfig.installModule.selector;
    bytes4 internal constant UNINSTALL_MODULE = IERC7579ModuleConfig.uninstallModule.selector;
    bytes4 internal constant UPGRADE_TO_AND_CALL = bytes4(keccak256("upgradeToAndCall(address,bytes)"));
    bytes4 internal constant UPGRADE_TO = bytes4(keccak256("upgradeTo(address)"));
    /// @dev `modulesVersion()` and `bumpModulesVersion()` of SsoAccount.
    bytes4 internal constant MODULES_VERSION = bytes4(keccak256("modulesVersion()"));
    bytes4 internal constant BUMP_MODULES_VERSION = bytes4(keccak256("bumpModulesVersion()"));

    /// @dev Reverts when `target` / `selector` is forbidden for any session of `account` (`isCall`: a call with a
    /// selector, not a plain transfer); `checkModules` asks the account whether `target` is one of its modules.
    function checkTarget(address account, address target, bytes4 selector, bool isCall, bool checkModules)
        internal
        view
    {
        if (isForbiddenTarget(account, target)) revert ISessionKeyValidator.ForbiddenTarget(target);
        if (isCall && isForbiddenSelector(selector)) revert ISessionKeyValidator.ForbiddenSelector(target, selector);
        if (checkModules && isInstalledModule(account, target, selector, isCall)) {
            revert ISessionKeyValidator.ForbiddenTarget(target);
        }
    }

    /// @dev The targets of {forbiddenTargets}.
    function isForbiddenTarget(address account, address target) internal view returns (bool) {
        return target == account || target == address(this) || target == ENTRY_POINT;
    }

    /// @dev The selectors of {forbiddenSelectors}.
    function isForbiddenSelector(bytes4 selector) internal pure returns (bool) {
        return selector == INSTALL_MODULE || selector == UNINSTALL_MODULE || selector == UPGRADE_TO_AND_CALL
            || selector == UPGRADE_TO;
    }

    /// @dev The targets no session of `account` may call, modules aside.
    function forbiddenTargets(address account) internal view returns (address[] memory targets) {
        targets = new address[](3);
        targets[0] = account;
        targets[1] = address(this);
        targets[2] = ENTRY_POINT;
    }

    /// @dev The selectors no session may call on any target.
    function forbiddenSelectors() internal pure returns (bytes4[] memory selectors) {
        selectors = new bytes4[](4);
        selectors[0] = INSTALL_MODULE;
        selectors[1] = UNINSTALL_MODULE;
        selectors[2] = UPGRADE_TO_AND_CALL;
        selectors[3] = UPGRADE_TO;
    }

    /// @dev Whether `target` is installed on `account` as a validator, executor, hook or fallback handler: of any
    /// selector (`isModuleInstalled(3, target, "")`, which SsoAccount answers; other ERC-7579 accounts return false)
    /// and, for a call, of the call's `selector` (the standard lookup). Plain `isModuleInstalled` static calls into
    /// the account (ERC-7562: the sender's storage), written in assembly to reuse one buffer. A failing call counts
    /// as installed.
    function isInstalledModule(address account, address target, bytes4 selector, bool isCall)
        internal
        view
        returns (bool installed)
    {
        assembly ("memory-safe") {
            // isModuleInstalled(uint256 moduleTypeId, address module, bytes additionalContext), additionalContext
            // being empty or the 4-byte selector; true (or a failed call) means installed.
            function query(m, acc, moduleType, contextLength) -> yes {
                mstore(add(m, 0x04), moduleType)
                mstore(add(m, 0x64), contextLength)
                let ok := staticcall(gas(), acc, m, add(0x84, contextLength), 0x00, 0x20)
                yes := or(or(iszero(ok), lt(returndatasize(), 0x20)), iszero(iszero(mload(0x00))))
            }
            let m := mload(0x40)
            mstore(m, shl(224, 0x112d3a7d))
            mstore(add(m, 0x24), target)
            mstore(add(m, 0x44), 0x60)
            mstore(add(m, 0x84), selector)
            installed := query(m, account, 1, 4)
            if iszero(installed) { installed := query(m, account, 2, 4) }
            if iszero(installed) { installed := query(m, account, 3, 0) }
            if and(iszero(installed), isCall) { installed := query(m, account, 3, 4) }
            if iszero(installed) { installed := query(m, account, 4, 4) }
        }
    }

    /// @dev The account's `modulesVersion()` (a static call); `ok` is false when it reverts or returns less than a
    /// word (an account without the counter).
    function modulesVersion(address account) internal view returns (bool ok, uint256 version) {
        bytes4 selector = MODULES_VERSION;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            // Yul evaluates arguments right to left: make the call before reading its return data size.
            ok := staticcall(gas(), account, 0x00, 0x04, 0x00, 0x20)
            ok := and(ok, gt(returndatasize(), 0x1f))
            version := mload(0x00)
        }
    }

    /// @dev Calls the account's `bumpModulesVersion()` (which only an installed module may call); `ok` is false
    /// when it reverts or returns less than a word.
    function bumpModulesVersion(address account) internal returns (bool ok, uint256 version) {
        bytes4 selector = BUMP_MODULES_VERSION;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            ok := call(gas(), account, 0, 0x00, 0x04, 0x00, 0x20)
            ok := and(ok, gt(returndatasize(), 0x1f))
            version := mload(0x00)
        }
    }
}
