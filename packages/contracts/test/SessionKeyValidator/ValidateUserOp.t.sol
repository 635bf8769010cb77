// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {MockModule, MockTarget} from "../mocks/Mocks.sol";
import {SessionTest} from "./SessionTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

// Tests drive time and pack/unpack words on purpose.
// forge-lint: disable-start(block-timestamp, unsafe-typecast)

contract ValidateUserOpTest is SessionTest {
    function _expectValidateRevert(PackedUserOperation memory op, bytes memory err) internal {
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        vm.expectRevert(err);
        sessions.validateUserOp(op, hash);
    }

    function _transferSpec(uint256 maxPerUse, ISessionKeyValidator.UsageLimit memory limit)
        internal
        view
        returns (ISessionKeyValidator.SessionSpec memory spec)
    {
        spec = baseSpec();
        addTransfer(spec, recipient, maxPerUse, limit);
    }

    // --------------------------------------------------------------------------------------------------------
    // Signers
    // --------------------------------------------------------------------------------------------------------

    function test_secp256k1Signer() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        vm.assertEq(validate(sign(transferOp(recipient, 1 ether), spec)), window(0, spec.expiresAt));
    }

    function test_p256Signer_lowAndHighS() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        spec.signer = p256SignerBytes();
        create(spec);
        PackedUserOperation memory op = transferOp(recipient, 1 ether);
        bytes32 digest = sha256(abi.encodePacked(digestOf(op, spec)));
        for (uint256 i = 0; i < 2; ++i) {
            (bytes32 r, bytes32 s) = signP256(p256Key, digest, i == 1);
            op.signature = sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), abi.encodePacked(r, s));
            vm.assertEq(validate(op), window(0, spec.expiresAt));
        }
    }

    function test_badSignaturesFail() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        PackedUserOperation memory op = sign(transferOp(recipient, 1 ether), spec);
        bytes32 digest = digestOf(op, spec);

        // Another key.
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(uint256(keccak256("intruder")), digest);
        op.signature = sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), abi.encodePacked(r, s, v));
        vm.assertEq(validate(op), window(0, spec.expiresAt) | 1);
        // The right key over the bare userOpHash (not bound to the session).
        (v, r, s) = vm.sign(ecdsaKey, ENTRYPOINT.getUserOpHash(op));
        op.signature = sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), abi.encodePacked(r, s, v));
        vm.assertEq(validate(op), window(0, spec.expiresAt) | 1);
        // Wrong length and garbage.
        op.signature = sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), abi.encodePacked(r, s));
        vm.assertEq(validate(op), window(0, spec.expiresAt) | 1);
        op.signature = sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), new bytes(65));
        vm.assertEq(validate(op), window(0, spec.expiresAt) | 1);

        // P-256: a signature by another key, and one over the digest without SHA-256.
        spec.signer = p256SignerBytes();
        create(spec);
        op = transferOp(recipient, 1 ether);
        digest = digestOf(op, spec);
        (r, s) = vm.signP256(p256Key + 1, sha256(abi.encodePacked(digest)));
        op.signature = sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), abi.encodePacked(r, s));
        vm.assertEq(validate(op), window(0, spec.expiresAt) | 1);
        (r, s) = vm.signP256(p256Key, digest);
        op.signature = sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), abi.encodePacked(r, s));
        vm.assertEq(validate(op), window(0, spec.expiresAt) | 1);
        op.signature = sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), abi.encodePacked(r, s, uint8(27)));
        vm.assertEq(validate(op), window(0, spec.expiresAt) | 1);
    }

    /// @dev The README's dummy signatures run the same checks and cost as much as a real signature (P-256: more;
    /// secp256k1: ecrecover runs either way, within a few hundred gas).
    function test_dummySignatureCostsLikeAValidOne() public {
        bytes memory ecdsaDummy = abi.encodePacked(
            bytes32(0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0),
            bytes32(0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0),
            uint8(27)
        );
        bytes32 half = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8;
        bytes memory p256Dummy = abi.encodePacked(half, half);
        for (uint256 i = 0; i < 2; ++i) {
            ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, allowance(2 ether, DAY));
            if (i == 1) spec.signer = p256SignerBytes();
            create(spec);
            PackedUserOperation memory op = sign(transferOp(recipient, 1 ether), spec);
            PackedUserOperation memory dummy = transferOp(recipient, 1 ether);
            dummy.signature =
                sessionSignature(packed(spec), uint48(vm.getBlockTimestamp()), i == 0 ? ecdsaDummy : p256Dummy);

            uint256 snapshot = vm.snapshotState();
            uint256 start = gasleft();
            uint256 data = validate(op);
            uint256 validGas = start - gasleft();
            vm.assertEq(data & 1, 0);
            vm.revertToState(snapshot);
            start = gasleft();
            data = validate(dummy);
            uint256 dummyGas = start - gasleft();
            vm.assertEq(data & 1, 1, "dummy validated");
            vm.assertLe(validGas, dummyGas + (i == 0 ? 500 : 0), "dummy cheaper than a real signature");
        }
    }

    function testFuzz_garbageSignatureNeverValidates(bytes memory garbage) public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        PackedUserOperation memory op = transferOp(recipient, 1 ether);
        op.signature = garbage;
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        try sessions.validateUserOp(op, hash) returns (uint256 data) {
            vm.assertEq(data & 1, 1, "garbage validated");
        } catch {}
    }

    function test_revert_malformedSignatureEncoding() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        PackedUserOperation memory op = transferOp(recipient, 1 ether);
        bytes memory err = abi.encodeWithSelector(ISessionKeyValidator.InvalidSessionSignatureEncoding.selector);
        bytes memory specBytes = packed(spec);
        // Too short for the length prefix.
        op.signature = "";
        _expectValidateRevert(op, err);
        op.signature = hex"00";
        _expectValidateRevert(op, err);
        // specLength past the end, with or without the timestamp.
        op.signature = abi.encodePacked(uint16(specBytes.length + 1), specBytes, uint40(0));
        _expectValidateRevert(op, err);
        op.signature =
            abi.encodePacked(uint16(type(uint16).max), specBytes, uint48(vm.getBlockTimestamp()), new bytes(65));
        _expectValidateRevert(op, err);
        // The spec and a truncated timestamp.
        op.signature = abi.encodePacked(uint16(specBytes.length), specBytes, uint40(vm.getBlockTimestamp()));
        _expectValidateRevert(op, err);
        // A zero-length spec with a timestamp parses, and names no session.
        op.signature = abi.encodePacked(uint16(0), uint48(vm.getBlockTimestamp()));
        _expectValidateRevert(op, abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, keccak256("")));
    }

    /// @dev Every prefix of a valid signature is refused: too short to parse -> InvalidSessionSignatureEncoding,
    /// a shortened signer signature -> SIG_VALIDATION_FAILED.
    function test_truncatedSignatureNeverValidates() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        PackedUserOperation memory op = sign(transferOp(recipient, 1 ether), spec);
        bytes memory full = op.signature;
        uint256 signerAt = 2 + packed(spec).length + 6;
        vm.assertEq(full.length, signerAt + 65);
        for (uint256 length = 0; length < full.length; ++length) {
            op.signature = slice(full, 0, length);
            if (length < signerAt) {
                _expectValidateRevert(
                    op, abi.encodeWithSelector(ISessionKeyValidator.InvalidSessionSignatureEncoding.selector)
                );
            } else {
                vm.assertEq(validate(op), window(0, spec.expiresAt) | 1);
            }
        }
        op.signature = full;
        vm.assertEq(validate(op), window(0, spec.expiresAt));
    }

    /// @dev The id is hashed from the raw spec bytes: any other bytes name no session.
    function test_revert_nonCanonicalSpecEncoding() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        PackedUserOperation memory op = sign(transferOp(recipient, 1 ether), spec);
        bytes memory specBytes = packed(spec);
        bytes memory signerSignature = slice(op.signature, 2 + specBytes.length + 6, op.signature.length);

        // A trailing byte inside specLength: same policies, different bytes.
        bytes memory padded = bytes.concat(specBytes, hex"00");
        op.signature = sessionSignature(padded, uint48(vm.getBlockTimestamp()), signerSignature);
        _expectValidateRevert(
            op, abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, keccak256(padded))
        );
        // specLength one short: the last spec byte becomes part of the timestamp.
        op.signature =
            abi.encodePacked(uint16(specBytes.length - 1), specBytes, uint48(vm.getBlockTimestamp()), signerSignature);
        _expectValidateRevert(
            op,
            abi.encodeWithSelector(
                ISessionKeyValidator.SessionNotActive.selector, keccak256(slice(specBytes, 0, specBytes.length - 1))
            )
        );
        // The canonical layout rebuilt by hand validates.
        op.signature =
            abi.encodePacked(uint16(specBytes.length), specBytes, uint48(vm.getBlockTimestamp()), signerSignature);
        vm.assertEq(validate(op), window(0, spec.expiresAt));
    }

    // --------------------------------------------------------------------------------------------------------
    // Session state
    // --------------------------------------------------------------------------------------------------------

    function test_revert_unknownRevokedAndOtherAccount() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        bytes32 id = idOf(spec);
        PackedUserOperation memory op = sign(transferOp(recipient, 1 ether), spec);
        bytes memory err = abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, id);
        _expectValidateRevert(op, err);

        create(spec);
        validate(op);

        // A session of `account` is nothing on another account.
        SsoAccount other = createAccount(makePasskey("other"));
        PackedUserOperation memory otherOp = buildUserOp(address(other), address(sessions), op.callData);
        otherOp = sign(otherOp, spec);
        bytes32 otherHash = ENTRYPOINT.getUserOpHash(otherOp);
        vm.prank(address(other));
        vm.expectRevert(err);
        sessions.validateUserOp(otherOp, otherHash);

        vm.prank(address(account));
        sessions.revokeSession(id);
        _expectValidateRevert(op, err);
    }

    function test_expiryBoundsTheWindow() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        // validUntil = expiresAt: the EntryPoint rejects the op after expiry.
        vm.assertEq(validate(sign(transferOp(recipient, 1), spec)), window(0, spec.expiresAt));
        // A claimed time past expiry is refused outright.
        _expectValidateRevert(
            signAt(transferOp(recipient, 1), spec, spec.expiresAt + 1),
            abi.encodeWithSelector(ISessionKeyValidator.SessionExpired.selector, idOf(spec), spec.expiresAt)
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // Transfer policies
    // --------------------------------------------------------------------------------------------------------

    function test_transfer_perUseAndLifetime() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, lifetime(2.5 ether));
        create(spec);
        _expectValidateRevert(
            sign(transferOp(recipient, 1 ether + 1), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.TransferValuePerUseExceeded.selector, recipient, 1 ether + 1, 1 ether
            )
        );
        validate(sign(transferOp(recipient, 1 ether), spec));
        validate(sign(transferOp(recipient, 1 ether), spec));
        vm.assertEq(state(spec).transferValueRemaining[0], 0.5 ether);
        _expectValidateRevert(
            sign(transferOp(recipient, 0.6 ether), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.TransferValueLimitExceeded.selector, recipient, 0.6 ether, 0.5 ether
            )
        );
        validate(sign(transferOp(recipient, 0.5 ether), spec));
        vm.assertEq(state(spec).transferValueRemaining[0], 0);
        // Lifetime never resets.
        vm.warp(vm.getBlockTimestamp() + DAY - 1);
        _expectValidateRevert(
            sign(transferOp(recipient, 1), spec),
            abi.encodeWithSelector(ISessionKeyValidator.TransferValueLimitExceeded.selector, recipient, 1, 0)
        );
    }

    function test_revert_noTransferPolicy() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        address stranger = makeAddr("stranger");
        _expectValidateRevert(
            sign(transferOp(stranger, 1), spec),
            abi.encodeWithSelector(ISessionKeyValidator.NoTransferPolicy.selector, stranger)
        );
        // A call policy does not allow plain transfers, and a transfer policy does not allow calls.
        _expectValidateRevert(
            sign(sessionOp(singleCall(recipient, 0, hex"12345678")), spec),
            abi.encodeWithSelector(ISessionKeyValidator.NoCallPolicy.selector, recipient, bytes4(0x12345678))
        );
        _expectValidateRevert(
            sign(sessionOp(singleCall(recipient, 0, hex"123456")), spec),
            abi.encodeWithSelector(ISessionKeyValidator.InvalidCallData.selector, recipient)
        );
    }

    function test_allowance_rollsOverEveryPeriod() public {
        uint48 period = 1 hours;
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, allowance(1 ether, period));
        create(spec);
        uint48 start = uint48(vm.getBlockTimestamp() / period * period);

        vm.assertEq(validate(sign(transferOp(recipient, 0.7 ether), spec)), periodWindow(start, start + period - 1));
        _expectValidateRevert(
            sign(transferOp(recipient, 0.4 ether), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.TransferValueLimitExceeded.selector, recipient, 0.4 ether, 0.3 ether
            )
        );
        vm.assertEq(state(spec).transferValueRemaining[0], 0.3 ether);

        vm.warp(start + period);
        vm.assertEq(state(spec).transferValueRemaining[0], 1 ether);
        vm.assertEq(
            validate(sign(transferOp(recipient, 1 ether), spec)), periodWindow(start + period, start + 2 * period - 1)
        );
        vm.assertEq(state(spec).transferValueRemaining[0], 0);

        // An op claiming the previous period validates only within that past window (the EntryPoint rejects it:
        // AA22, see SessionHandleOpsTest), whatever the previous period's counters say.
        vm.assertEq(validate(signAt(transferOp(recipient, 1), spec, start)), periodWindow(start, start + period - 1));
        vm.assertLt(start + period - 1, vm.getBlockTimestamp());
    }

    /// @dev The window of several allowances is the intersection of their periods (and the expiry).
    function test_allowance_windowIsTheIntersection() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, allowance(1 ether, 1 hours));
        spec.feeLimit = allowance(1 ether, DAY);
        spec.expiresAt = uint48(vm.getBlockTimestamp() / 1 hours * 1 hours + 30 minutes);
        vm.assertGt(spec.expiresAt, vm.getBlockTimestamp());
        create(spec);
        uint48 hourStart = uint48(vm.getBlockTimestamp() / 1 hours * 1 hours);
        vm.assertEq(validate(sign(transferOp(recipient, 1), spec)), periodWindow(hourStart, spec.expiresAt));
        // Claiming yesterday: yesterday's day and hour.
        uint48 yesterday = uint48(vm.getBlockTimestamp()) - DAY;
        vm.assertEq(
            validate(signAt(transferOp(recipient, 1), spec, yesterday)),
            periodWindow(yesterday / 1 hours * 1 hours, yesterday / 1 hours * 1 hours + 1 hours - 1)
        );
    }

    function test_allowance_windowNeverExceedsExpiry() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, allowance(1 ether, 30 days));
        create(spec);
        uint48 start = uint48(vm.getBlockTimestamp() / 30 days * 30 days);
        vm.assertEq(validate(sign(transferOp(recipient, 1), spec)), periodWindow(start, spec.expiresAt));
    }

    function testFuzz_allowance_neverExceedsLimitPerPeriod(uint256[8] memory amounts, uint256[8] memory jumps) public {
        uint48 period = 1 hours;
        uint256 limit = 1 ether;
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(limit, allowance(limit, period));
        spec.expiresAt = uint48(vm.getBlockTimestamp() + 30 days);
        create(spec);
        uint256 spentInPeriod;
        uint256 currentPeriod = vm.getBlockTimestamp() / period;
        for (uint256 i = 0; i < amounts.length; ++i) {
            vm.warp(vm.getBlockTimestamp() + bound(jumps[i], 0, 2 hours));
            if (vm.getBlockTimestamp() / period != currentPeriod) {
                currentPeriod = vm.getBlockTimestamp() / period;
                spentInPeriod = 0;
            }
            uint256 amount = bound(amounts[i], 0, limit);
            PackedUserOperation memory op = sign(transferOp(recipient, amount), spec);
            bytes32 hash = ENTRYPOINT.getUserOpHash(op);
            vm.prank(address(account));
            try sessions.validateUserOp(op, hash) returns (uint256) {
                spentInPeriod += amount;
                vm.assertLe(spentInPeriod, limit);
            } catch {
                vm.assertGt(spentInPeriod + amount, limit);
            }
            vm.assertEq(state(spec).transferValueRemaining[0], limit - spentInPeriod);
        }
    }

    // --------------------------------------------------------------------------------------------------------
    // Call policies and constraints
    // --------------------------------------------------------------------------------------------------------

    function _hitSpec() internal view returns (ISessionKeyValidator.SessionSpec memory spec, uint256 p) {
        spec = baseSpec();
        p = addCall(spec, address(target), MockTarget.hit.selector, 1 ether, lifetime(1.5 ether));
    }

    function _hitOp(uint256 value, uint256 arg) internal view returns (PackedUserOperation memory) {
        return sessionOp(singleCall(address(target), value, abi.encodeCall(MockTarget.hit, (arg))));
    }

    function test_call_valuePerUseAndLimit() public {
        (ISessionKeyValidator.SessionSpec memory spec,) = _hitSpec();
        create(spec);
        bytes4 hit = MockTarget.hit.selector;
        _expectValidateRevert(
            sign(_hitOp(1 ether + 1, 0), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallValuePerUseExceeded.selector, address(target), hit, 1 ether + 1, 1 ether
            )
        );
        validate(sign(_hitOp(1 ether, 0), spec));
        _expectValidateRevert(
            sign(_hitOp(0.6 ether, 0), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallValueLimitExceeded.selector, address(target), hit, 0.6 ether, 0.5 ether
            )
        );
        vm.assertEq(state(spec).callPolicies[0].valueRemaining, 0.5 ether);
        // Zero-value calls are always within the value limit.
        validate(sign(_hitOp(0, 7), spec));
        _expectValidateRevert(
            sign(sessionOp(singleCall(address(target), 0, abi.encodeCall(MockTarget.boom, ()))), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.NoCallPolicy.selector, address(target), MockTarget.boom.selector
            )
        );
    }

    function _holds(ISessionKeyValidator.Condition c, uint256 word, uint256 ref) internal pure returns (bool) {
        if (c == ISessionKeyValidator.Condition.Unconstrained) return true;
        if (c == ISessionKeyValidator.Condition.Equal) return word == ref;
        if (c == ISessionKeyValidator.Condition.NotEqual) return word != ref;
        if (c == ISessionKeyValidator.Condition.Greater) return word > ref;
        if (c == ISessionKeyValidator.Condition.GreaterOrEqual) return word >= ref;
        if (c == ISessionKeyValidator.Condition.Less) return word < ref;
        return word <= ref;
    }

    function testFuzz_everyCondition(uint8 rawCondition, uint256 word, uint256 ref) public {
        ISessionKeyValidator.Condition condition = ISessionKeyValidator.Condition(bound(rawCondition, 0, 6));
        // Exercise the boundaries often.
        if (rawCondition & 0x30 == 0) word = ref;
        if (rawCondition & 0x30 == 0x10 && ref < type(uint256).max) word = ref + 1;
        if (rawCondition & 0x30 == 0x20 && ref > 0) word = ref - 1;
        (ISessionKeyValidator.SessionSpec memory spec, uint256 p) = _hitSpec();
        addConstraint(spec, p, condition, 0, bytes32(ref), unlimited());
        create(spec);
        PackedUserOperation memory op = sign(_hitOp(0, word), spec);
        if (_holds(condition, word, ref)) {
            vm.assertEq(validate(op), window(0, spec.expiresAt));
        } else {
            _expectValidateRevert(
                op,
                abi.encodeWithSelector(
                    ISessionKeyValidator.ConstraintViolated.selector,
                    address(target),
                    MockTarget.hit.selector,
                    0,
                    condition,
                    bytes32(word),
                    bytes32(ref)
                )
            );
        }
    }

    function test_constraint_eachKind() public {
        ISessionKeyValidator.Condition[7] memory conditions = [
            ISessionKeyValidator.Condition.Unconstrained,
            ISessionKeyValidator.Condition.Equal,
            ISessionKeyValidator.Condition.NotEqual,
            ISessionKeyValidator.Condition.Greater,
            ISessionKeyValidator.Condition.GreaterOrEqual,
            ISessionKeyValidator.Condition.Less,
            ISessionKeyValidator.Condition.LessOrEqual
        ];
        // Accepted words for ref = 10, among 9, 10, 11.
        bool[3][7] memory accepts = [
            [true, true, true],
            [false, true, false],
            [true, false, true],
            [false, false, true],
            [false, true, true],
            [true, false, false],
            [true, true, false]
        ];
        for (uint256 c = 0; c < conditions.length; ++c) {
            (ISessionKeyValidator.SessionSpec memory spec, uint256 p) = _hitSpec();
            spec.expiresAt += uint48(c); // a distinct session per condition
            addConstraint(spec, p, conditions[c], 0, bytes32(uint256(10)), unlimited());
            create(spec);
            for (uint256 w = 0; w < 3; ++w) {
                PackedUserOperation memory op = sign(_hitOp(0, 9 + w), spec);
                if (accepts[c][w]) {
                    validate(op);
                } else {
                    _expectValidateRevert(
                        op,
                        abi.encodeWithSelector(
                            ISessionKeyValidator.ConstraintViolated.selector,
                            address(target),
                            MockTarget.hit.selector,
                            0,
                            conditions[c],
                            bytes32(9 + w),
                            bytes32(uint256(10))
                        )
                    );
                }
            }
        }
    }

    function test_constraint_limitAndRecipient() public {
        ISessionKeyValidator.SessionSpec memory spec = tokenSpec(100 ether);
        create(spec);
        validate(sign(tokenOp(recipient, 60 ether), spec));
        vm.assertEq(state(spec).callPolicies[0].constraintRemaining[1], 40 ether);
        vm.assertEq(state(spec).callPolicies[0].constraintRemaining[0], type(uint256).max);
        _expectValidateRevert(
            sign(tokenOp(recipient, 41 ether), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.ConstraintLimitExceeded.selector,
                address(token),
                bytes4(0xa9059cbb),
                1,
                41 ether,
                40 ether
            )
        );
        address thief = makeAddr("thief");
        _expectValidateRevert(
            sign(tokenOp(thief, 1), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.ConstraintViolated.selector,
                address(token),
                bytes4(0xa9059cbb),
                0,
                ISessionKeyValidator.Condition.Equal,
                bytes32(uint256(uint160(thief))),
                bytes32(uint256(uint160(recipient)))
            )
        );
    }

    function test_constraint_allowanceRollsOver() public {
        (ISessionKeyValidator.SessionSpec memory spec, uint256 p) = _hitSpec();
        addConstraint(spec, p, ISessionKeyValidator.Condition.LessOrEqual, 0, bytes32(uint256(50)), allowance(100, DAY));
        spec.expiresAt = uint48(vm.getBlockTimestamp()) + 7 * DAY;
        create(spec);
        validate(sign(_hitOp(0, 50), spec));
        validate(sign(_hitOp(0, 50), spec));
        _expectValidateRevert(
            sign(_hitOp(0, 1), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.ConstraintLimitExceeded.selector, address(target), MockTarget.hit.selector, 0, 1, 0
            )
        );
        vm.warp(vm.getBlockTimestamp() + DAY);
        vm.assertEq(state(spec).callPolicies[0].constraintRemaining[0], 100);
        validate(sign(_hitOp(0, 50), spec));
        vm.assertEq(state(spec).callPolicies[0].constraintRemaining[0], 50);
    }

    function test_revert_constraintOutOfBounds() public {
        (ISessionKeyValidator.SessionSpec memory spec, uint256 p) = _hitSpec();
        addConstraint(spec, p, ISessionKeyValidator.Condition.Unconstrained, 1, 0, unlimited());
        create(spec);
        _expectValidateRevert(
            sign(_hitOp(0, 1), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.ConstraintOutOfBounds.selector,
                address(target),
                MockTarget.hit.selector,
                0,
                uint256(1)
            )
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // Batches and execution modes
    // --------------------------------------------------------------------------------------------------------

    function test_batch_everyCallCounted() public {
        ISessionKeyValidator.SessionSpec memory spec = tokenSpec(100 ether);
        addTransfer(spec, recipient, 1 ether, lifetime(1 ether));
        create(spec);
        Execution[] memory calls = new Execution[](3);
        calls[0] = Execution(address(token), 0, abi.encodeCall(token.transfer, (recipient, 30 ether)));
        calls[1] = Execution(recipient, 0.5 ether, "");
        calls[2] = Execution(address(token), 0, abi.encodeCall(token.transfer, (recipient, 30 ether)));
        validate(sign(sessionOp(batchCall(calls)), spec));
        vm.assertEq(state(spec).callPolicies[0].constraintRemaining[1], 40 ether);
        vm.assertEq(state(spec).transferValueRemaining[0], 0.5 ether);

        // One call beyond policy fails the whole batch.
        calls[1] = Execution(recipient, 0.6 ether, "");
        _expectValidateRevert(
            sign(sessionOp(batchCall(calls)), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.TransferValueLimitExceeded.selector, recipient, 0.6 ether, 0.5 ether
            )
        );
        // Within one batch, amounts accumulate before the check.
        calls[1] = Execution(recipient, 0.1 ether, "");
        calls[2] = Execution(address(token), 0, abi.encodeCall(token.transfer, (recipient, 11 ether)));
        _expectValidateRevert(
            sign(sessionOp(batchCall(calls)), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.ConstraintLimitExceeded.selector,
                address(token),
                bytes4(0xa9059cbb),
                1,
                11 ether,
                10 ether
            )
        );
    }

    function test_tryExecTypeAccepted() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        bytes memory callData =
            abi.encodeCall(SsoAccount.execute, (mode(0x00, 0x01), abi.encodePacked(recipient, uint256(1))));
        validate(sign(sessionOp(callData), spec));
    }

    function test_revert_unsupportedCallData() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        bytes memory inner = abi.encodePacked(recipient, uint256(1));
        // Delegatecall, unknown exec type, unknown call type.
        bytes32[3] memory modes = [mode(0xff, 0x00), mode(0x00, 0x02), mode(0x02, 0x00)];
        for (uint256 i = 0; i < modes.length; ++i) {
            _expectValidateRevert(
                sign(sessionOp(abi.encodeCall(SsoAccount.execute, (modes[i], inner))), spec),
                abi.encodeWithSelector(ISessionKeyValidator.UnsupportedExecutionMode.selector, modes[i])
            );
        }
        // Any other account function, including installModule and executeUserOp-style calldata.
        bytes memory install = abi.encodeCall(SsoAccount.installModule, (2, address(target), ""));
        _expectValidateRevert(
            sign(sessionOp(install), spec),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedCallData.selector, SsoAccount.installModule.selector)
        );
        _expectValidateRevert(
            sign(sessionOp(hex"8dd7712f"), spec),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedCallData.selector, bytes4(0x8dd7712f))
        );
        _expectValidateRevert(
            sign(sessionOp(""), spec),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedCallData.selector, bytes4(0))
        );
    }

    /// @dev Validates `op` through SsoAccount's entry (the modules version given), as the account calls it.
    function _validateFromAccount(PackedUserOperation memory op) internal returns (uint256) {
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        uint256 version = account.modulesVersion();
        vm.prank(address(account));
        return sessions.validateUserOpWithKnownVersion(op, hash, version);
    }

    /// @dev SsoAccount's `executePacked_ezig` (what the SDK sends) is `execute` with packed arguments: from the
    /// account's entry it is checked call by call like `execute`; from the plain ERC-7579 entry, which other
    /// accounts use and where that selector could mean anything (a fallback handler), it is refused.
    function test_packedExecute_onlyFromSsoAccountsEntry() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        addCall(spec, address(token), token.transfer.selector, 0, unlimited());
        create(spec);
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(recipient, 0.5 ether, "");
        calls[1] = Execution(address(token), 0, abi.encodeCall(token.transfer, (recipient, 1 ether)));
        bytes[3] memory allowed = [
            packedExecute(singleCall(recipient, 1, "")),
            packedExecute(singleCall(address(token), 0, abi.encodeCall(token.transfer, (recipient, 1 ether)))),
            packedExecute(batchCall(calls))
        ];
        for (uint256 i = 0; i < allowed.length; ++i) {
            PackedUserOperation memory op = sign(sessionOp(allowed[i]), spec);
            vm.assertEq(_validateFromAccount(op), window(0, spec.expiresAt), "accepted from the account's entry");
            _expectValidateRevert(
                op, abi.encodeWithSelector(ISessionKeyValidator.UnsupportedCallData.selector, bytes4(0x00000017))
            );
        }
        // Checked like execute: a call outside the policies, a bad mode, too short for a mode.
        bytes memory stranger = packedExecute(singleCall(makeAddr("stranger"), 1, ""));
        bytes memory delegate =
            abi.encodePacked(SsoAccount.executePacked_ezig.selector, mode(0xff, 0x00), recipient, uint256(1));
        bytes memory short = abi.encodePacked(SsoAccount.executePacked_ezig.selector, bytes31(0));
        bytes[3] memory refused = [stranger, delegate, short];
        bytes[3] memory errors = [
            abi.encodeWithSelector(ISessionKeyValidator.NoTransferPolicy.selector, makeAddr("stranger")),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedExecutionMode.selector, mode(0xff, 0x00)),
            abi.encodeWithSelector(ISessionKeyValidator.UnsupportedCallData.selector, bytes4(0x00000017))
        ];
        for (uint256 i = 0; i < refused.length; ++i) {
            PackedUserOperation memory op = sign(sessionOp(refused[i]), spec);
            bytes32 hash = ENTRYPOINT.getUserOpHash(op);
            uint256 version = account.modulesVersion();
            vm.prank(address(account));
            vm.expectRevert(errors[i]);
            sessions.validateUserOpWithKnownVersion(op, hash, version);
        }
    }

    /// @dev The packed form's execution calldata is everything after the mode, as the account reads it: a byte after
    /// a single call's target and value is that call's calldata (not a plain transfer), for both.
    function test_packedExecute_decodesLikeTheAccount() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        address stranger = makeAddr("stranger");
        // A single call: target ‖ value ‖ data, where data is the rest, so a trailing byte is the call's calldata.
        bytes memory withData =
            abi.encodePacked(SsoAccount.executePacked_ezig.selector, mode(0x00, 0x00), recipient, uint256(1), hex"00");
        PackedUserOperation memory op = sign(sessionOp(withData), spec);
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        uint256 version = account.modulesVersion();
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.InvalidCallData.selector, recipient));
        sessions.validateUserOpWithKnownVersion(op, hash, version);
        // Through the real EntryPoint: the allowed transfer lands, the stranger gets nothing.
        vm.deal(address(account), 10 ether);
        handleOp(sign(sessionOp(packedExecute(singleCall(recipient, 0.25 ether, ""))), spec));
        vm.assertEq(recipient.balance, 0.25 ether);
        vm.assertEq(stranger.balance, 0);
    }

    /// @dev The account and the validator must read the same calls out of a non-canonical encoding.
    function test_nonCanonicalOffsetDecodesLikeTheAccount() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        address stranger = makeAddr("stranger");
        // Head points to the second blob; a decoy "allowed" blob sits first.
        bytes memory decoy = abi.encodePacked(recipient, uint256(1));
        bytes memory real = abi.encodePacked(stranger, uint256(1));
        bytes memory callData = abi.encodePacked(
            SsoAccount.execute.selector,
            mode(0x00, 0x00),
            uint256(0x40 + 0x20 + 0x40),
            uint256(decoy.length),
            decoy,
            bytes12(0),
            uint256(real.length),
            real,
            bytes12(0)
        );
        _expectValidateRevert(
            sign(sessionOp(callData), spec),
            abi.encodeWithSelector(ISessionKeyValidator.NoTransferPolicy.selector, stranger)
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // Fee limit
    // --------------------------------------------------------------------------------------------------------

    function test_fee_lifetime() public {
        PackedUserOperation memory op = transferOp(recipient, 1);
        uint256 fee = feeOf(op);
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        spec.feeLimit = lifetime(fee * 2 + fee / 2);
        create(spec);
        validate(sign(op, spec));
        validate(sign(op, spec));
        vm.assertEq(state(spec).feeRemaining, fee / 2);
        _expectValidateRevert(
            sign(op, spec), abi.encodeWithSelector(ISessionKeyValidator.FeeLimitExceeded.selector, fee, fee / 2)
        );
        // A cheaper op still fits.
        op.gasFees = bytes32(uint256(0.1 gwei) << 128 | uint256(0.1 gwei));
        validate(sign(op, spec));
    }

    function test_fee_allowanceRollsOver() public {
        PackedUserOperation memory op = transferOp(recipient, 1);
        uint256 fee = feeOf(op);
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        spec.feeLimit = allowance(fee, 1 hours);
        create(spec);
        uint48 start = uint48(vm.getBlockTimestamp() / 1 hours * 1 hours);
        vm.assertEq(validate(sign(op, spec)), periodWindow(start, start + 1 hours - 1));
        _expectValidateRevert(
            sign(op, spec), abi.encodeWithSelector(ISessionKeyValidator.FeeLimitExceeded.selector, fee, 0)
        );
        vm.warp(start + 1 hours);
        vm.assertEq(state(spec).feeRemaining, fee);
        validate(sign(op, spec));
    }

    function test_fee_notCountedWithAPaymaster() public {
        PackedUserOperation memory op = transferOp(recipient, 1);
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        spec.feeLimit = lifetime(0);
        create(spec);
        _expectValidateRevert(
            sign(op, spec), abi.encodeWithSelector(ISessionKeyValidator.FeeLimitExceeded.selector, feeOf(op), 0)
        );
        op.paymasterAndData = abi.encodePacked(makeAddr("paymaster"), uint128(100_000), uint128(50_000));
        vm.assertEq(validate(sign(op, spec)), window(0, spec.expiresAt));
    }

    // --------------------------------------------------------------------------------------------------------
    // Forbidden targets at use
    // --------------------------------------------------------------------------------------------------------

    function test_revert_moduleInstalledAfterCreation() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        uint256 p = addCall(spec, address(target), MockTarget.hit.selector, 0, unlimited());
        p;
        MockModule executor = new MockModule(2);
        addTransfer(spec, address(executor), 1, unlimited());
        create(spec);
        validate(sign(_hitOp(0, 1), spec));
        validate(sign(transferOp(address(executor), 1), spec));

        vm.prank(address(account));
        account.installModule(2, address(executor), "");
        _expectValidateRevert(
            sign(transferOp(address(executor), 1), spec),
            abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, address(executor))
        );
    }

    function test_revert_forbiddenTargetsAtUse() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        address[3] memory forbidden = [address(account), address(sessions), address(ENTRYPOINT)];
        for (uint256 i = 0; i < forbidden.length; ++i) {
            _expectValidateRevert(
                sign(transferOp(forbidden[i], 1), spec),
                abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, forbidden[i])
            );
            _expectValidateRevert(
                sign(
                    sessionOp(singleCall(forbidden[i], 0, abi.encodeWithSignature("depositTo(address)", account))), spec
                ),
                abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, forbidden[i])
            );
        }
        // A module installed before creation is not in the spec (creation refuses it): while the account's modules
        // version is unchanged, no policy names it.
        _expectValidateRevert(
            sign(transferOp(address(validator), 1), spec),
            abi.encodeWithSelector(ISessionKeyValidator.NoTransferPolicy.selector, address(validator))
        );
        // A fallback handler installed later, called with its selector.
        MockModule handler = new MockModule(3);
        vm.prank(address(account));
        account.installModule(3, address(handler), abi.encodePacked(handler.whoCalled.selector));
        _expectValidateRevert(
            sign(sessionOp(singleCall(address(handler), 0, abi.encodeCall(handler.whoCalled, ()))), spec),
            abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, address(handler))
        );
    }

    function test_revert_forbiddenSelectorAtUse() public {
        ISessionKeyValidator.SessionSpec memory spec = _transferSpec(1 ether, unlimited());
        create(spec);
        bytes memory upgrade = abi.encodeWithSignature("upgradeToAndCall(address,bytes)", address(target), "");
        _expectValidateRevert(
            sign(sessionOp(singleCall(address(target), 0, upgrade)), spec),
            abi.encodeWithSelector(
                ISessionKeyValidator.ForbiddenSelector.selector,
                address(target),
                bytes4(keccak256("upgradeToAndCall(address,bytes)"))
            )
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // Module interface
    // --------------------------------------------------------------------------------------------------------

    function test_moduleInterface() public view {
        vm.assertTrue(sessions.isModuleType(1));
        vm.assertFalse(sessions.isModuleType(2));
        vm.assertEq(sessions.isValidSignatureWithSender(address(this), bytes32(0), ""), bytes4(0xffffffff));
        vm.assertTrue(account.isModuleInstalled(1, address(sessions), ""));
    }
}
// forge-lint: disable-end(block-timestamp, unsafe-typecast)
