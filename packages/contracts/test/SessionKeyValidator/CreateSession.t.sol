// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SessionKeyValidator} from "../../src/SessionKeyValidator.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {SessionSpecLib} from "../../src/session/SessionSpecLib.sol";
import {MockModule} from "../mocks/Mocks.sol";
import {SessionTest} from "./SessionTest.sol";

contract CreateSessionTest is SessionTest {
    /// @dev Packed offsets of a secp256k1 spec: fee limit, call policy count, first call policy.
    uint256 internal constant FEE_AT = 27;
    uint256 internal constant CALL_COUNT_AT = 45;
    uint256 internal constant FIRST_POLICY_AT = 46;

    uint256 internal constant MAX_LIMIT = 2 ** 104 - 1;
    /// @dev docs/interfaces.md: the fee counter is 80 bits wide (the client's `maxFeeLimit` too).
    uint256 internal constant MAX_FEE_LIMIT = 2 ** 80 - 1;

    function _expectCreateRevert(ISessionKeyValidator.SessionSpec memory spec, bytes memory err) internal {
        _expectCreateRevertRaw(packed(spec), err);
    }

    function _expectCreateRevertRaw(bytes memory spec, bytes memory err) internal {
        vm.prank(address(account));
        vm.expectRevert(err);
        sessions.createSession(spec);
    }

    function _invalidEncoding(uint256 offset) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISessionKeyValidator.InvalidSpecEncoding.selector, offset);
    }

    function test_createsAnActiveSession() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, 1 ether, lifetime(2 ether));
        bytes32 expectedId = keccak256(packed(spec));
        vm.assertEq(
            uint256(sessions.sessionStatus(address(account), expectedId)), uint256(ISessionKeyValidator.Status.None)
        );

        vm.expectEmit(address(sessions));
        emit ISessionKeyValidator.SessionCreated(address(account), expectedId, packed(spec));
        bytes32 id = create(spec);

        vm.assertEq(id, expectedId);
        vm.assertEq(sessions.sessionId(packed(spec)), expectedId);
        vm.assertEq(uint256(sessions.sessionStatus(address(account), id)), uint256(ISessionKeyValidator.Status.Active));
        ISessionKeyValidator.SessionState memory s = state(spec);
        vm.assertEq(uint256(s.status), uint256(ISessionKeyValidator.Status.Active));
        vm.assertEq(s.feeRemaining, 1 ether);
        vm.assertEq(s.transferValueRemaining[0], 2 ether);
    }

    function test_createsThroughAPasskeyUserOp() public {
        ISessionKeyValidator.SessionSpec memory spec = tokenSpec(100 ether);
        handleOp(ownerOp(singleCall(address(sessions), 0, abi.encodeCall(sessions.createSession, (packed(spec))))));
        vm.assertEq(
            uint256(sessions.sessionStatus(address(account), idOf(spec))), uint256(ISessionKeyValidator.Status.Active)
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
        sessions.createSession(packed(spec));
        vm.assertEq(uint256(sessions.sessionStatus(address(other), id)), uint256(ISessionKeyValidator.Status.Active));
    }

    /// @dev Expiry is part of the spec: sessionStatus (id only) stays Active, sessionState (spec) says Expired.
    function test_stateBecomesExpired() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        bytes32 id = create(spec);
        vm.warp(spec.expiresAt);
        vm.assertEq(uint256(state(spec).status), uint256(ISessionKeyValidator.Status.Active));
        vm.warp(spec.expiresAt + 1);
        vm.assertEq(uint256(state(spec).status), uint256(ISessionKeyValidator.Status.Expired));
        vm.assertEq(uint256(sessions.sessionStatus(address(account), id)), uint256(ISessionKeyValidator.Status.Active));
        // A revoked session reads Revoked, expired or not.
        vm.prank(address(account));
        sessions.revokeSession(id);
        vm.assertEq(uint256(state(spec).status), uint256(ISessionKeyValidator.Status.Revoked));
        vm.assertEq(uint256(sessions.sessionStatus(address(account), id)), uint256(ISessionKeyValidator.Status.Revoked));
    }

    function test_stateOfAnUnknownSpecIsNone() public view {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, 1 ether, allowance(2 ether, DAY));
        ISessionKeyValidator.SessionState memory s = state(spec);
        vm.assertEq(uint256(s.status), uint256(ISessionKeyValidator.Status.None));
        vm.assertEq(s.feeRemaining, 1 ether);
        vm.assertEq(s.transferValueRemaining[0], 2 ether);
    }

    function test_revert_stateOfAMalformedSpec() public {
        bytes memory spec = packed(baseSpec());
        vm.expectRevert(_invalidEncoding(spec.length - 1));
        sessions.sessionState(address(account), slice(spec, 0, spec.length - 1));
        vm.expectRevert(_invalidEncoding(spec.length));
        sessions.sessionState(address(account), bytes.concat(spec, hex"00"));
    }

    function test_revert_notInstalled() public {
        MockModule notAnAccount = new MockModule(1);
        vm.prank(address(notAnAccount));
        vm.expectRevert();
        sessions.createSession(packed(baseSpec()));

        SessionKeyValidator otherValidator = new SessionKeyValidator();
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(ISessionKeyValidator.SessionValidatorNotInstalled.selector, address(account))
        );
        otherValidator.createSession(packed(baseSpec()));
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
        // A zero address and a point off the curve.
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.signer = abi.encodePacked(address(0));
        _expectCreateRevert(spec, abi.encodeWithSelector(ISessionKeyValidator.InvalidSigner.selector, spec.signer));
        spec.signer = abi.encodePacked(uint256(1), uint256(2));
        _expectCreateRevert(spec, abi.encodeWithSelector(ISessionKeyValidator.InvalidSigner.selector, spec.signer));
        spec.signer = abi.encodePacked(uint256(0), uint256(0));
        _expectCreateRevert(spec, abi.encodeWithSelector(ISessionKeyValidator.InvalidSigner.selector, spec.signer));
        // An unknown signer kind (the first byte): the error carries that byte.
        bytes memory valid = packed(baseSpec());
        uint8[3] memory kinds = [0, 3, 0xff];
        for (uint256 i = 0; i < kinds.length; ++i) {
            _expectCreateRevertRaw(
                withByte(valid, 0, kinds[i]),
                abi.encodeWithSelector(ISessionKeyValidator.InvalidSigner.selector, abi.encodePacked(kinds[i]))
            );
        }
    }

    /// @dev SessionSpecLib refuses what the packed format cannot carry (signer length, list lengths).
    function test_revert_unencodableSpec() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.signer = abi.encodePacked(ecdsaSigner, uint8(0));
        vm.expectRevert(SessionSpecLib.UnencodableSpec.selector);
        this.encodeExternal(spec);
        spec.signer = "";
        vm.expectRevert(SessionSpecLib.UnencodableSpec.selector);
        this.encodeExternal(spec);
    }

    function encodeExternal(ISessionKeyValidator.SessionSpec memory spec) external pure returns (bytes memory) {
        return packed(spec);
    }

    // --------------------------------------------------------------------------------------------------------
    // Packed layout
    // --------------------------------------------------------------------------------------------------------

    /// @dev A spec with every part: a call policy with two constraints and two transfer policies.
    function _fullSpec() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = tokenSpec(100 ether);
        addTransfer(spec, recipient, 1 ether, allowance(2 ether, DAY));
        addTransfer(spec, address(0x5ec0d), 1 ether, unlimited());
    }

    function test_packedLayout() public view {
        ISessionKeyValidator.SessionSpec memory spec = _fullSpec();
        bytes memory p = packed(spec);
        // 1 + 20 + 6 + 18 + 1 + (56 + 2 * 53) + 1 + 2 * 51
        vm.assertEq(p.length, 311);
        vm.assertEq(uint8(p[0]), 1);
        vm.assertEq(slice(p, 1, 21), abi.encodePacked(ecdsaSigner));
        vm.assertEq(slice(p, 21, 27), abi.encodePacked(spec.expiresAt));
        vm.assertEq(slice(p, FEE_AT, FEE_AT + 18), abi.encodePacked(uint8(1), uint104(1 ether), uint32(0)));
        vm.assertEq(uint8(p[CALL_COUNT_AT]), 1);
        vm.assertEq(slice(p, FIRST_POLICY_AT, FIRST_POLICY_AT + 20), abi.encodePacked(address(token)));
        vm.assertEq(uint8(p[FIRST_POLICY_AT + 55]), 2);
        vm.assertEq(uint8(p[FIRST_POLICY_AT + 56 + 2 * 53]), 2); // transfer count
        vm.assertEq(slice(p, 311 - 18, 311), abi.encodePacked(uint8(0), uint104(0), uint32(0)));
        // P-256: the kind byte and the 64-byte key.
        spec.signer = p256SignerBytes();
        p = packed(spec);
        vm.assertEq(p.length, 311 + 44);
        vm.assertEq(uint8(p[0]), 2);
        vm.assertEq(slice(p, 1, 65), p256SignerBytes());
    }

    /// @dev Every truncation of a valid spec is refused at its end, and so is any trailing byte.
    function test_revert_truncatedOrTrailingSpec() public {
        bytes[2] memory specs = [packed(_fullSpec()), packed(baseSpec())];
        for (uint256 k = 0; k < specs.length; ++k) {
            bytes memory spec = specs[k];
            for (uint256 length = 0; length < spec.length; ++length) {
                _expectCreateRevertRaw(slice(spec, 0, length), _invalidEncoding(length));
            }
            _expectCreateRevertRaw(bytes.concat(spec, hex"00"), _invalidEncoding(spec.length));
            _expectCreateRevertRaw(bytes.concat(spec, new bytes(51)), _invalidEncoding(spec.length));
        }
        // A P-256 kind byte in front of a 20-byte signer: the layout is too short.
        bytes memory short = withByte(packed(baseSpec()), 0, 2);
        _expectCreateRevertRaw(short, _invalidEncoding(short.length));
        // Counts that claim more entries than there are.
        bytes memory base = packed(baseSpec());
        _expectCreateRevertRaw(withByte(base, CALL_COUNT_AT, 1), _invalidEncoding(base.length));
        _expectCreateRevertRaw(withByte(base, base.length - 1, 1), _invalidEncoding(base.length));
        bytes memory full = packed(_fullSpec());
        _expectCreateRevertRaw(withByte(full, FIRST_POLICY_AT + 55, 0xff), _invalidEncoding(full.length));
        // ... or fewer: with one constraint, the second one's condition byte (0) reads as the transfer count.
        _expectCreateRevertRaw(withByte(full, FIRST_POLICY_AT + 55, 1), _invalidEncoding(FIRST_POLICY_AT + 56 + 53 + 1));
        _expectCreateRevertRaw(withByte(full, full.length - 2 * 51 - 1, 1), _invalidEncoding(full.length - 51));
    }

    function test_revert_unknownCondition() public {
        bytes memory spec = packed(_fullSpec());
        uint256 second = FIRST_POLICY_AT + 56 + 53; // condition byte of the second constraint
        _expectCreateRevertRaw(withByte(spec, second, 7), _invalidEncoding(second));
        _expectCreateRevertRaw(withByte(spec, FIRST_POLICY_AT + 56, 0xff), _invalidEncoding(FIRST_POLICY_AT + 56));
        // Condition 6 (LessOrEqual) is the last valid one.
        vm.prank(address(account));
        sessions.createSession(withByte(spec, second, 6));
    }

    function test_revert_unknownLimitType() public {
        bytes memory spec = packed(_fullSpec());
        // Fee limit: Lifetime 1 ether, type byte set to 3.
        _expectFeeLimitRevert(withByte(spec, FEE_AT, 3), 3, 1 ether, 0);
        // The call policy's value limit (Lifetime 0) and the first transfer policy's (Allowance 2 ether / day).
        _expectCreateRevertRaw(
            withByte(spec, FIRST_POLICY_AT + 37, 3),
            abi.encodeWithSelector(ISessionKeyValidator.InvalidUsageLimit.selector, 3, 0, 0, MAX_LIMIT)
        );
        uint256 transferLimit = FIRST_POLICY_AT + 56 + 2 * 53 + 1 + 33;
        _expectCreateRevertRaw(
            withByte(spec, transferLimit, 0xff),
            abi.encodeWithSelector(ISessionKeyValidator.InvalidUsageLimit.selector, 0xff, 2 ether, DAY, MAX_LIMIT)
        );
    }

    function test_revert_malformedLimits() public {
        ISessionKeyValidator.UsageLimit[4] memory bad = [
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Unlimited, 1, 0),
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Unlimited, 0, 1),
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Lifetime, 1, 1),
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Allowance, 1, 0)
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            bytes memory err = abi.encodeWithSelector(
                ISessionKeyValidator.InvalidUsageLimit.selector,
                bad[i].limitType,
                bad[i].limit,
                bad[i].period,
                MAX_LIMIT
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

            // The fee limit too.
            if (bad[i].limitType == ISessionKeyValidator.LimitType.Unlimited) continue;
            spec = baseSpec();
            spec.feeLimit = bad[i];
            _expectFeeLimitRevert(packed(spec), uint256(bad[i].limitType), bad[i].limit, bad[i].period);
        }
    }

    /// @dev Policy limits and maxValuePerUse use their whole 13-byte fields, indexes their 2 bytes.
    function test_policyLimitWidths() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, type(uint104).max, lifetime(MAX_LIMIT));
        uint256 p = addCall(spec, address(target), target.hit.selector, type(uint104).max, allowance(MAX_LIMIT, 1));
        addConstraint(spec, p, ISessionKeyValidator.Condition.Unconstrained, type(uint16).max, 0, lifetime(MAX_LIMIT));
        create(spec);
        ISessionKeyValidator.SessionState memory s = state(spec);
        vm.assertEq(s.transferValueRemaining[0], MAX_LIMIT);
        vm.assertEq(s.callPolicies[0].valueRemaining, MAX_LIMIT);
        vm.assertEq(s.callPolicies[0].constraintRemaining[0], MAX_LIMIT);
    }

    /// @dev The fee limit is at most 2^80 - 1 (docs/interfaces.md, the client's `maxFeeLimit`): 2^80 and 2^88 are
    /// refused naming that maximum, 2^80 - 1 is accepted.
    function test_feeLimitCap() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.feeLimit = lifetime(MAX_FEE_LIMIT + 1);
        _expectCreateRevert(
            spec,
            abi.encodeWithSelector(
                ISessionKeyValidator.InvalidUsageLimit.selector,
                ISessionKeyValidator.LimitType.Lifetime,
                MAX_FEE_LIMIT + 1,
                0,
                MAX_FEE_LIMIT
            )
        );
        spec.feeLimit = lifetime(2 ** 88);
        _expectCreateRevert(
            spec,
            abi.encodeWithSelector(
                ISessionKeyValidator.InvalidUsageLimit.selector,
                ISessionKeyValidator.LimitType.Lifetime,
                2 ** 88,
                0,
                MAX_FEE_LIMIT
            )
        );
        spec.feeLimit = allowance(type(uint104).max, 1 hours);
        _expectCreateRevert(
            spec,
            abi.encodeWithSelector(
                ISessionKeyValidator.InvalidUsageLimit.selector,
                ISessionKeyValidator.LimitType.Allowance,
                MAX_LIMIT,
                1 hours,
                MAX_FEE_LIMIT
            )
        );
        spec.feeLimit = allowance(MAX_FEE_LIMIT, type(uint32).max);
        create(spec);
        vm.assertEq(state(spec).feeRemaining, MAX_FEE_LIMIT);
    }

    /// @dev Fee-limit errors of malformed limits (their `maxLimit` is the fee cap).
    function _expectFeeLimitRevert(bytes memory spec, uint256 limitType, uint256 limit, uint256 period) internal {
        vm.prank(address(account));
        try sessions.createSession(spec) {
            revert("fee limit accepted");
        } catch (bytes memory err) {
            vm.assertEq(bytes4(err), ISessionKeyValidator.InvalidUsageLimit.selector);
            (uint256 gotType, uint256 gotLimit, uint256 gotPeriod, uint256 gotMax) =
                abi.decode(slice(err, 4, err.length), (uint256, uint256, uint256, uint256));
            vm.assertEq(gotType, limitType);
            vm.assertEq(gotLimit, limit);
            vm.assertEq(gotPeriod, period);
            vm.assertEq(gotMax, MAX_FEE_LIMIT);
        }
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
        limit = bound(limit, 0, MAX_LIMIT);
        maxValue = bound(maxValue, 0, type(uint104).max);
        vm.assume(to != address(account) && to != address(sessions) && to != address(validator));
        vm.assume(to != address(ENTRYPOINT) && uint160(to) > 0x1000);
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.expiresAt = uint48(vm.getBlockTimestamp()) + ttl;
        addTransfer(spec, to, maxValue, lifetime(limit));
        bytes memory p = packed(spec);
        vm.assertEq(p.length, 47 + 51);
        vm.assertEq(create(spec), keccak256(p));
        vm.assertEq(sessions.sessionId(p), keccak256(p));
        vm.assertEq(state(spec).transferValueRemaining[0], limit);
    }
}
