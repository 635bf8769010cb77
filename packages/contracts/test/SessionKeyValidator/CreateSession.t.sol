// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SessionKeyValidator} from "../../src/SessionKeyValidator.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {MockModule} from "../mocks/Mocks.sol";
import {SessionTest} from "./SessionTest.sol";

contract CreateSessionTest is SessionTest {
    function _expectCreateRevert(ISessionKeyValidator.SessionSpec memory spec, bytes memory err) internal {
        vm.prank(address(account));
        vm.expectRevert(err);
        sessions.createSession(spec);
    }

    function test_createsAnActiveSession() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, 1 ether, lifetime(2 ether));
        bytes32 expectedId = keccak256(abi.encode(spec));
        vm.assertEq(
            uint256(sessions.sessionStatus(address(account), expectedId)), uint256(ISessionKeyValidator.Status.None)
        );

        vm.expectEmit(address(sessions));
        emit ISessionKeyValidator.SessionCreated(address(account), expectedId, spec);
        bytes32 id = create(spec);

        vm.assertEq(id, expectedId);
        vm.assertEq(sessions.sessionId(spec), expectedId);
        vm.assertEq(uint256(sessions.sessionStatus(address(account), id)), uint256(ISessionKeyValidator.Status.Active));
        ISessionKeyValidator.SessionState memory s = state(spec);
        vm.assertEq(uint256(s.status), uint256(ISessionKeyValidator.Status.Active));
        vm.assertEq(s.feeRemaining, 1 ether);
        vm.assertEq(s.transferValueRemaining[0], 2 ether);
    }

    function test_createsThroughAPasskeyUserOp() public {
        ISessionKeyValidator.SessionSpec memory spec = tokenSpec(100 ether);
        handleOp(ownerOp(singleCall(address(sessions), 0, abi.encodeCall(sessions.createSession, (spec)))));
        vm.assertEq(
            uint256(sessions.sessionStatus(address(account), keccak256(abi.encode(spec)))),
            uint256(ISessionKeyValidator.Status.Active)
        );
    }

    function test_acceptsAP256Signer() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.signer = p256SignerBytes();
        bytes32 id = create(spec);
        vm.assertEq(uint256(sessions.sessionStatus(address(account), id)), uint256(ISessionKeyValidator.Status.Active));
    }

    function test_sessionsArePerAccount() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        bytes32 id = create(spec);
        SsoAccount other = createAccount(makePasskey("other"));
        vm.assertEq(uint256(sessions.sessionStatus(address(other), id)), uint256(ISessionKeyValidator.Status.None));
        // The same spec can be created by another account independently.
        vm.prank(address(other));
        sessions.createSession(spec);
        vm.assertEq(uint256(sessions.sessionStatus(address(other), id)), uint256(ISessionKeyValidator.Status.Active));
    }

    function test_statusBecomesExpired() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        bytes32 id = create(spec);
        vm.warp(spec.expiresAt);
        vm.assertEq(uint256(sessions.sessionStatus(address(account), id)), uint256(ISessionKeyValidator.Status.Active));
        vm.warp(spec.expiresAt + 1);
        vm.assertEq(uint256(sessions.sessionStatus(address(account), id)), uint256(ISessionKeyValidator.Status.Expired));
    }

    function test_revert_notInstalled() public {
        MockModule notAnAccount = new MockModule(1);
        vm.prank(address(notAnAccount));
        vm.expectRevert();
        sessions.createSession(baseSpec());

        SessionKeyValidator otherValidator = new SessionKeyValidator();
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(ISessionKeyValidator.SessionValidatorNotInstalled.selector, address(account))
        );
        otherValidator.createSession(baseSpec());
    }

    function test_revert_duplicate() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        bytes32 id = create(spec);
        _expectCreateRevert(spec, abi.encodeWithSelector(ISessionKeyValidator.SessionAlreadyExists.selector, id));
        // A revoked session cannot be brought back either.
        vm.prank(address(account));
        sessions.revokeSession(id);
        _expectCreateRevert(spec, abi.encodeWithSelector(ISessionKeyValidator.SessionAlreadyExists.selector, id));
    }

    function test_revert_invalidSigner() public {
        bytes[5] memory signers = [
            bytes(""),
            abi.encodePacked(address(0)),
            abi.encodePacked(bytes32(uint256(1))),
            abi.encodePacked(uint256(1), uint256(2)), // not on the curve
            abi.encodePacked(ecdsaSigner, uint8(0))
        ];
        for (uint256 i = 0; i < signers.length; ++i) {
            ISessionKeyValidator.SessionSpec memory spec = baseSpec();
            spec.signer = signers[i];
            _expectCreateRevert(spec, abi.encodeWithSelector(ISessionKeyValidator.InvalidSigner.selector, signers[i]));
        }
    }

    function test_revert_expiryNotInFuture() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.expiresAt = uint48(block.timestamp);
        _expectCreateRevert(
            spec, abi.encodeWithSelector(ISessionKeyValidator.InvalidExpiry.selector, uint48(block.timestamp))
        );
    }

    function test_revert_unlimitedFee() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.feeLimit = unlimited();
        _expectCreateRevert(spec, abi.encodeWithSelector(ISessionKeyValidator.UnlimitedFeeLimit.selector));
    }

    function test_revert_malformedLimits() public {
        ISessionKeyValidator.UsageLimit[5] memory bad = [
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Unlimited, 1, 0),
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Unlimited, 0, 1),
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Lifetime, 1, 1),
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Allowance, 1, 0),
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Lifetime, uint256(type(uint208).max) + 1, 0)
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            bytes memory err = abi.encodeWithSelector(
                ISessionKeyValidator.InvalidUsageLimit.selector,
                bad[i].limitType,
                bad[i].limit,
                bad[i].period,
                type(uint208).max
            );
            ISessionKeyValidator.SessionSpec memory spec = baseSpec();
            addTransfer(spec, recipient, 1, bad[i]);
            _expectCreateRevert(spec, err);

            spec = baseSpec();
            addCall(spec, address(target), target.hit.selector, 0, bad[i]);
            _expectCreateRevert(spec, err);

            spec = baseSpec();
            uint256 p = addCall(spec, address(target), target.hit.selector, 0, unlimited());
            addConstraint(spec, p, ISessionKeyValidator.Condition.Unconstrained, 0, 0, bad[i]);
            _expectCreateRevert(spec, err);
        }
        // The fee limit counter is 104 bits wide.
        ISessionKeyValidator.SessionSpec memory feeSpec = baseSpec();
        feeSpec.feeLimit = lifetime(uint256(type(uint104).max) + 1);
        _expectCreateRevert(
            feeSpec,
            abi.encodeWithSelector(
                ISessionKeyValidator.InvalidUsageLimit.selector,
                ISessionKeyValidator.LimitType.Lifetime,
                uint256(type(uint104).max) + 1,
                uint48(0),
                type(uint104).max
            )
        );
    }

    function test_revert_duplicatePolicies() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, 1, unlimited());
        addTransfer(spec, recipient, 2, unlimited());
        _expectCreateRevert(
            spec, abi.encodeWithSelector(ISessionKeyValidator.DuplicatePolicy.selector, recipient, bytes4(0))
        );

        spec = baseSpec();
        addCall(spec, address(target), target.hit.selector, 0, unlimited());
        addCall(spec, address(target), target.boom.selector, 0, unlimited());
        addCall(spec, address(target), target.hit.selector, 1, unlimited());
        _expectCreateRevert(
            spec,
            abi.encodeWithSelector(ISessionKeyValidator.DuplicatePolicy.selector, address(target), target.hit.selector)
        );
    }

    function test_revert_forbiddenTargets() public {
        MockModule executor = new MockModule(2);
        MockModule handler = new MockModule(3);
        vm.startPrank(address(account));
        account.installModule(2, address(executor), "");
        account.installModule(3, address(handler), abi.encodePacked(handler.whoCalled.selector));
        vm.stopPrank();

        address[6] memory forbidden = [
            address(account),
            address(sessions),
            address(validator),
            address(ENTRYPOINT),
            address(executor),
            address(handler)
        ];
        for (uint256 i = 0; i < forbidden.length; ++i) {
            bytes memory err = abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, forbidden[i]);
            ISessionKeyValidator.SessionSpec memory spec = baseSpec();
            addCall(spec, forbidden[i], handler.whoCalled.selector, 0, unlimited());
            _expectCreateRevert(spec, err);
            if (forbidden[i] == address(handler)) continue; // fallback handlers are matched by selector
            spec = baseSpec();
            addTransfer(spec, forbidden[i], 1, unlimited());
            _expectCreateRevert(spec, err);
        }
    }

    function test_revert_forbiddenSelectors() public {
        bytes4[4] memory selectors = [
            SsoAccount.installModule.selector,
            SsoAccount.uninstallModule.selector,
            bytes4(keccak256("upgradeToAndCall(address,bytes)")),
            bytes4(keccak256("upgradeTo(address)"))
        ];
        for (uint256 i = 0; i < selectors.length; ++i) {
            ISessionKeyValidator.SessionSpec memory spec = baseSpec();
            addCall(spec, address(target), selectors[i], 0, unlimited());
            _expectCreateRevert(
                spec,
                abi.encodeWithSelector(ISessionKeyValidator.ForbiddenSelector.selector, address(target), selectors[i])
            );
        }
    }

    function testFuzz_idIsTheSpecHash(address to, uint256 maxValue, uint256 limit, uint48 ttl) public {
        ttl = uint48(bound(ttl, 1, 365 days));
        limit = bound(limit, 0, type(uint208).max);
        vm.assume(to != address(account) && to != address(sessions) && to != address(validator));
        vm.assume(to != address(ENTRYPOINT) && uint160(to) > 0x1000);
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.expiresAt = uint48(block.timestamp) + ttl;
        addTransfer(spec, to, maxValue, lifetime(limit));
        vm.assertEq(create(spec), keccak256(abi.encode(spec)));
        vm.assertEq(state(spec).transferValueRemaining[0], limit);
    }
}
