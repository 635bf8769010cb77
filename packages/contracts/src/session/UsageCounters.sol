// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessionKeyValidator} from "./ISessionKeyValidator.sol";
import {SessionContext, SessionSlot} from "./SessionContext.sol";
import {SessionSpecLib} from "./SessionSpecLib.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @title UsageCounters
/// @notice The SessionKeyValidator's usage counters: the fee spent and the amounts counted against the value and
/// constraint limits of a session's policies (lifetime or per-period allowances): where each lives, load, check,
/// store, and the check of a limit's encoding at creation.
/// @dev A counter takes the bits its limit needs: `spent` (it never exceeds the limit) in 32, 64, 80 or 104 bits, the
/// fewest that hold the limit, and for an `Allowance` a 24-bit period tag `(timestamp / period) mod 2^24` above it; a new tag resets
/// `spent` (an older period cannot land: its validity window is past). Counting against an allowance narrows the
/// userOp's validity window to the claimed period. Counters are laid out in spec order (the fee first, then the
/// limits that are not `Unlimited`: call policies' value limit then constraints, then transfer policies), packed
/// from bit 24 of the session slot ({SessionSlot}, after the tag): a counter that does not fit in what is left of a
/// slot starts at bit 0 of the next one, extra slot k (k >= 1) of `counters`, keyed by {counterKey}. The fee (at most
/// 104 bits) and the first counter (at most 128) always fit in the session slot; a lifetime fee limit and two
/// lifetime limits below 2^64 (18.4 ETH in wei), or with one of them an allowance below 2^80, fit there too
/// (packages/contracts/README.md, "Storage and the module check").
///
/// A cursor is where the next counter may start: `slot << 16 | bit`.
library UsageCounters {
    using SessionSpecLib for bytes;

    /// @dev The bit of the session slot where the fee counter starts, after the 24-bit tag.
    uint256 internal constant FIRST_BIT = 24;

    /// @dev The fee counter's `spent` bits and the cursor after it, where the policies' counters start;
    /// `feeLimitWord` is the 32 bytes at the fee limit.
    function feeCounter(uint256 feeLimitWord) internal pure returns (uint256 spentBits, uint256 cursor) {
        uint256 width;
        (spentBits, width) = counterBits(feeLimitWord);
        unchecked {
            cursor = FIRST_BIT + width; // at most 24 + 104
        }
    }

    /// @dev The bits of the counter of the limit whose 32 bytes (`limitType(1) limit(13) period(4) …`) are
    /// `limitWord`: `spentBits` for `spent`, `width` with the period tag of an Allowance. 0 for Unlimited.
    function counterBits(uint256 limitWord) internal pure returns (uint256 spentBits, uint256 width) {
        uint256 limitType = limitWord >> 248;
        if (limitType == uint256(ISessionKeyValidator.LimitType.Unlimited)) return (0, 0);
        uint256 limit = (limitWord >> 144) & SessionSlot.MAX_LIMIT;
        unchecked {
            spentBits = limit >> 64 == 0 ? (limit >> 32 == 0 ? 32 : 64) : (limit >> 80 == 0 ? 80 : 104);
            width = limitType == uint256(ISessionKeyValidator.LimitType.Allowance) ? spentBits + 24 : spentBits;
        }
    }

    /// @dev Places a counter of `width` bits at `cursor`: where it lands (`slot`, `bit`) and the cursor after it.
    function place(uint256 cursor, uint256 width) internal pure returns (uint256 slot, uint256 bit, uint256 next) {
        unchecked {
            slot = cursor >> 16;
            bit = cursor & 0xffff;
            if (bit + width > 256) (slot, bit) = (slot + 1, 0);
            next = (slot << 16) | (bit + width);
        }
    }

    /// @dev The cursor after the counter of the limit at `limitAt` (unchanged for an Unlimited one).
    function skip(bytes calldata spec, uint256 limitAt, uint256 cursor) internal pure returns (uint256 next) {
        (, uint256 width) = counterBits(spec.word(limitAt));
        (,, next) = place(cursor, width);
    }

    /// @dev Counts `amount` against the counter at `cursor` of the (not Unlimited) limit at `limitAt`; returns
    /// false and the remaining amount when it does not fit, and the cursor after the counter.
    function consume(
        mapping(bytes32 => mapping(address => uint256)) storage counters,
        SessionContext memory ctx,
        uint256 cursor,
        bytes calldata spec,
        uint256 limitAt,
        uint256 amount
    ) internal returns (bool ok, uint256 remaining, uint256 next) {
        uint256 limitWord = spec.word(limitAt);
        (uint256 spentBits, uint256 width) = counterBits(limitWord);
        uint256 slot;
        uint256 bit;
        (slot, bit, next) = place(cursor, width);
        if (amount == 0) return (true, (limitWord >> 144) & SessionSlot.MAX_LIMIT, next);
        if (slot == 0) {
            (ctx.word, remaining) = consumeIn(ctx, ctx.word, bit, spentBits, limitWord, amount);
        } else {
            mapping(address => uint256) storage slots = counters[counterKey(ctx.id, ctx.tag, slot)];
            uint256 word;
            (word, remaining) = consumeIn(ctx, slots[ctx.account], bit, spentBits, limitWord, amount);
            if (amount <= remaining) slots[ctx.account] = word;
        }
        return (amount <= remaining, remaining, next);
    }

    /// @dev Counts the most the account can pay for `userOp` against the fee limit (its counter is in the session
    /// word, at {FIRST_BIT}): `maxFeePerGas × (verificationGasLimit + callGasLimit + preVerificationGas)`.
    function consumeFee(
        SessionContext memory ctx,
        uint256 feeLimitWord,
        uint256 spentBits,
        PackedUserOperation calldata userOp
    ) internal pure {
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
        (ctx.word, remaining) = consumeIn(ctx, ctx.word, FIRST_BIT, spentBits, feeLimitWord, fee);
        if (fee > remaining) revert ISessionKeyValidator.FeeLimitExceeded(fee, remaining);
    }

    /// @dev Counts `amount` against the counter at bit `shift` of `word` (`spentBits` of spent, then for an
    /// Allowance a 24-bit period tag) under the limit `limitWord`; returns the updated word (unchanged when it does
    /// not fit) and what remained before. Moves an allowance to the claimed period and narrows the validity window
    /// to it.
    function consumeIn(
        SessionContext memory ctx,
        uint256 word,
        uint256 shift,
        uint256 spentBits,
        uint256 limitWord,
        uint256 amount
    ) internal pure returns (uint256, uint256 remaining) {
        // spent never exceeds the limit (it only grows by what remained), so it fits spentBits and nothing wraps.
        unchecked {
            uint256 field = word >> shift;
            uint256 spent = field & ((1 << spentBits) - 1);
            uint256 width = spentBits;
            uint256 periodTag;
            if (limitWord >> 248 == uint256(ISessionKeyValidator.LimitType.Allowance)) {
                width += 24;
                periodTag = enterPeriod(ctx, (limitWord >> 112) & 0xffffffff);
                if (periodTag != (field >> spentBits) & SessionSlot.PERIOD_TAG_MASK) spent = 0;
            }
            remaining = ((limitWord >> 144) & SessionSlot.MAX_LIMIT) - spent;
            if (amount > remaining) return (word, remaining);
            uint256 mask = ((1 << width) - 1) << shift;
            word = (word & ~mask) | (((periodTag << spentBits) | (spent + amount)) << shift);
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

    /// @dev The remaining amount of the counter at `cursor` of the limit at `limitAt` (`type(uint256).max` for an
    /// Unlimited one) at the context's time, and the cursor after it.
    function remainingOf(
        mapping(bytes32 => mapping(address => uint256)) storage counters,
        SessionContext memory ctx,
        uint256 cursor,
        bytes calldata spec,
        uint256 limitAt
    ) internal view returns (uint256 remaining, uint256 next) {
        uint256 limitWord = spec.word(limitAt);
        if (limitWord >> 248 == uint256(ISessionKeyValidator.LimitType.Unlimited)) {
            return (type(uint256).max, cursor);
        }
        (uint256 spentBits, uint256 width) = counterBits(limitWord);
        (uint256 slot, uint256 bit, uint256 after_) = place(cursor, width);
        uint256 word = slot == 0 ? ctx.word : counters[counterKey(ctx.id, ctx.tag, slot)][ctx.account];
        return (remainingIn(ctx, word, bit, spentBits, limitWord), after_);
    }

    /// @dev The remaining amount of the counter at bit `shift` of `word` under the limit `limitWord`, at the
    /// context's time (a counter of an earlier period has the whole limit left).
    function remainingIn(SessionContext memory ctx, uint256 word, uint256 shift, uint256 spentBits, uint256 limitWord)
        internal
        pure
        returns (uint256)
    {
        uint256 limitType = limitWord >> 248;
        if (limitType == uint256(ISessionKeyValidator.LimitType.Unlimited)) return type(uint256).max;
        uint256 limit = (limitWord >> 144) & SessionSlot.MAX_LIMIT;
        uint256 field = word >> shift;
        uint256 spent = field & ((1 << spentBits) - 1);
        if (limitType == uint256(ISessionKeyValidator.LimitType.Allowance)) {
            uint256 period = (limitWord >> 112) & 0xffffffff;
            if (
                (ctx.timestamp / period) & SessionSlot.PERIOD_TAG_MASK
                    != (field >> spentBits) & SessionSlot.PERIOD_TAG_MASK
            ) {
                return limit;
            }
        }
        return limit - spent;
    }

    /// @dev The cursor after the counters of the call policy at `p` (value limit, then constraints).
    function skipCallPolicy(bytes calldata spec, uint256 p, uint256 constraints, uint256 cursor)
        internal
        pure
        returns (uint256)
    {
        unchecked {
            cursor = skip(spec, p + 37, cursor);
            uint256 end = p + SessionSpecLib.CALL_POLICY_SIZE + constraints * SessionSpecLib.CONSTRAINT_SIZE;
            for (uint256 c = p + SessionSpecLib.CALL_POLICY_SIZE + 35; c < end; c += SessionSpecLib.CONSTRAINT_SIZE) {
                cursor = skip(spec, c, cursor);
            }
            return cursor;
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
