// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

contract GuardianExecutorStartRecoveryTest is GuardianTest {
    function _expectStartRevert(address guardian, IGuardianExecutor.RecoveryProposal memory p, bytes memory err)
        internal
    {
        vm.prank(guardian);
        vm.expectRevert(err);
        executor.startRecovery(address(account), p);
    }

    function test_startsWithTheCallersApproval() public {
        threeGuardians(2);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 expected = idOf(p, 0);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryStarted(address(account), expected, alice, p);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryApproved(address(account), expected, alice, 1);
        bytes32 id = start(alice, p);

        vm.assertEq(id, expected);
        vm.assertEq(executor.recoveryId(address(account), 0, p), expected);
        IGuardianExecutor.RecoveryState memory s = executor.recoveryState(address(account));
        vm.assertEq(uint256(s.status), uint256(IGuardianExecutor.RecoveryStatus.Approving));
        vm.assertEq(s.id, id);
        vm.assertEq(s.approvals, 1);
        vm.assertEq(s.startedAt, vm.getBlockTimestamp());
        vm.assertEq(s.readyAt, 0);
        vm.assertEq(s.expiresAt, 0);
        vm.assertTrue(executor.hasApproved(address(account), alice));
        vm.assertFalse(executor.hasApproved(address(account), bob));
        vm.assertEq(executor.recoveryNonce(address(account)), 0, "moves only at the threshold");
    }

    function test_aThresholdOfOneSchedulesAtOnce() public {
        addGuardian(alice);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 expected = idOf(p, 0);
        uint256 readyAt = vm.getBlockTimestamp() + 24 hours;
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryScheduled(address(account), expected, readyAt, readyAt + 7 days);
        start(alice, p);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        vm.assertEq(executor.recoveryNonce(address(account)), 1);
    }

    function test_startingThePendingProposalAgainApprovesIt() public {
        threeGuardians(2);
        bytes32 id = start(alice, defaultProposal());
        vm.assertEq(start(bob, defaultProposal()), id);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        // The same guardian twice: refused.
        _cancelAsTheAccount();
        id = start(alice, defaultProposal());
        _expectStartRevert(
            alice,
            defaultProposal(),
            abi.encodeWithSelector(IGuardianExecutor.AlreadyApproved.selector, address(account), id, alice)
        );
    }

    function _cancelAsTheAccount() internal {
        vm.prank(address(account));
        executor.cancelRecovery();
    }

    function test_onlyAcceptedGuardiansStart() public {
        propose(alice);
        _expectStartRevert(
            alice,
            defaultProposal(),
            abi.encodeWithSelector(IGuardianExecutor.GuardianNotAccepted.selector, address(account), alice)
        );
        _expectStartRevert(
            bob,
            defaultProposal(),
            abi.encodeWithSelector(IGuardianExecutor.GuardianNotAccepted.selector, address(account), bob)
        );
        // Nor the account's own passkeys through the account.
        _expectStartRevert(
            address(account),
            defaultProposal(),
            abi.encodeWithSelector(IGuardianExecutor.GuardianNotAccepted.selector, address(account), address(account))
        );
    }

    function test_refusesAProofThatCannotJoinTheAccount() public {
        addGuardian(alice);
        bytes memory err = abi.encodeWithSelector(
            IGuardianExecutor.InvalidPasskeyProof.selector, address(account), newKey.credentialId
        );
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        // Made for another account.
        p.proof = registrationProof(newKey, address(0xB0B));
        _expectStartRevert(alice, p, err);
        // Made by another passkey (the attacker's), naming the new credential.
        Passkey memory attacker = makePasskey("attacker");
        attacker.credentialId = newKey.credentialId;
        p.proof = registrationProof(attacker, address(account));
        _expectStartRevert(alice, p, err);
        // The right key, signed under another credential id.
        Passkey memory renamed = newKey;
        renamed.credentialId = hex"0102";
        p.proof = registrationProof(renamed, address(account));
        _expectStartRevert(alice, p, err);
        // Another origin than the proposal names.
        p = defaultProposal();
        p.origin = "https://evil.example";
        _expectStartRevert(alice, p, err);
        // Too short to hold a credential id hash, or empty.
        p = defaultProposal();
        p.proof = hex"00";
        _expectStartRevert(alice, p, err);
        p.proof = "";
        _expectStartRevert(alice, p, err);
    }

    function test_refusesTooManyRemovalsOrRemovingTheNewPasskey() public {
        addGuardian(alice);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        p.removedCredentialIds = new bytes[](17);
        for (uint256 i = 0; i < 17; ++i) {
            p.removedCredentialIds[i] = abi.encodePacked(i);
        }
        _expectStartRevert(
            alice,
            p,
            abi.encodeWithSelector(IGuardianExecutor.TooManyRemovedPasskeys.selector, uint256(17), uint256(16))
        );
        p.removedCredentialIds = new bytes[](2);
        p.removedCredentialIds[0] = owner.credentialId;
        p.removedCredentialIds[1] = newKey.credentialId;
        _expectStartRevert(
            alice, p, abi.encodeWithSelector(IGuardianExecutor.RemovesNewPasskey.selector, newKey.credentialId)
        );
    }

    function test_aNewProposalReplacesOneBelowTheThreshold() public {
        threeGuardians(2);
        bytes32 first = start(alice, defaultProposal());
        IGuardianExecutor.RecoveryProposal memory other = proposalFor(makePasskey("other device"));
        bytes32 second = idOf(other, 0);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryCancelled(address(account), first, bob);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryStarted(address(account), second, bob, other);
        start(bob, other);
        IGuardianExecutor.RecoveryState memory s = executor.recoveryState(address(account));
        vm.assertEq(s.id, second);
        vm.assertEq(s.approvals, 1, "the replaced recovery's approvals are gone");
        vm.assertFalse(executor.hasApproved(address(account), alice));
        vm.assertEq(executor.recoveryNonce(address(account)), 0, "its signatures stay valid");
    }

    function test_aScheduledRecoveryCannotBeReplaced() public {
        threeGuardians(2);
        bytes32 id = start(alice, defaultProposal());
        approve(bob, id);
        _expectStartRevert(
            carol,
            proposalFor(makePasskey("other device")),
            abi.encodeWithSelector(IGuardianExecutor.RecoveryInProgress.selector, address(account), id)
        );
        // Nor restarted: its nonce is spent, so the same proposal is another recovery now.
        _expectStartRevert(
            carol,
            defaultProposal(),
            abi.encodeWithSelector(IGuardianExecutor.RecoveryInProgress.selector, address(account), id)
        );
    }

    function test_anExpiredRecoveryIsClearedByANewOne() public {
        addGuardian(alice);
        bytes32 id = start(alice, defaultProposal());
        vm.warp(vm.getBlockTimestamp() + 24 hours + 7 days);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 next = idOf(p, 1);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryExpired(address(account), id);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryStarted(address(account), next, alice, p);
        start(alice, p);
        vm.assertEq(executor.recoveryState(address(account)).id, next);
    }

    function test_anSsoAccountGuardianStartsByAPasskeyUserOp() public {
        Passkey memory friendKey = makePasskey("friend");
        SsoAccount friend = createAccount(friendKey);
        addGuardian(address(friend));
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        handleOp(
            passkeyOp(
                friend,
                friendKey,
                singleCall(address(executor), 0, abi.encodeCall(executor.startRecovery, (address(account), p)))
            )
        );
        vm.assertEq(executor.recoveryState(address(account)).id, idOf(p, 0));
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
    }

    function testFuzz_refusesAnyForgedProof(bytes32 r, bytes32 s) public {
        addGuardian(alice);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        // Same encoding, another P-256 signature.
        bytes memory proof = p.proof;
        assembly {
            mstore(add(proof, 0x64), r)
            mstore(add(proof, 0x84), s)
        }
        vm.assume(keccak256(proof) != keccak256(defaultProposal().proof));
        _expectStartRevert(
            alice,
            p,
            abi.encodeWithSelector(
                IGuardianExecutor.InvalidPasskeyProof.selector, address(account), newKey.credentialId
            )
        );
    }
}
