// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorRemoveGuardianTest is GuardianTest {
    function _remove(address guardian) internal {
        vm.prank(address(account));
        executor.removeGuardian(guardian);
    }

    function test_removesAProposedGuardian_keepsThePendingRecovery() public {
        threeGuardians(2);
        propose(makeAddr("dave"));
        bytes32 id = start(alice, defaultProposal());
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.GuardianRemoved(address(account), makeAddr("dave"));
        _remove(makeAddr("dave"));
        (IGuardianExecutor.GuardianStatus s,) = executor.guardianStatus(address(account), makeAddr("dave"));
        vm.assertEq(uint256(s), uint256(IGuardianExecutor.GuardianStatus.None));
        vm.assertEq(executor.recoveryState(address(account)).id, id);
    }

    function test_removingAnAcceptedGuardianCancelsThePendingRecovery() public {
        threeGuardians(2);
        bytes32 id = start(alice, defaultProposal());
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryCancelled(address(account), id, address(account));
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.GuardianRemoved(address(account), alice);
        _remove(alice);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));
        vm.assertEq(executor.recoveryNonce(address(account)), 1, "its signatures die");
        vm.assertEq(executor.threshold(address(account)), 2);
        // A removed guardian can't approve any more.
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal(); // (hashing precompiles count as calls)
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.GuardianNotAccepted.selector, address(account), alice));
        executor.startRecovery(address(account), p);
    }

    function test_refusesToLeaveFewerAcceptedGuardiansThanTheThreshold() public {
        threeGuardians(3);
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGuardianExecutor.InvalidThreshold.selector, address(account), uint256(3), uint256(2)
            )
        );
        executor.removeGuardian(bob);
        // Lower the threshold first (one batch in practice).
        setThreshold(2);
        _remove(bob);
        (address[] memory guardians,) = executor.guardiansOf(address(account));
        vm.assertEq(guardians.length, 2);
    }

    function test_removingTheLastAcceptedGuardianClearsTheThreshold() public {
        addGuardian(alice);
        propose(bob);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.ThresholdChanged(address(account), 0);
        _remove(alice);
        vm.assertEq(executor.threshold(address(account)), 0);
        // The next acceptance makes it 1 again.
        accept(bob);
        vm.assertEq(executor.threshold(address(account)), 1);
    }

    function test_revertsForAStranger() public {
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.GuardianNotFound.selector, address(account), alice));
        executor.removeGuardian(alice);
        // A guardian can't remove itself from the account's side (its call is about its own guardians).
        addGuardian(alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.GuardianNotFound.selector, alice, alice));
        executor.removeGuardian(alice);
    }

    function testFuzz_thresholdStaysWithinTheAcceptedGuardians(uint256 threshold, uint256 removeSeed) public {
        threshold = bound(threshold, 1, 3);
        threeGuardians(threshold);
        address[3] memory all = [alice, bob, carol];
        address victim = all[removeSeed % 3];
        vm.prank(address(account));
        if (threshold == 3) {
            vm.expectRevert(
                abi.encodeWithSelector(IGuardianExecutor.InvalidThreshold.selector, address(account), threshold, 2)
            );
        }
        executor.removeGuardian(victim);
        (address[] memory guardians,) = executor.guardiansOf(address(account));
        vm.assertLe(executor.threshold(address(account)), guardians.length);
    }
}
