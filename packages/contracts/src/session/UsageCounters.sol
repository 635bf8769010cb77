// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "./ISessionKeyValidator.sol";
import {SessionContext, SessionSlot} from "./SessionContext.sol";
import {SessionSpecLib} from "./SessionSpecLib.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @title UsageCounters
/// @notice The SessionKeyValidator's usage counters: the fee spent and the amounts counted against the value and
/// constraint limits of a session's policies (lifetime or per-period allowances): load, check, store, and the
/// check of a limit's encoding at creation.
/// @dev A counter is `spent` plus a 24-bit period tag `(timestamp / period) mod 2^24`; a new tag resets `spent` (an
/// older period cannot land: its validity window is past). Counting against an allowance narrows the userOp's
/// validity window to the claimed period. Counters are numbered in spec order over the limits that are not
/// `Unlimited` (call policies' value limit then constraints, then transfer policies): counter 1 lives in the session
/// slot ({SessionSlot}), counters 2k and 2k+1 in extra slot k of `counters`, keyed by {counterKey} (see
/// docs/interfaces.md).
library UsageCounters {
    using SessionSpecLib for bytes;

    /// @dev Counts `amount` against counter `counter` whose limit is at `limitAt` in `spec`; returns false and the
    /// remaining amount when it does not fit.
    function consume(
        mapping(bytes32 => mapping(address => uint256)) storage counters,
        SessionContext memory ctx,
        uint256 counter,
        bytes calldata spec,
        uint256 limitAt,
        uint256 amount
    ) internal returns (bool ok, uint256 remaining) {
        if (amount == 0) return (true, (spec.word(limitAt) >> 144) & SessionSlot.MAX_LIMIT);
        if (counter == 1) {
            (ctx.word, remaining) = consumeIn(ctx, ctx.word, 128, SessionSlot.COUNTER_BITS, spec, limitAt, amount);
        } else {
            mapping(address => uint256) storage slots = counters[counterKey(ctx.id, ctx.tag, counter >> 1)];
            uint256 word;
            (word, remaining) = consumeIn(
                ctx, slots[ctx.account], (counter & 1) << 7, SessionSlot.COUNTER_BITS, spec, limitAt, amount
            );
            if (amount <= remaining) slots[ctx.account] = word;
        }
        return (amount <= remaining, remaining);
    }

    /// @dev Counts the most the account can pay for `userOp` against the fee limit (its counter is in the session
    /// word): `maxFeePerGas × (verificationGasLimit + callGasLimit + preVerificationGas)`.
    function consumeFee(SessionContext memory ctx, bytes calldata spec, PackedUserOperation calldata userOp)
        internal
        pure
    {
        uint256 fee;
        assembly ("memory-safe") {
            // accountGasLimits = verificationGasLimit ‖ callGasLimit; gasFees = maxPriorityFeePerGas ‖ maxFeePerGas
            let gasLimits := calldataload(add(userOp, 0x80))
            let gas_ :=
                add(
                    add(shr(128, gasLimits), and(gasLimits, 0xffffffffffffffffffffffffffffffff)),
                    calldataload(add(userOp, 0xa0))
                )
            let maxFee := and(calldataload(add(userOp, 0xc0)), 0xffffffffffffffffffffffffffffffff)
            fee := mul(maxFee, gas_)
            // 128-bit fee × (two 128-bit limits + preVerificationGas): refuse what could wrap.
            if or(
                gt(calldataload(add(userOp, 0xa0)), 0xffffffffffffffffffffffffffffffff),
                iszero(or(iszero(maxFee), eq(div(fee, maxFee), gas_)))
            ) {
                fee := not(0)
            }
        }
        if (fee == 0) return;
        uint256 remaining;
        (ctx.word, remaining) =
            consumeIn(ctx, ctx.word, SessionSlot.FEE_SHIFT, SessionSlot.FEE_BITS, spec, ctx.header + 6, fee);
        if (fee > remaining) revert ISessionKeyValidator.FeeLimitExceeded(fee, remaining);
    }

    /// @dev Counts `amount` against the counter at bit `shift` of `word` (`bits` of spent, then a 24-bit period
    /// tag) under the limit at `limitAt`; returns the updated word (unchanged when it does not fit) and what
    /// remained before. Moves an allowance to the claimed period and narrows the validity window to it.
    function consumeIn(
        SessionContext memory ctx,
        uint256 word,
        uint256 shift,
        uint256 bits,
        bytes calldata spec,
        uint256 limitAt,
        uint256 amount
    ) internal pure returns (uint256, uint256 remaining) {
        // limitType (1) ‖ limit (13) ‖ period (4); spent never exceeds the limit (it only grows by what remained).
        uint256 limitWord = spec.word(limitAt);
        unchecked {
            uint256 field = word >> shift;
            uint256 spent = field & ((1 << bits) - 1);
            uint256 periodTag = (field >> bits) & SessionSlot.PERIOD_TAG_MASK;
            if (limitWord >> 248 == uint256(ISessionKeyValidator.LimitType.Allowance)) {
                uint256 newTag = enterPeriod(ctx, (limitWord >> 112) & 0xffffffff);
                if (newTag != periodTag) (periodTag, spent) = (newTag, 0);
            }
            remaining = ((limitWord >> 144) & SessionSlot.MAX_LIMIT) - spent;
            if (amount > remaining) return (word, remaining);
            uint256 mask = ((1 << (bits + 24)) - 1) << shift;
            word = (word & ~mask) | (((periodTag << bits) | (spent + amount)) << shift);
        }
        return (word, remaining);
    }

    /// @dev Narrows the validity window (its first and last second) to the period of the claimed time; returns
    /// that period's tag. `period` is not 0 (checked at creation); every figure fits 80 bits.
    function enterPeriod(SessionContext memory ctx, uint256 period) internal pure returns (uint256) {
        unchecked {
            uint256 periodIndex = ctx.timestamp / period;
            uint256 start = periodIndex * period;
            uint256 end = start + period - 1;
            if (start > ctx.validAfter) ctx.validAfter = start;
            if (end < ctx.validUntil) ctx.validUntil = end;
            return periodIndex & SessionSlot.PERIOD_TAG_MASK;
        }
    }

    /// @dev The remaining amount of counter `counter` (if its limit at `limitAt` is not Unlimited) at the
    /// context's time, and the next counter number.
    function remainingOf(
        mapping(bytes32 => mapping(address => uint256)) storage counters,
        SessionContext memory ctx,
        uint256 counter,
        bytes calldata spec,
        uint256 limitAt
    ) internal view returns (uint256 remaining, uint256 next) {
        if (spec.u8(limitAt) == uint256(ISessionKeyValidator.LimitType.Unlimited)) {
            return (type(uint256).max, counter);
        }
        uint256 word = counter == 1 ? ctx.word : counters[counterKey(ctx.id, ctx.tag, counter >> 1)][ctx.account];
        uint256 shift = counter == 1 ? 128 : (counter & 1) * 128;
        return (remainingIn(ctx, word, shift, SessionSlot.COUNTER_BITS, spec, limitAt), counter + 1);
    }

    /// @dev The remaining amount of the counter at bit `shift` of `word` under the limit at `limitAt`, at the
    /// context's time (a counter of an earlier period has the whole limit left).
    function remainingIn(
        SessionContext memory ctx,
        uint256 word,
        uint256 shift,
        uint256 bits,
        bytes calldata spec,
        uint256 limitAt
    ) internal pure returns (uint256) {
        uint256 limitType = spec.u8(limitAt);
        if (limitType == uint256(ISessionKeyValidator.LimitType.Unlimited)) return type(uint256).max;
        uint256 limit = spec.u104(limitAt + 1);
        uint256 spent = (word >> shift) & ((1 << bits) - 1);
        if (limitType == uint256(ISessionKeyValidator.LimitType.Allowance)) {
            uint256 periodTag = (word >> (shift + bits)) & SessionSlot.PERIOD_TAG_MASK;
            if ((ctx.timestamp / spec.u32(limitAt + 14)) & SessionSlot.PERIOD_TAG_MASK != periodTag) return limit;
        }
        return limit - spent;
    }

    /// @dev How many limits of the call policy at `p` (value limit and constraints) are not Unlimited: the
    /// counters it numbers.
    function limitedCounters(bytes calldata spec, uint256 p, uint256 constraints) internal pure returns (uint256 n) {
        if (spec.u8(p + 37) != 0) ++n;
        for (
            uint256 c = p + SessionSpecLib.CALL_POLICY_SIZE + 35;
            c < p + SessionSpecLib.CALL_POLICY_SIZE + constraints * SessionSpecLib.CONSTRAINT_SIZE;
            c += SessionSpecLib.CONSTRAINT_SIZE
        ) {
            if (spec.u8(c) != 0) ++n;
        }
    }

    /// @dev The key of extra counter slot `slot` of the session `id` created with `tag` (fresh when it is created
    /// again after a revoke-all).
    function counterKey(bytes32 id, uint256 tag, uint256 slot) internal pure returns (bytes32 key) {
        uint256 epoch = tag & (SessionSlot.TAG_VERSIONED | SessionSlot.EPOCH_MASK);
        assembly ("memory-safe") {
            // keccak256(abi.encode(id, epoch, slot)), in scratch memory past the free memory pointer.
            let m := mload(0x40)
            mstore(m, id)
            mstore(add(m, 0x20), epoch)
            mstore(add(m, 0x40), slot)
            key := keccak256(m, 0x60)
        }
    }

    /// @dev Checks a limit's encoding: Unlimited has no limit and no period, Lifetime no period, Allowance a period;
    /// the limit is within `maxLimit`.
    function validateLimit(bytes calldata spec, uint256 at, uint256 maxLimit) internal pure {
        uint256 limitType = spec.u8(at);
        uint256 limit = spec.u104(at + 1);
        uint256 period = spec.u32(at + 14);
        bool valid = limitType == uint256(ISessionKeyValidator.LimitType.Unlimited)
            ? limit == 0 && period == 0
            : limitType <= uint256(ISessionKeyValidator.LimitType.Allowance) && limit <= maxLimit
                && (limitType == uint256(ISessionKeyValidator.LimitType.Lifetime) ? period == 0 : period != 0);
        if (!valid) revert ISessionKeyValidator.InvalidUsageLimit(limitType, limit, period, maxLimit);
    }
}
