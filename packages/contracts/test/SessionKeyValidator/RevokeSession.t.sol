// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {SessionTest} from "./SessionTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

contract RevokeSessionTest is SessionTest {
    bytes32 internal idA;
    bytes32 internal idB;
    uint48 internal createdAt;

    function setUp() public override {
        super.setUp();
        createdAt = uint48(vm.getBlockTimestamp());
        idA = create(_specA());
        idB = create(_specB());
    }

    function _specA() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = baseSpec();
        spec.expiresAt = createdAt + DAY;
        addTransfer(spec, recipient, 1 ether, lifetime(2 ether));
    }

    function _specB() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = _specA();
        spec.signer = p256SignerBytes();
    }

    function _status(bytes32 id) internal view returns (uint256) {
        return uint256(sessions.sessionStatus(address(account), id));
    }

    function _expectNotActive(ISessionKeyValidator.SessionSpec memory spec, bytes32 id) internal {
        PackedUserOperation memory op = sign(transferOp(recipient, 1), spec);
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, id));
        sessions.validateUserOp(op, hash);
    }

    function test_revokeOne() public {
        vm.expectEmit(address(sessions));
        emit ISessionKeyValidator.SessionRevoked(address(account), idA);
        vm.prank(address(account));
        sessions.revokeSession(idA);
        vm.assertEq(_status(idA), uint256(ISessionKeyValidator.Status.Revoked));
        vm.assertEq(_status(idB), uint256(ISessionKeyValidator.Status.Active));
        _expectNotActive(_specA(), idA);
        validate(sign(transferOp(recipient, 1), _specB()));
        vm.assertEq(uint256(state(_specA()).status), uint256(ISessionKeyValidator.Status.Revoked));
    }

    function test_revokeSeveral() public {
        bytes32[] memory ids = new bytes32[](2);
        (ids[0], ids[1]) = (idA, idB);
        vm.prank(address(account));
        sessions.revokeSessions(ids);
        _expectNotActive(_specA(), idA);
        _expectNotActive(_specB(), idB);
    }

    function test_revert_revokeUnknownOrTwice() public {
        vm.startPrank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, bytes32(uint256(1))));
        sessions.revokeSession(bytes32(uint256(1)));
        sessions.revokeSession(idA);
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, idA));
        sessions.revokeSession(idA);
        vm.stopPrank();
        // Another account cannot revoke ours: it has no such session.
        vm.prank(makeAddr("stranger"));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, idB));
        sessions.revokeSession(idB);
        vm.assertEq(_status(idB), uint256(ISessionKeyValidator.Status.Active));
    }

    function test_revokeAll() public {
        vm.expectEmit(address(sessions));
        emit ISessionKeyValidator.AllSessionsRevoked(address(account), 1);
        vm.prank(address(account));
        sessions.revokeAllSessions();
        vm.assertEq(sessions.sessionNonce(address(account)), 1);
        vm.assertEq(_status(idA), uint256(ISessionKeyValidator.Status.Revoked));
        vm.assertEq(_status(idB), uint256(ISessionKeyValidator.Status.Revoked));
        _expectNotActive(_specA(), idA);
        _expectNotActive(_specB(), idB);
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, idA));
        sessions.revokeSession(idA);
    }

    function test_recreatedAfterRevokeAllStartsFresh() public {
        validate(sign(transferOp(recipient, 1 ether), _specA()));
        vm.assertEq(state(_specA()).transferValueRemaining[0], 1 ether);
        vm.prank(address(account));
        sessions.revokeAllSessions();
        vm.assertEq(create(_specA()), idA);
        vm.assertEq(_status(idA), uint256(ISessionKeyValidator.Status.Active));
        vm.assertEq(state(_specA()).transferValueRemaining[0], 2 ether);
        vm.assertEq(state(_specA()).feeRemaining, 1 ether);
        // The other session stays revoked.
        _expectNotActive(_specB(), idB);
    }

    function test_uninstallRevokesAll() public {
        vm.prank(address(account));
        account.uninstallModule(1, address(sessions), "");
        vm.assertEq(sessions.sessionNonce(address(account)), 1);
        vm.prank(address(account));
        account.installModule(1, address(sessions), "");
        _expectNotActive(_specA(), idA);
        vm.assertEq(_status(idB), uint256(ISessionKeyValidator.Status.Revoked));
    }

    function test_revokeThroughAPasskeyUserOp() public {
        handleOp(ownerOp(singleCall(address(sessions), 0, abi.encodeCall(sessions.revokeSession, (idA)))));
        vm.assertEq(_status(idA), uint256(ISessionKeyValidator.Status.Revoked));
        handleOp(ownerOp(singleCall(address(sessions), 0, abi.encodeCall(sessions.revokeAllSessions, ()))));
        vm.assertEq(_status(idB), uint256(ISessionKeyValidator.Status.Revoked));
    }

    /// @dev A session key cannot revoke or create sessions: the validator is a forbidden target.
    function test_sessionCannotManageSessions() public {
        bytes memory revoke = abi.encodeCall(sessions.revokeSession, (idA));
        PackedUserOperation memory op = sign(sessionOp(singleCall(address(sessions), 0, revoke)), _specB());
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, address(sessions)));
        sessions.validateUserOp(op, hash);
        // Nor uninstall the validator through the account.
        bytes memory uninstall = abi.encodeCall(SsoAccount.uninstallModule, (1, address(sessions), ""));
        op = sign(sessionOp(singleCall(address(account), 0, uninstall)), _specB());
        hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, address(account)));
        sessions.validateUserOp(op, hash);
    }
}
