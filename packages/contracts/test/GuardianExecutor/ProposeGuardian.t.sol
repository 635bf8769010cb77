// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {MockMinimalAccount} from "../mocks/Mocks.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorProposeGuardianTest is GuardianTest {
    function test_proposesAGuardian() public {
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.GuardianProposed(address(account), alice, 1);
        propose(alice);

        (IGuardianExecutor.GuardianStatus s, uint256 proposal) = executor.guardianStatus(address(account), alice);
        vm.assertEq(uint256(s), uint256(IGuardianExecutor.GuardianStatus.Proposed));
        vm.assertEq(proposal, 1);
        (address[] memory guardians, bool[] memory accepted) = executor.guardiansOf(address(account));
        vm.assertEq(guardians.length, 1);
        vm.assertEq(guardians[0], alice);
        vm.assertFalse(accepted[0]);
        // A proposed guardian counts for nothing yet.
        vm.assertEq(executor.threshold(address(account)), 0);
    }

    function test_proposesThroughAPasskeyUserOp() public {
        handleOp(ownerOp(singleCall(address(executor), 0, abi.encodeCall(executor.proposeGuardian, (alice)))));
        (IGuardianExecutor.GuardianStatus s,) = executor.guardianStatus(address(account), alice);
        vm.assertEq(uint256(s), uint256(IGuardianExecutor.GuardianStatus.Proposed));
    }

    function test_numbersEveryProposal() public {
        propose(alice);
        propose(bob);
        vm.prank(address(account));
        executor.removeGuardian(alice);
        propose(alice);
        (, uint256 proposal) = executor.guardianStatus(address(account), alice);
        vm.assertEq(proposal, 3);
    }

    function test_revertsWhenTheExecutorIsNotInstalled() public {
        // An EOA, and an account that has not installed the module.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.ExecutorNotInstalled.selector, alice));
        executor.proposeGuardian(bob);

        MockMinimalAccount other = new MockMinimalAccount();
        vm.prank(address(other));
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.ExecutorNotInstalled.selector, address(other)));
        executor.proposeGuardian(bob);

        other.setInstalled(2, address(executor), true);
        vm.prank(address(other));
        executor.proposeGuardian(bob);
    }

    function test_revertsOnTheZeroAddressOrTheAccountItself() public {
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardian.selector, address(account), address(0))
        );
        executor.proposeGuardian(address(0));

        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardian.selector, address(account), address(account))
        );
        executor.proposeGuardian(address(account));
    }

    function test_revertsOnAnExistingGuardian() public {
        propose(alice);
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.GuardianAlreadyExists.selector, address(account), alice)
        );
        executor.proposeGuardian(alice);

        accept(alice);
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.GuardianAlreadyExists.selector, address(account), alice)
        );
        executor.proposeGuardian(alice);
    }

    function test_boundsTheGuardiansAndReusesFreedSlots() public {
        for (uint256 i = 0; i < executor.MAX_GUARDIANS(); ++i) {
            propose(address(uint160(0x1000 + i)));
        }
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.TooManyGuardians.selector, address(account), uint256(16))
        );
        executor.proposeGuardian(alice);

        vm.prank(address(account));
        executor.removeGuardian(address(uint160(0x1005)));
        propose(alice);
        (address[] memory guardians,) = executor.guardiansOf(address(account));
        vm.assertEq(guardians.length, 16);
        vm.assertEq(guardians[5], alice, "the freed slot");
    }

    function testFuzz_proposesAnyOtherAddress(address guardian) public {
        vm.assume(guardian != address(0) && guardian != address(account));
        propose(guardian);
        (IGuardianExecutor.GuardianStatus s,) = executor.guardianStatus(address(account), guardian);
        vm.assertEq(uint256(s), uint256(IGuardianExecutor.GuardianStatus.Proposed));
        // Guardians are per account.
        (s,) = executor.guardianStatus(address(0xA11CE), guardian);
        vm.assertEq(uint256(s), uint256(IGuardianExecutor.GuardianStatus.None));
    }
}
