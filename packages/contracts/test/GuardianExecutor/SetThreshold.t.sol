// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorSetThresholdTest is GuardianTest {
    function test_setsTheThreshold() public {
        addGuardian(alice);
        addGuardian(bob);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.ThresholdChanged(address(account), 2);
        setThreshold(2);
        vm.assertEq(executor.threshold(address(account)), 2);
    }

    function test_countsOnlyAcceptedGuardians() public {
        addGuardian(alice);
        propose(bob);
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGuardianExecutor.InvalidThreshold.selector, address(account), uint256(2), uint256(1)
            )
        );
        executor.setThreshold(2);
    }

    function test_revertsOnZero() public {
        addGuardian(alice);
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGuardianExecutor.InvalidThreshold.selector, address(account), uint256(0), uint256(1)
            )
        );
        executor.setThreshold(0);
    }

    function test_cancelsThePendingRecovery() public {
        threeGuardians(3);
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryCancelled(address(account), id, address(account));
        setThreshold(2);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));
    }

    function testFuzz_threshold(uint256 threshold) public {
        threeGuardians(1);
        vm.prank(address(account));
        if (threshold == 0 || threshold > 3) {
            vm.expectRevert(
                abi.encodeWithSelector(IGuardianExecutor.InvalidThreshold.selector, address(account), threshold, 3)
            );
        }
        executor.setThreshold(threshold);
        vm.assertEq(executor.threshold(address(account)), threshold == 0 || threshold > 3 ? 1 : threshold);
    }
}
