// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {SessionTest} from "./SessionTest.sol";
import {IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

// Tests drive time and pack/unpack words on purpose.
// forge-lint: disable-start(block-timestamp, unsafe-typecast)

/// @notice The validity window a session userOp returns: never unbounded (validUntil 0 means "forever" to the
/// EntryPoint), never past the session's expiry, always inside every allowance period the op consumed, and never
/// so narrow that an honest op (signed at the latest block time, before expiry) is refused. EntryPoint v0.8 accepts
/// an op when `validAfter < block.timestamp <= validUntil` (validAfter is exclusive).
contract SessionValidityWindowTest is SessionTest {
    uint256 internal constant MAX_FEE = (1 << 80) - 1;
    uint256 internal constant MAX_LIMIT = (1 << 104) - 1;

    /// @dev A limit of `amount` per `period` seconds (a uint32, unlike the base helper), or lifetime when 0.
    function _limit(uint256 amount, uint256 period) internal pure returns (ISessionKeyValidator.UsageLimit memory) {
        if (period == 0) return lifetime(amount);
        return
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Allowance, uint104(amount), uint32(period));
    }

    /// @dev Transfers of up to 1 ether to `recipient`; the fee and the transfers capped per period (0: lifetime),
    /// with limits no honest op of these tests reaches.
    function _spec(uint256 feePeriod, uint256 transferPeriod, uint256 expiresAt)
        internal
        view
        returns (ISessionKeyValidator.SessionSpec memory spec)
    {
        // Not baseSpec(): its default expiry would overflow near the uint48 edge.
        spec.signer = ecdsaSignerBytes();
        spec.expiresAt = uint48(expiresAt);
        spec.feeLimit = _limit(MAX_FEE, feePeriod);
        addTransfer(spec, recipient, 1 ether, _limit(MAX_LIMIT, transferPeriod));
    }

    function _window(uint256 validationData) internal pure returns (uint256 validAfter, uint256 validUntil) {
        validUntil = uint48(validationData >> 160);
        validAfter = uint48(validationData >> 208);
    }

    function _validate(PackedUserOperation memory op) internal returns (bool ok, uint256 validationData) {
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        try sessions.validateUserOp(op, hash) returns (uint256 data) {
            return (true, data);
        } catch {
            return (false, 0);
        }
    }

    function _expectFailedOp(PackedUserOperation memory op, bytes memory err) internal {
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        vm.expectRevert(err);
        vm.prank(bundler, bundler);
        ENTRYPOINT.handleOps(ops, bundler);
    }

    function _invalidTimestamp(uint48 timestamp) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISessionKeyValidator.InvalidTimestamp.selector, timestamp);
    }

    // --------------------------------------------------------------------------------------------------------
    // A 1-second period: the window of the period of time 0 would end at 0, i.e. never
    // --------------------------------------------------------------------------------------------------------

    /// @dev Claiming time 0 under a 1-second allowance: the period [0, 0] cannot be expressed (validUntil 0 is
    /// "forever"), so the op is refused instead of returning an unbounded window.
    function test_periodEndingAtTimeZeroIsRefused() public {
        ISessionKeyValidator.SessionSpec memory spec = _spec(0, 1, vm.getBlockTimestamp() + DAY);
        create(spec);
        PackedUserOperation memory op = signAt(transferOp(recipient, 1), spec, 0);
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        vm.expectRevert(_invalidTimestamp(0));
        sessions.validateUserOp(op, hash);
        // Same with a 1-second fee allowance.
        spec = _spec(1, 0, vm.getBlockTimestamp() + DAY);
        create(spec);
        op = signAt(transferOp(recipient, 1), spec, 0);
        hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        vm.expectRevert(_invalidTimestamp(0));
        sessions.validateUserOp(op, hash);
    }

    /// @dev The attack: a year after the session expired, an op claiming time 0 must not land.
    function test_attack_timeZeroOpAfterTheExpiry() public {
        ISessionKeyValidator.SessionSpec memory spec = _spec(0, 1, vm.getBlockTimestamp() + DAY);
        create(spec);
        PackedUserOperation memory op = signAt(transferOp(recipient, 1 ether), spec, 0);
        vm.warp(spec.expiresAt + 365 days);
        _expectFailedOp(
            op,
            abi.encodeWithSelector(IEntryPoint.FailedOpWithRevert.selector, 0, "AA23 reverted", _invalidTimestamp(0))
        );
        vm.assertEq(recipient.balance, 0);
    }

    /// @dev An honest op under a 1-second allowance lands in the block it was signed for.
    function test_oneSecondPeriod_honestOpLands() public {
        ISessionKeyValidator.SessionSpec memory spec = _spec(1, 1, vm.getBlockTimestamp() + DAY);
        create(spec);
        handleOp(sign(transferOp(recipient, 1), spec));
        vm.warp(vm.getBlockTimestamp() + 1);
        handleOp(sign(transferOp(recipient, 1), spec));
        vm.assertEq(recipient.balance, 2);
        (bool ok, uint256 data) = _validate(sign(transferOp(recipient, 1), spec));
        vm.assertTrue(ok);
        (uint256 validAfter, uint256 validUntil) = _window(data);
        vm.assertEq(validAfter, vm.getBlockTimestamp() - 1, "exclusive validAfter");
        vm.assertEq(validUntil, vm.getBlockTimestamp());
    }

    /// @dev An op signed at the first second of a period lands at that second.
    function test_opAtThePeriodStartLands() public {
        uint256 hour = (vm.getBlockTimestamp() / 1 hours + 1) * 1 hours;
        ISessionKeyValidator.SessionSpec memory spec = _spec(1 hours, DAY, hour + DAY);
        create(spec);
        vm.warp(hour);
        handleOp(sign(transferOp(recipient, 1), spec));
        vm.assertEq(recipient.balance, 1);
        // And at the last second of the period, still that period.
        vm.warp(hour + 1 hours - 1);
        PackedUserOperation memory op = sign(transferOp(recipient, 1), spec);
        (, uint256 data) = _validate(op);
        (uint256 validAfter, uint256 validUntil) = _window(data);
        vm.assertEq(validAfter, hour - 1);
        vm.assertEq(validUntil, hour + 1 hours - 1);
        handleOp(op);
        vm.assertEq(recipient.balance, 2);
        // A second later it is the next period: the old op's window is over.
        vm.warp(hour + 1 hours);
        _expectFailedOp(
            signAt(transferOp(recipient, 1), spec, uint48(hour + 1 hours - 1)),
            abi.encodeWithSelector(IEntryPoint.FailedOp.selector, 0, "AA22 expired or not due")
        );
    }

    /// @dev uint48 edges: a session expiring at the last representable second, periods longer than the session.
    function test_uint48Edges() public {
        uint256 end = type(uint48).max;
        vm.warp(end - 10);
        ISessionKeyValidator.SessionSpec memory spec = _spec(type(uint32).max, 7, end);
        create(spec);
        vm.warp(end);
        (bool ok, uint256 data) = _validate(sign(transferOp(recipient, 1), spec));
        vm.assertTrue(ok);
        (uint256 validAfter, uint256 validUntil) = _window(data);
        vm.assertEq(validUntil, end);
        vm.assertEq(validAfter, end - end % 7 - 1);
        handleOp(sign(transferOp(recipient, 1), spec));
        vm.assertEq(recipient.balance, 1);
    }

    // --------------------------------------------------------------------------------------------------------
    // Fuzz: periods, expiries and claimed times together
    // --------------------------------------------------------------------------------------------------------

    /// @dev `periodSeed` 0 is a lifetime limit, otherwise a period of 1 .. 2^32 - 1 seconds.
    function _period(uint256 periodSeed) internal pure returns (uint256) {
        return bound(periodSeed, 0, type(uint32).max);
    }

    function _session(uint256 feeSeed, uint256 transferSeed, uint256 createdAt, uint256 ttl)
        internal
        returns (ISessionKeyValidator.SessionSpec memory spec, uint256 feePeriod, uint256 transferPeriod)
    {
        feePeriod = _period(feeSeed);
        transferPeriod = _period(transferSeed);
        createdAt = bound(createdAt, 1, type(uint48).max - 1);
        uint256 expiresAt = createdAt + bound(ttl, 1, type(uint48).max - createdAt);
        vm.warp(createdAt);
        spec = _spec(feePeriod, transferPeriod, expiresAt);
        create(spec);
    }

    /// @dev Any claimed time: an accepted op's window is bounded by the expiry, contains the claimed time and lies
    /// inside the claimed period of every allowance it consumed.
    function testFuzz_windowIsBounded(
        uint256 feeSeed,
        uint256 transferSeed,
        uint256 createdAt,
        uint256 ttl,
        uint256 claimed,
        uint256 align
    ) public {
        (ISessionKeyValidator.SessionSpec memory spec, uint256 feePeriod, uint256 transferPeriod) =
            _session(feeSeed, transferSeed, createdAt, ttl);
        claimed = bound(claimed, 0, type(uint48).max);
        // Often exactly at a period boundary.
        if (align % 3 == 1 && transferPeriod != 0) claimed -= claimed % transferPeriod;
        if (align % 3 == 2 && feePeriod != 0) claimed -= claimed % feePeriod;

        (bool ok, uint256 data) = _validate(signAt(transferOp(recipient, 1), spec, uint48(claimed)));
        if (claimed > spec.expiresAt) {
            vm.assertFalse(ok, "accepted past the expiry");
            return;
        }
        if (!ok) {
            // Only a claim of time 0 under a 1-second period may be refused (its period ends at 0).
            vm.assertEq(claimed, 0, "refused a claim before the expiry");
            vm.assertTrue(feePeriod == 1 || transferPeriod == 1, "refused a claim of time 0");
            return;
        }
        vm.assertEq(data & 1, 0, "signature");
        (uint256 validAfter, uint256 validUntil) = _window(data);
        vm.assertTrue(validUntil != 0, "unbounded window");
        vm.assertLe(validUntil, spec.expiresAt, "window past the expiry");
        vm.assertLe(validAfter, claimed, "window after the claimed time");
        vm.assertLe(claimed, validUntil, "window before the claimed time");
        // The times the EntryPoint accepts, validAfter + 1 .. validUntil, all fall in the claimed periods.
        uint256[2] memory periods = [feePeriod, transferPeriod];
        for (uint256 i = 0; i < 2; ++i) {
            if (periods[i] == 0) continue;
            vm.assertEq((validAfter + 1) / periods[i], claimed / periods[i], "window starts in another period");
            vm.assertEq(validUntil / periods[i], claimed / periods[i], "window ends in another period");
        }
    }

    /// @dev An honest op (signed at the current block time, at or before the expiry) always lands.
    function testFuzz_honestOpLands(
        uint256 feeSeed,
        uint256 transferSeed,
        uint256 createdAt,
        uint256 ttl,
        uint256 at,
        uint256 align
    ) public {
        (ISessionKeyValidator.SessionSpec memory spec, uint256 feePeriod, uint256 transferPeriod) =
            _session(feeSeed, transferSeed, createdAt, ttl);
        uint256 start = vm.getBlockTimestamp();
        uint256 now_ = bound(at, start, spec.expiresAt);
        // Often exactly at a period boundary (still after the creation).
        uint256 period = align % 2 == 0 ? transferPeriod : feePeriod;
        if (align % 3 != 0 && period != 0 && now_ - now_ % period >= start) now_ -= now_ % period;
        vm.warp(now_);

        PackedUserOperation memory op = sign(transferOp(recipient, 1), spec);
        (bool ok, uint256 data) = _validate(op);
        vm.assertTrue(ok, "honest op refused by the validator");
        (uint256 validAfter, uint256 validUntil) = _window(data);
        vm.assertTrue(validAfter < now_ && now_ <= validUntil, "honest op outside its window");
        handleOp(op);
        vm.assertEq(recipient.balance, 1);
    }
}
// forge-lint: disable-end(block-timestamp, unsafe-typecast)
