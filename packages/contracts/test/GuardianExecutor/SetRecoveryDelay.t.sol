// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorSetRecoveryDelayTest is GuardianTest {
    function test_defaultsTo24Hours() public view {
        vm.assertEq(executor.recoveryDelay(address(account)), 24 hours);
        vm.assertEq(executor.DEFAULT_DELAY(), 24 hours);
        vm.assertEq(executor.MIN_DELAY(), 1 hours);
        vm.assertEq(executor.MAX_DELAY(), 30 days);
        vm.assertEq(executor.RECOVERY_WINDOW(), 7 days);
    }

    function test_setsTheDelay() public {
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryDelayChanged(address(account), 3 days);
        vm.prank(address(account));
        executor.setRecoveryDelay(3 days);
        vm.assertEq(executor.recoveryDelay(address(account)), 3 days);
        vm.assertEq(executor.recoveryDelay(address(0xB0B)), 24 hours, "per account");
    }

    /// @dev Attack: a delay set while the executor is not installed (a session bans only installed modules) would
    /// survive a later install. Refused, as proposing a guardian is.
    function test_attack_refusedWhileNotInstalled() public {
        vm.prank(address(account));
        account.uninstallModule(2, address(executor), "");
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.ExecutorNotInstalled.selector, address(account)));
        executor.setRecoveryDelay(1 hours);
        vm.prank(address(0xB0B));
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.ExecutorNotInstalled.selector, address(0xB0B)));
        executor.setRecoveryDelay(1 hours);
        vm.prank(address(account));
        account.installModule(2, address(executor), "");
        vm.assertEq(executor.recoveryDelay(address(account)), 24 hours);
    }

    function test_aScheduledRecoveryKeepsItsDelay() public {
        addGuardian(alice);
        start(alice, defaultProposal());
        uint256 readyAt = executor.recoveryState(address(account)).readyAt;
        vm.assertEq(readyAt, vm.getBlockTimestamp() + 24 hours);
        vm.prank(address(account));
        executor.setRecoveryDelay(1 hours);
        vm.assertEq(executor.recoveryState(address(account)).readyAt, readyAt);
    }

    function testFuzz_delayBounds(uint256 delay) public {
        bool valid = delay >= 1 hours && delay <= 30 days;
        vm.prank(address(account));
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IGuardianExecutor.InvalidDelay.selector, delay, uint256(1 hours), uint256(30 days)
                )
            );
        }
        executor.setRecoveryDelay(delay);
        vm.assertEq(executor.recoveryDelay(address(account)), valid ? delay : 24 hours);
    }

    function testFuzz_theDelayStartsAtTheThreshold(uint256 delay, uint256 wait) public {
        delay = bound(delay, 1 hours, 30 days);
        wait = bound(wait, 0, 60 days);
        vm.prank(address(account));
        executor.setRecoveryDelay(delay);
        addGuardian(alice);
        addGuardian(bob);
        setThreshold(2);
        bytes32 id = start(alice, defaultProposal());
        vm.warp(vm.getBlockTimestamp() + wait); // the second approval comes later
        approve(bob, id);
        IGuardianExecutor.RecoveryState memory s = executor.recoveryState(address(account));
        vm.assertEq(s.readyAt, vm.getBlockTimestamp() + delay);
        vm.assertEq(s.expiresAt, s.readyAt + 7 days);
    }
}
