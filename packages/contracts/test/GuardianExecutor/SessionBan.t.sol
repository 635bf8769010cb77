// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {SessionSpecLib} from "../../src/session/SessionSpecLib.sol";
import {GuardianTest} from "./GuardianTest.sol";

/// @notice Sessions can never touch the recovery configuration: the GuardianExecutor is an installed module of every
/// account, which the SessionKeyValidator forbids as a session target (and the configuration functions act on
/// `msg.sender` only, i.e. the account calling through `execute`, which sessions can only use on allowed targets).
contract GuardianExecutorSessionBanTest is GuardianTest {
    function _spec(address target, bytes4 selector) internal returns (bytes memory) {
        ISessionKeyValidator.SessionSpec memory spec;
        spec.signer = abi.encodePacked(makeAddr("session key"));
        spec.expiresAt = uint48(vm.getBlockTimestamp() + 1 days);
        spec.feeLimit = ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Lifetime, 1 ether, 0);
        spec.callPolicies = new ISessionKeyValidator.CallPolicy[](1);
        spec.callPolicies[0].target = target;
        spec.callPolicies[0].selector = selector;
        return SessionSpecLib.encode(spec);
    }

    function _expectForbidden(bytes4 selector) internal {
        bytes memory spec = _spec(address(executor), selector);
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, address(executor)));
        sessions.createSession(spec);
    }

    function test_aSessionTargetingTheGuardianExecutorIsRefused() public {
        _expectForbidden(executor.proposeGuardian.selector);
        _expectForbidden(executor.removeGuardian.selector);
        _expectForbidden(executor.setThreshold.selector);
        _expectForbidden(executor.setRecoveryDelay.selector);
        _expectForbidden(executor.cancelRecovery.selector);
        _expectForbidden(executor.onUninstall.selector);
    }

    function test_aSessionCannotAddPasskeysDirectlyEither() public {
        bytes memory spec = _spec(address(validator), validator.addPasskey.selector);
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, address(validator)));
        sessions.createSession(spec);
    }

    function test_thePasskeyPathConfigures() public {
        handleOp(ownerOp(singleCall(address(executor), 0, abi.encodeCall(executor.setRecoveryDelay, (2 days)))));
        vm.assertEq(executor.recoveryDelay(address(account)), 2 days);
    }
}
