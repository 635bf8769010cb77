// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorApproveRecoveryTest is GuardianTest {
    function _expectApproveRevert(address guardian, bytes32 id, bytes memory err) internal {
        vm.prank(guardian);
        vm.expectRevert(err);
        executor.approveRecovery(address(account), id);
    }

    function test_reachingTheThresholdSchedulesTheRecovery() public {
        threeGuardians(3);
        bytes32 id = start(alice, defaultProposal());
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryApproved(address(account), id, bob, 2);
        approve(bob, id);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Approving));

        vm.warp(vm.getBlockTimestamp() + 5 hours);
        uint256 readyAt = vm.getBlockTimestamp() + 24 hours;
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryApproved(address(account), id, carol, 3);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryScheduled(address(account), id, readyAt, readyAt + 7 days);
        approve(carol, id);
        IGuardianExecutor.RecoveryState memory s = executor.recoveryState(address(account));
        vm.assertEq(uint256(s.status), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        vm.assertEq(s.approvals, 3);
        vm.assertEq(s.nonce, 0);
        vm.assertEq(s.readyAt, readyAt);
        vm.assertEq(executor.recoveryNonce(address(account)), 1);
    }

    function test_approvingAScheduledRecoveryOnlyCounts() public {
        threeGuardians(2);
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        uint256 readyAt = executor.recoveryState(address(account)).readyAt;
        vm.warp(vm.getBlockTimestamp() + 1 hours);
        approve(carol, id);
        IGuardianExecutor.RecoveryState memory s = executor.recoveryState(address(account));
        vm.assertEq(s.approvals, 3);
        vm.assertEq(s.readyAt, readyAt, "not rescheduled");
        vm.assertEq(executor.recoveryNonce(address(account)), 1, "the nonce moved once");
    }

    function test_revertsOnAnUnknownRecovery() public {
        threeGuardians(2);
        _expectApproveRevert(
            bob, bytes32(0), abi.encodeWithSelector(IGuardianExecutor.UnknownRecovery.selector, address(account), 0)
        );
        start(alice, defaultProposal());
        bytes32 other = idOf(proposalFor(makePasskey("other device")), 0);
        _expectApproveRevert(
            bob, other, abi.encodeWithSelector(IGuardianExecutor.UnknownRecovery.selector, address(account), other)
        );
    }

    function test_revertsOnASecondApproval() public {
        threeGuardians(3);
        bytes32 id = start(alice, defaultProposal());
        _expectApproveRevert(
            alice, id, abi.encodeWithSelector(IGuardianExecutor.AlreadyApproved.selector, address(account), id, alice)
        );
    }

    function test_revertsForNonGuardians() public {
        threeGuardians(2);
        propose(makeAddr("dave"));
        bytes32 id = start(alice, defaultProposal());
        _expectApproveRevert(
            makeAddr("dave"),
            id,
            abi.encodeWithSelector(IGuardianExecutor.GuardianNotAccepted.selector, address(account), makeAddr("dave"))
        );
        _expectApproveRevert(
            address(account),
            id,
            abi.encodeWithSelector(IGuardianExecutor.GuardianNotAccepted.selector, address(account), address(account))
        );
    }

    function test_revertsOnceTheWindowClosed() public {
        threeGuardians(2);
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        uint256 expiresAt = executor.recoveryState(address(account)).expiresAt;
        vm.warp(expiresAt);
        _expectApproveRevert(
            carol,
            id,
            abi.encodeWithSelector(IGuardianExecutor.RecoveryWindowClosed.selector, address(account), id, expiresAt)
        );
    }

    function testFuzz_schedulesExactlyAtTheThreshold(uint256 threshold, uint256 approvals) public {
        threshold = bound(threshold, 1, 3);
        approvals = bound(approvals, 1, 3);
        threeGuardians(threshold);
        address[3] memory guardians = [alice, bob, carol];
        bytes32 id = start(guardians[0], defaultProposal());
        for (uint256 i = 1; i < approvals; ++i) {
            approve(guardians[i], id);
        }
        vm.assertEq(
            uint256(status()),
            uint256(
                approvals >= threshold
                    ? IGuardianExecutor.RecoveryStatus.Delayed
                    : IGuardianExecutor.RecoveryStatus.Approving
            )
        );
        vm.assertEq(executor.recoveryState(address(account)).approvals, approvals);
    }
}
