// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorCancelRecoveryTest is GuardianTest {
    function setUp() public override {
        super.setUp();
        threeGuardians(2);
    }

    function test_theAccountCancelsAScheduledRecovery() public {
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryCancelled(address(account), id, address(account));
        vm.prank(address(account));
        executor.cancelRecovery();
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));
        vm.assertEq(executor.recoveryNonce(address(account)), 1, "moved once, when it was scheduled");
        vm.assertFalse(executor.hasApproved(address(account), alice));
    }

    function test_cancellingOneBelowTheThresholdMovesTheNonce() public {
        start(alice, defaultProposal());
        vm.prank(address(account));
        executor.cancelRecovery();
        vm.assertEq(executor.recoveryNonce(address(account)), 1);
    }

    function test_cancelsThroughAnOwnerPasskeyUserOp_evenAnExpiredOne() public {
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        vm.warp(vm.getBlockTimestamp() + 60 days);
        handleOp(ownerOp(singleCall(address(executor), 0, abi.encodeCall(executor.cancelRecovery, ()))));
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));
    }

    function test_revertsWithoutAPendingRecovery() public {
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.NoPendingRecovery.selector, address(account)));
        executor.cancelRecovery();
    }

    function test_guardiansCannotCancel() public {
        start(alice, defaultProposal());
        // A guardian's call is about its own (empty) recovery, never the account's.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.NoPendingRecovery.selector, alice));
        executor.cancelRecovery();
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Approving));
    }

    function testFuzz_cancelsAtAnyTime(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 60 days);
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        vm.warp(vm.getBlockTimestamp() + elapsed);
        vm.prank(address(account));
        executor.cancelRecovery();
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.NoPendingRecovery.selector, address(account)));
        executor.finalizeRecovery(address(account), p);
    }
}
