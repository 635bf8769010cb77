// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorApproveRecoveryWithSignaturesTest is GuardianTest {
    address internal relayer;

    function setUp() public override {
        super.setUp();
        relayer = makeAddr("relayer");
    }

    function _submit(IGuardianExecutor.RecoveryProposal memory p, IGuardianExecutor.GuardianSignature[] memory sigs)
        internal
        returns (bytes32)
    {
        vm.prank(relayer);
        return executor.approveRecoveryWithSignatures(address(account), p, sigs);
    }

    function _expectRevert(
        IGuardianExecutor.RecoveryProposal memory p,
        IGuardianExecutor.GuardianSignature[] memory sigs,
        bytes memory err
    ) internal {
        vm.prank(relayer);
        vm.expectRevert(err);
        executor.approveRecoveryWithSignatures(address(account), p, sigs);
    }

    function _two(address g1, bytes memory s1, address g2, bytes memory s2)
        internal
        pure
        returns (IGuardianExecutor.GuardianSignature[] memory list)
    {
        list = new IGuardianExecutor.GuardianSignature[](2);
        list[0] = IGuardianExecutor.GuardianSignature(g1, s1);
        list[1] = IGuardianExecutor.GuardianSignature(g2, s2);
    }

    function test_startsAndSchedulesInOneCall_byAnyone() public {
        threeGuardians(2);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id = idOf(p, 0);
        vm.assertEq(executor.approvalDigest(id), typedDigest(id));
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryStarted(address(account), id, alice, p);
        _submit(p, _two(alice, approvalSignature(aliceKey, id), carol, approvalSignature(carolKey, id)));
        IGuardianExecutor.RecoveryState memory s = executor.recoveryState(address(account));
        vm.assertEq(uint256(s.status), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        vm.assertEq(s.approvals, 2);
        vm.assertTrue(executor.hasApproved(address(account), carol));
    }

    function test_approvesThePendingRecovery() public {
        threeGuardians(2);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id = start(alice, p);
        vm.recordLogs();
        vm.assertEq(_submit(p, guardianSignatures(bob, approvalSignature(bobKey, id))), id);
        // Approved and scheduled; nothing started or cancelled.
        vm.assertEq(vm.getRecordedLogs().length, 2);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        // And a scheduled one still takes approvals (its nonce is the old one).
        _submit(p, guardianSignatures(carol, approvalSignature(carolKey, id)));
        vm.assertEq(executor.recoveryState(address(account)).approvals, 3);
    }

    function test_anSsoAccountGuardianSignsWithErc1271() public {
        Passkey memory friendKey = makePasskey("friend");
        SsoAccount friend = createAccount(friendKey);
        addGuardian(address(friend));
        addGuardian(alice);
        setThreshold(2);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id = idOf(p, 0);
        bytes memory friendSignature =
            ssoTypedSignature(friend, friendKey, id, APPROVE_RECOVERY_TYPE, "ApproveRecovery");
        _submit(p, _two(address(friend), friendSignature, alice, approvalSignature(aliceKey, id)));
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
    }

    function test_revertsOnAnEmptyList() public {
        threeGuardians(2);
        _expectRevert(
            defaultProposal(),
            new IGuardianExecutor.GuardianSignature[](0),
            abi.encodeWithSelector(IGuardianExecutor.NoGuardianSignatures.selector)
        );
    }

    function test_revertsOnABadSignature_writingNothing() public {
        threeGuardians(2);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id = idOf(p, 0);
        _expectRevert(
            p,
            _two(alice, approvalSignature(aliceKey, id), bob, approvalSignature(carolKey, id)),
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), bob)
        );
        _expectRevert(
            p,
            guardianSignatures(alice, hex"1234"),
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), alice)
        );
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));
    }

    function test_revertsForNonGuardiansAndDuplicates() public {
        threeGuardians(3);
        (address dave, uint256 daveKey) = makeAddrAndKey("dave");
        propose(dave);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id = idOf(p, 0);
        _expectRevert(
            p,
            guardianSignatures(dave, approvalSignature(daveKey, id)),
            abi.encodeWithSelector(IGuardianExecutor.GuardianNotAccepted.selector, address(account), dave)
        );
        bytes memory aliceSignature = approvalSignature(aliceKey, id);
        _expectRevert(
            p,
            _two(alice, aliceSignature, alice, aliceSignature),
            abi.encodeWithSelector(IGuardianExecutor.AlreadyApproved.selector, address(account), id, alice)
        );
    }

    function test_signaturesDieWhenTheNonceMoves() public {
        threeGuardians(2);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id = idOf(p, 0);
        bytes memory aliceSignature = approvalSignature(aliceKey, id);
        start(bob, proposalFor(makePasskey("other device")));
        // The account says no: nonce 1, alice's signature of nonce 0 approves nothing any more.
        vm.prank(address(account));
        executor.cancelRecovery();
        bytes32 fresh = idOf(p, 1);
        _expectRevert(
            p,
            guardianSignatures(alice, aliceSignature),
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), alice)
        );
        vm.assertEq(_submit(p, guardianSignatures(alice, approvalSignature(aliceKey, fresh))), fresh);
    }

    function test_aFinalizedRecoveryCannotBeReplayed() public {
        addGuardian(alice);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        IGuardianExecutor.GuardianSignature[] memory sigs =
            guardianSignatures(alice, approvalSignature(aliceKey, idOf(p, 0)));
        _submit(p, sigs);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        finalize(p);
        // The owner removes the recovered passkey later; the old signatures can't put it back.
        vm.prank(address(account));
        validator.removePasskey(newKey.credentialId);
        _expectRevert(
            p,
            sigs,
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), alice)
        );
    }

    function testFuzz_garbageNeverApproves(bytes memory garbage) public {
        threeGuardians(1);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        _expectRevert(
            p,
            guardianSignatures(alice, garbage),
            abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), alice)
        );
    }

    function testFuzz_onlyTheGuardiansKeyApproves(uint256 signerKey) public {
        signerKey = bound(signerKey, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        threeGuardians(1);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes memory signature = approvalSignature(signerKey, idOf(p, 0));
        if (signerKey != bobKey) {
            _expectRevert(
                p,
                guardianSignatures(bob, signature),
                abi.encodeWithSelector(IGuardianExecutor.InvalidGuardianSignature.selector, address(account), bob)
            );
        } else {
            _submit(p, guardianSignatures(bob, signature));
        }
    }
}
