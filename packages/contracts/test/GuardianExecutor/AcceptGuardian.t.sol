// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorAcceptGuardianTest is GuardianTest {
    function _status(address guardian) internal view returns (IGuardianExecutor.GuardianStatus s) {
        (s,) = executor.guardianStatus(address(account), guardian);
    }

    function test_acceptsByCall_firstAcceptanceSetsTheThresholdToOne() public {
        propose(alice);
        propose(bob);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.GuardianAccepted(address(account), alice);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.ThresholdChanged(address(account), 1);
        accept(alice);
        vm.assertEq(uint256(_status(alice)), uint256(IGuardianExecutor.GuardianStatus.Accepted));
        vm.assertEq(executor.threshold(address(account)), 1);

        // The second acceptance leaves the threshold alone.
        vm.recordLogs();
        accept(bob);
        vm.assertEq(vm.getRecordedLogs().length, 1);
        vm.assertEq(executor.threshold(address(account)), 1);
        (, bool[] memory accepted) = executor.guardiansOf(address(account));
        vm.assertTrue(accepted[0] && accepted[1]);
    }

    function test_revertsForAStrangerOrTwice() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.GuardianNotFound.selector, address(account), alice));
        executor.acceptGuardian(address(account));

        addGuardian(alice);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.GuardianAlreadyAccepted.selector, address(account), alice)
        );
        executor.acceptGuardian(address(account));
    }

    function test_acceptsWithAnEoaSignature_submittedByAnyone() public {
        propose(alice);
        bytes32 digest = executor.acceptanceDigest(address(account), alice);
        vm.assertEq(digest, typedDigest(acceptanceStruct(alice, 1)));
        bytes memory signature = ecdsa(aliceKey, digest);
        vm.prank(makeAddr("relayer"));
        executor.acceptGuardianWithSignature(address(account), alice, signature);
        vm.assertEq(uint256(_status(alice)), uint256(IGuardianExecutor.GuardianStatus.Accepted));
    }

    function test_revertsOnABadSignature() public {
        propose(alice);
        bytes memory byBob = ecdsa(bobKey, executor.acceptanceDigest(address(account), alice));
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), alice)
        );
        executor.acceptGuardianWithSignature(address(account), alice, byBob);

        // Not a guardian at all: named as such before any signature check.
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.GuardianNotFound.selector, address(account), bob));
        executor.acceptGuardianWithSignature(address(account), bob, byBob);
    }

    function test_anOldAcceptanceCannotBeReplayedAfterARemoval() public {
        propose(alice);
        bytes memory signature = ecdsa(aliceKey, executor.acceptanceDigest(address(account), alice));
        executor.acceptGuardianWithSignature(address(account), alice, signature);
        vm.prank(address(account));
        executor.removeGuardian(alice);
        propose(alice); // proposal 2: the signature named proposal 1
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), alice)
        );
        executor.acceptGuardianWithSignature(address(account), alice, signature);
    }

    function test_anSsoAccountAcceptsByAPasskeyUserOp() public {
        Passkey memory friendKey = makePasskey("friend");
        SsoAccount friend = createAccount(friendKey);
        propose(address(friend));
        handleOp(
            passkeyOp(
                friend,
                friendKey,
                singleCall(address(executor), 0, abi.encodeCall(executor.acceptGuardian, (address(account))))
            )
        );
        vm.assertEq(uint256(_status(address(friend))), uint256(IGuardianExecutor.GuardianStatus.Accepted));
    }

    function test_anSsoAccountAcceptsWithAnErc1271Signature() public {
        Passkey memory friendKey = makePasskey("friend");
        SsoAccount friend = createAccount(friendKey);
        propose(address(friend));
        bytes memory signature = ssoTypedSignature(
            friend, friendKey, acceptanceStruct(address(friend), 1), ACCEPT_GUARDIAN_TYPE, "AcceptGuardian"
        );
        executor.acceptGuardianWithSignature(address(account), address(friend), signature);
        vm.assertEq(uint256(_status(address(friend))), uint256(IGuardianExecutor.GuardianStatus.Accepted));

        // The same signature from another passkey of nobody's: refused.
        Passkey memory stranger = makePasskey("stranger");
        SsoAccount other = createAccount(makePasskey("other friend"));
        propose(address(other));
        bytes memory forged = ssoTypedSignature(
            other, stranger, acceptanceStruct(address(other), 2), ACCEPT_GUARDIAN_TYPE, "AcceptGuardian"
        );
        vm.expectRevert(
            abi.encodeWithSelector(
                IGuardianExecutor.InvalidGuardianSignature.selector, address(account), address(other)
            )
        );
        executor.acceptGuardianWithSignature(address(account), address(other), forged);
    }

    function testFuzz_onlyTheGuardiansKeyAccepts(uint256 signerKey) public {
        signerKey = bound(signerKey, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        propose(alice);
        bytes memory signature = ecdsa(signerKey, executor.acceptanceDigest(address(account), alice));
        if (signerKey != aliceKey) {
            vm.expectRevert(
                abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), alice)
            );
        }
        executor.acceptGuardianWithSignature(address(account), alice, signature);
    }
}
