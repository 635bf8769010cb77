// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "./GuardianTest.sol";

/// @notice The views: the recovery's status over time, ids and digests against the EIP-712 text.
contract GuardianExecutorRecoveryStateTest is GuardianTest {
    function test_statusOverTime() public {
        threeGuardians(2);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.None));
        IGuardianExecutor.RecoveryState memory none = executor.recoveryState(address(account));
        vm.assertEq(none.id, bytes32(0));
        bytes32 id = start(alice, defaultProposal());
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Approving));
        approve(bob, id);
        uint256 readyAt = vm.getBlockTimestamp() + 24 hours;
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        vm.warp(readyAt - 1);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        vm.warp(readyAt);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Ready));
        vm.warp(readyAt + 7 days - 1);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Ready));
        vm.warp(readyAt + 7 days);
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Expired));
    }

    function test_idsAndDigestsFollowEip712() public view {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        p.removedCredentialIds = new bytes[](2);
        p.removedCredentialIds[0] = owner.credentialId;
        p.removedCredentialIds[1] = hex"00";
        p.revokeSessions = true;
        vm.assertEq(executor.recoveryId(address(account), 7, p), idOf(p, 7));
        vm.assertEq(executor.APPROVE_RECOVERY_TYPEHASH(), keccak256(bytes(APPROVE_RECOVERY_TYPE)));
        vm.assertEq(executor.ACCEPT_GUARDIAN_TYPEHASH(), keccak256(bytes(ACCEPT_GUARDIAN_TYPE)));
        vm.assertEq(executor.approvalDigest(bytes32(uint256(1))), typedDigest(bytes32(uint256(1))));
        (, string memory name, string memory version, uint256 chainId, address verifyingContract,,) =
            executor.eip712Domain();
        vm.assertEq(name, "GuardianExecutor");
        vm.assertEq(version, "1");
        vm.assertEq(chainId, block.chainid);
        vm.assertEq(verifyingContract, address(executor));
        vm.assertEq(address(executor.webAuthnValidator()), address(validator));
        vm.assertEq(address(executor.sessionKeyValidator()), address(sessions));
    }

    function test_guardiansInSlotOrder() public {
        propose(alice);
        addGuardian(bob);
        (address[] memory guardians, bool[] memory accepted) = executor.guardiansOf(address(account));
        vm.assertEq(guardians.length, 2);
        vm.assertEq(guardians[0], alice);
        vm.assertEq(guardians[1], bob);
        vm.assertFalse(accepted[0]);
        vm.assertTrue(accepted[1]);
        vm.assertFalse(executor.hasApproved(address(account), alice));
        vm.assertFalse(executor.hasApproved(address(account), carol));
    }

    function testFuzz_idsDifferForEveryField(bytes memory credentialId, bytes32 x, bool revoke, uint256 nonce)
        public
        view
    {
        IGuardianExecutor.RecoveryProposal memory p = defaultProposal();
        bytes32 base = executor.recoveryId(address(account), 0, p);
        IGuardianExecutor.RecoveryProposal memory q = defaultProposal();
        q.credentialId = credentialId;
        q.x = x;
        q.revokeSessions = revoke;
        bool same = keccak256(credentialId) == keccak256(p.credentialId) && x == p.x && revoke == p.revokeSessions
            && nonce == 0;
        vm.assertEq(executor.recoveryId(address(account), nonce, q) == base, same);
        vm.assertEq(executor.recoveryId(address(account), nonce, q), idOf(q, nonce));
    }
}
