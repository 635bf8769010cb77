// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

/// @notice Install (as a preset default module of every account) and uninstall.
contract GuardianExecutorOnUninstallTest is GuardianTest {
    function test_everyAccountHasItAsAPresetExecutor() public view {
        vm.assertTrue(account.isModuleInstalled(2, address(executor), ""));
        vm.assertTrue(executor.isModuleType(2));
        vm.assertFalse(executor.isModuleType(1));
        vm.assertFalse(executor.isModuleType(3));
        (uint256[] memory types, address[] memory modules) = account.presetModules();
        vm.assertEq(types[2], 2);
        vm.assertEq(modules[2], address(executor));
        // Nothing configured yet.
        vm.assertEq(executor.threshold(address(account)), 0);
        vm.assertEq(executor.recoveryDelay(address(account)), 24 hours);
        (address[] memory guardians,) = executor.guardiansOf(address(account));
        vm.assertEq(guardians.length, 0);
    }

    function test_onInstallWritesNothing() public {
        vm.record();
        vm.prank(makeAddr("some account"));
        executor.onInstall(hex"1234");
        (, bytes32[] memory writes) = vm.accesses(address(executor));
        vm.assertEq(writes.length, 0);
    }

    function test_uninstallForgetsTheConfiguration_keepsTheNonces() public {
        threeGuardians(2);
        vm.prank(address(account));
        executor.setRecoveryDelay(2 days);
        bytes32 id = start(alice, defaultProposal());
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryCancelled(address(account), id, address(account));
        vm.prank(address(account));
        account.uninstallModule(2, address(executor), "");

        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));
        vm.assertEq(executor.threshold(address(account)), 0);
        vm.assertEq(executor.recoveryDelay(address(account)), 24 hours);
        (address[] memory guardians,) = executor.guardiansOf(address(account));
        vm.assertEq(guardians.length, 0);
        (IGuardianExecutor.GuardianStatus s,) = executor.guardianStatus(address(account), alice);
        vm.assertEq(uint256(s), uint256(IGuardianExecutor.GuardianStatus.None));
        vm.assertEq(executor.recoveryNonce(address(account)), 1);

        // Re-installed: guardians start over, and acceptances signed before can't be replayed.
        vm.prank(address(account));
        account.installModule(2, address(executor), "");
        propose(alice);
        (, uint256 proposal) = executor.guardianStatus(address(account), alice);
        vm.assertEq(proposal, 4, "numbering goes on");
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.GuardianNotAccepted.selector, address(account), alice));
        executor.startRecovery(address(account), p);
    }

    function test_uninstallWithoutConfiguration() public {
        vm.recordLogs();
        vm.prank(address(account));
        account.uninstallModule(2, address(executor), "");
        // Only the account's ModuleUninstalled.
        vm.assertEq(vm.getRecordedLogs().length, 1);
        vm.assertFalse(account.isModuleInstalled(2, address(executor), ""));
    }
}
