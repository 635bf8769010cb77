// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {SessionSpecLib} from "../../src/session/SessionSpecLib.sol";
import {IWebAuthnValidator} from "../../src/webauthn/IWebAuthnValidator.sol";
import {GuardianTest} from "./GuardianTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

contract GuardianExecutorFinalizeRecoveryTest is GuardianTest {
    function setUp() public override {
        super.setUp();
        threeGuardians(2);
    }

    /// @dev Starts (alice) and schedules (bob) `p`; returns its id.
    function _schedule(IGuardianExecutor.RecoveryProposal memory p) internal returns (bytes32 id_) {
        id_ = start(alice, p);
        approve(bob, id_);
    }

    function _expectFinalizeRevert(IGuardianExecutor.RecoveryProposal memory p, bytes memory err) internal {
        vm.expectRevert(err);
        executor.finalizeRecovery(address(account), p);
    }

    /// @dev Adds a new passkey named `name` to the account with its proof (kept out of the tests' own frames).
    function _addPasskey(string memory name) internal returns (Passkey memory key) {
        key = makePasskey(name);
        bytes memory proof = registrationProof(key, address(account));
        vm.prank(address(account));
        validator.addPasskey(key.credentialId, key.x, key.y, key.rpId, key.origin, proof);
    }

    function _proven(Passkey memory key) internal view returns (bool) {
        return validator.passkeyState(address(account), key.credentialId, key.x, key.y, key.rpId, key.origin)
            == IWebAuthnValidator.PasskeyState.Proven;
    }

    function test_addsTheProvenPasskey_byAnyone_afterTheDelay() public {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id_ = _schedule(p);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Ready));

        vm.expectCall(address(account), abi.encodeWithSelector(IERC7579Execution.executeFromExecutor.selector), 1);
        vm.expectEmit(address(executor));
        emit IGuardianExecutor.RecoveryFinalized(address(account), id_);
        vm.prank(makeAddr("anyone"));
        finalize(p);

        vm.assertTrue(_proven(newKey));
        vm.assertTrue(_proven(owner) == false, "the first passkey stays Installed");
        vm.assertEq(validator.passkeyCount(address(account)), 2);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));

        // The new passkey now signs the account's userOps.
        address recipient = makeAddr("recipient");
        handleOp(passkeyOp(account, newKey, singleCall(recipient, 1 ether, "")));
        vm.assertEq(recipient.balance, 1 ether);
    }

    function test_listsTheNewPasskeyForLogIn() public {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        _schedule(p);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        vm.assertEq(accountsOf(newKey).length, 0, "not listed before finalization");
        finalize(p);
        address[] memory listed = accountsOf(newKey);
        vm.assertEq(listed.length, 1);
        vm.assertEq(listed[0], address(account));
    }

    function test_removesLostPasskeys_skippingThoseAlreadyGone() public {
        Passkey memory laptop = _addPasskey("laptop");

        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        p.removedCredentialIds = new bytes[](3);
        p.removedCredentialIds[0] = owner.credentialId;
        p.removedCredentialIds[1] = laptop.credentialId;
        p.removedCredentialIds[2] = hex"deadbeef"; // never registered
        _schedule(p);
        // Meanwhile the laptop passkey was removed.
        vm.prank(address(account));
        validator.removePasskey(laptop.credentialId);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        finalize(p);

        vm.assertEq(validator.passkeyCount(address(account)), 1);
        vm.assertEq(validator.passkeyCommitment(address(account), owner.credentialId), bytes32(0));
        vm.assertTrue(_proven(newKey));
        // The lost passkey no longer signs.
        PackedUserOperation memory lost = passkeyOp(account, owner, singleCall(makeAddr("recipient"), 1 ether, ""));
        vm.expectRevert();
        handleOp(lost);
    }

    function test_revokesEverySessionWhenChosen() public {
        ISessionKeyValidator.SessionSpec memory spec;
        spec.signer = abi.encodePacked(makeAddr("session key"));
        spec.expiresAt = uint48(vm.getBlockTimestamp() + 30 days);
        spec.feeLimit = ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Lifetime, 1 ether, 0);
        vm.prank(address(account));
        bytes32 sessionId = sessions.createSession(SessionSpecLib.encode(spec));

        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        p.revokeSessions = true;
        _schedule(p);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        finalize(p);
        vm.assertEq(
            uint256(sessions.sessionStatus(address(account), sessionId)), uint256(ISessionKeyValidator.Status.Revoked)
        );
        vm.assertEq(sessions.sessionNonce(address(account)), 1);
    }

    function test_keepsSessionsUnlessChosen_andSkipsAnUninstalledSessionValidator() public {
        _schedule(defaultProposal());
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        finalize(defaultProposal());
        vm.assertEq(sessions.sessionNonce(address(account)), 0);

        // Without the SessionKeyValidator (its uninstall revoked every session), revoke-all is skipped.
        vm.prank(address(account));
        account.uninstallModule(1, address(sessions), "");
        vm.assertEq(sessions.sessionNonce(address(account)), 1);
        Passkey memory next = makePasskey("next device");
        IGuardianExecutor.RecoveryProposal memory p = proposalFor(next);
        p.revokeSessions = true;
        _schedule(p);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        finalize(p);
        vm.assertTrue(_proven(next));
        vm.assertEq(sessions.sessionNonce(address(account)), 1);
    }

    function test_revertsWithoutAPendingRecovery() public {
        _expectFinalizeRevert(
            defaultProposal(), abi.encodeWithSelector(IGuardianExecutor.NoPendingRecovery.selector, address(account))
        );
    }

    function test_revertsOnAnotherProposal() public {
        _schedule(defaultProposal());
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        p.revokeSessions = true; // anything that differs
        _expectFinalizeRevert(
            p, abi.encodeWithSelector(IGuardianExecutor.UnknownRecovery.selector, address(account), idOf(p, 0))
        );
        p = defaultProposal();
        p.removedCredentialIds = new bytes[](1);
        p.removedCredentialIds[0] = owner.credentialId;
        _expectFinalizeRevert(
            p, abi.encodeWithSelector(IGuardianExecutor.UnknownRecovery.selector, address(account), idOf(p, 0))
        );
    }

    function test_revertsBeforeTheThreshold() public {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id_ = start(alice, p);
        vm.warp(vm.getBlockTimestamp() + 30 days);
        _expectFinalizeRevert(
            p, abi.encodeWithSelector(IGuardianExecutor.RecoveryNotScheduled.selector, address(account), id_)
        );
    }

    function test_revertsDuringTheDelay() public {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id_ = _schedule(p);
        uint256 readyAt = vm.getBlockTimestamp() + 24 hours;
        vm.warp(readyAt - 1);
        _expectFinalizeRevert(
            p, abi.encodeWithSelector(IGuardianExecutor.RecoveryNotReady.selector, address(account), id_, readyAt)
        );
    }

    function test_revertsOnceTheWindowClosed() public {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id_ = _schedule(p);
        uint256 expiresAt = vm.getBlockTimestamp() + 24 hours + 7 days;
        vm.warp(expiresAt);
        _expectFinalizeRevert(
            p, abi.encodeWithSelector(IGuardianExecutor.RecoveryWindowClosed.selector, address(account), id_, expiresAt)
        );
    }

    function test_revertsAfterTheAccountCancelled() public {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        _schedule(p);
        vm.warp(vm.getBlockTimestamp() + 23 hours);
        // Any owner passkey: a passkey userOp of the account.
        handleOp(ownerOp(singleCall(address(executor), 0, abi.encodeCall(executor.cancelRecovery, ()))));
        vm.warp(vm.getBlockTimestamp() + 1 hours);
        _expectFinalizeRevert(p, abi.encodeWithSelector(IGuardianExecutor.NoPendingRecovery.selector, address(account)));
    }

    function test_aFailingCallRevertsEverything() public {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id_ = _schedule(p);
        // The owner (who still has a passkey) added that very passkey meanwhile.
        bytes memory proof = registrationProof(newKey, address(account));
        vm.prank(address(account));
        validator.addPasskey(newKey.credentialId, newKey.x, newKey.y, newKey.rpId, newKey.origin, proof);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        _expectFinalizeRevert(
            p,
            abi.encodeWithSelector(
                IWebAuthnValidator.PasskeyAlreadyRegistered.selector, address(account), newKey.credentialId
            )
        );
        vm.assertEq(executor.recoveryState(address(account)).id, id_, "still pending");
    }

    function test_anAccountWithoutTheExecutorCannotBeRecovered() public {
        // Uninstalling the executor cancels the pending recovery (and the account no longer lets it execute).
        _schedule(defaultProposal());
        vm.prank(address(account));
        account.uninstallModule(2, address(executor), "");
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        _expectFinalizeRevert(
            defaultProposal(), abi.encodeWithSelector(IGuardianExecutor.NoPendingRecovery.selector, address(account))
        );
    }

    function testFuzz_finalizesOnlyInsideTheWindow(uint256 delay, uint256 elapsed) public {
        delay = bound(delay, 1 hours, 30 days);
        elapsed = bound(elapsed, 0, 40 days);
        vm.prank(address(account));
        executor.setRecoveryDelay(delay);
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 id_ = _schedule(p);
        uint256 readyAt = vm.getBlockTimestamp() + delay;
        vm.warp(vm.getBlockTimestamp() + elapsed);
        if (elapsed < delay) {
            _expectFinalizeRevert(
                p, abi.encodeWithSelector(IGuardianExecutor.RecoveryNotReady.selector, address(account), id_, readyAt)
            );
        } else if (elapsed >= delay + 7 days) {
            _expectFinalizeRevert(
                p,
                abi.encodeWithSelector(
                    IGuardianExecutor.RecoveryWindowClosed.selector, address(account), id_, readyAt + 7 days
                )
            );
        } else {
            finalize(p);
            vm.assertTrue(_proven(newKey));
        }
    }

    function testFuzz_anotherAccountsRecoveryNeverTouchesThisOne(uint256 elapsed) public {
        elapsed = bound(elapsed, 24 hours, 24 hours + 7 days - 1);
        SsoAccount other = createAccount(makePasskey("other owner"));
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        _schedule(p);
        vm.warp(vm.getBlockTimestamp() + elapsed);
        vm.expectRevert(abi.encodeWithSelector(IGuardianExecutor.NoPendingRecovery.selector, address(other)));
        executor.finalizeRecovery(address(other), p);
    }
}
