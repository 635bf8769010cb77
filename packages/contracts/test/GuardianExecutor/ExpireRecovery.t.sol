// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorExpireRecoveryTest is GuardianTest {
    function setUp() public override {
        super.setUp();
        threeGuardians(2);
    }

    function test_anyoneClearsAnExpiredRecovery() public {
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        uint256 expiresAt = executor.recoveryState(address(account)).expiresAt;
        vm.warp(expiresAt);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Expired));
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryExpired(address(account), id);
        vm.prank(makeAddr("anyone"));
        executor.expireRecovery(address(account));
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));
        // A new recovery can start (with the next nonce).
        vm.assertEq(start(alice, defaultProposal()), idOf(defaultProposal(), 1));
    }

    function test_revertsWithoutAPendingRecovery() public {
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.NoPendingRecovery.selector, address(account)));
        executor.expireRecovery(address(account));
    }

    function test_aRecoveryBelowTheThresholdNeverExpires() public {
        bytes32 id = start(alice, defaultProposal());
        vm.warp(vm.getBlockTimestamp() + 365 days);
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.RecoveryNotExpired.selector, address(account), id, uint256(0))
        );
        executor.expireRecovery(address(account));
    }

    function testFuzz_expiresExactlyAtTheEndOfTheWindow(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 20 days);
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        uint256 expiresAt = vm.getBlockTimestamp() + 24 hours + 7 days;
        vm.warp(vm.getBlockTimestamp() + elapsed);
        if (vm.getBlockTimestamp() < expiresAt) {
            vm.expectRevert(
                abi.encodeWithSelector(IGuardianExecutor.RecoveryNotExpired.selector, address(account), id, expiresAt)
            );
        }
        executor.expireRecovery(address(account));
    }
}
