// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SessionKeyValidator} from "../../src/SessionKeyValidator.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {IEntryPointV08} from "../utils/SsoTest.sol";
import {Vm} from "../utils/Test.sol";
import {SessionTest} from "./SessionTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

// Tests drive time and pack/unpack words on purpose.
// forge-lint: disable-start(block-timestamp, unsafe-typecast)

/// @notice What the invariant handler needs from the test: the session spec and signed session userOps.
interface ISessionOps {
    function spec() external view returns (ISessionKeyValidator.SessionSpec memory);
    function packedSpec() external view returns (bytes memory);
    function signedTransfer(address to, uint256 value, uint48 claimedTime)
        external
        view
        returns (PackedUserOperation memory);
    function signedTokenTransfer(uint256 amount, uint48 claimedTime) external view returns (PackedUserOperation memory);
    function signedTransferFrom(address sender, address to, uint256 value, uint48 claimedTime)
        external
        view
        returns (PackedUserOperation memory);
}

/// @notice Drives one session through random honest transfers and token transfers, lies about the time, time jumps
/// (some to the exact first second of an hour), revocations (one by one or all), re-creations and uses of the same
/// session by another account, validating as the account would (a userOp outside its validity window is undone,
/// as the EntryPoint reverts the bundle). It keeps a ghost ledger of what was accepted per period, counts what
/// succeeded (the test requires every kind to have happened in every run) and counts what must never happen.
contract SessionHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    uint256 internal constant MAX_PER_USE = 1 ether; // both transfer policies
    uint256 internal constant TRANSFER_LIMIT = 2 ether; // allowance per hour to `allowanceRecipient`
    uint256 internal constant LIFETIME_LIMIT = 3 ether; // lifetime to `lifetimeRecipient`
    uint256 internal constant TOKEN_MAX = 20 ether; // LessOrEqual constraint on the token amount
    uint256 internal constant TOKEN_LIMIT = 50 ether; // allowance per day on the token amount

    ISessionOps internal immutable ops;
    SessionKeyValidator internal immutable sessions;
    IEntryPointV08 internal immutable entryPoint;
    address internal immutable account;
    /// @dev Another account with the same session (same spec, same key): its use must not touch ours.
    address internal immutable other;
    address public immutable allowanceRecipient;
    address public immutable lifetimeRecipient;
    uint256 public immutable feeLimit;
    uint256 internal immutable expiresAt;

    // Ghost ledger of the current session (reset when it is created again).
    uint256 public transferPeriod;
    uint256 public transferSpent;
    uint256 public lifetimeSpent;
    uint256 public tokenPeriod;
    uint256 public tokenSpent;
    uint256 public feePeriod;
    uint256 public feeSpent;
    bool public active = true;
    /// @dev Revoked one by one: only a revoke-all lets the same spec be created again.
    bool public revokedAlone;
    /// @dev Accepted ops since the session was (re)created: it is only revoked once used, so that it spends a fair
    /// share of every run active.
    uint256 internal usesSinceCreation;
    // The other account's fee counter (never revoked: its periods roll over even when ours is often revoked).
    uint256 public otherFeePeriod;
    uint256 public otherFeeSpent;

    /// @dev Mixed into the fuzzed arguments: a value the fuzzer keeps repeating still picks varied amounts and steps.
    uint256 internal nonce;
    /// @dev Set by the unit test to drive exact amounts and steps (never by the fuzzer: not a target selector).
    bool internal exactArguments;

    // What succeeded.
    uint256 public spends;
    uint256 public rollovers;
    uint256 public revocations;
    uint256 public creations;
    uint256 public otherSpends;
    uint256 public refusedLies;
    uint256 public refusedReplays;
    uint256 public boundarySpends;

    // What must never happen.
    uint256 public violations;
    uint256 public honestRefused;
    uint256 public unexpectedFailures;

    constructor(
        ISessionOps ops_,
        SessionKeyValidator sessions_,
        IEntryPointV08 entryPoint_,
        address account_,
        address other_,
        address allowanceRecipient_,
        address lifetimeRecipient_,
        uint256 feeLimit_
    ) {
        ops = ops_;
        sessions = sessions_;
        entryPoint = entryPoint_;
        account = account_;
        other = other_;
        allowanceRecipient = allowanceRecipient_;
        lifetimeRecipient = lifetimeRecipient_;
        feeLimit = feeLimit_;
        expiresAt = ops_.spec().expiresAt;
    }

    // ------------------------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------------------------

    /// @dev An honest transfer (signed at the current time).
    function transfer(bool toLifetime, uint256 value) external {
        _later(value);
        value = (_mix(value) % 6) * 0.25 ether; // coarse steps reach the limits; 1.25 ether > maxValuePerUse
        address to = toLifetime ? lifetimeRecipient : allowanceRecipient;
        _submit(ops.signedTransfer(to, value, _now()), toLifetime ? 1 : 0, value, true);
    }

    /// @dev An honest token transfer.
    function tokenTransfer(uint256 amount) external {
        _later(amount);
        amount = (_mix(amount) % 5) * 6 ether; // 24 ether breaks the LessOrEqual 20 ether constraint
        _submit(ops.signedTokenTransfer(amount, _now()), 2, amount, true);
    }

    /// @dev A transfer claiming a time at least an hour away (another fee period): never valid now.
    function lie(bool token, uint256 shift) external {
        _later(shift);
        uint256 distance = 1 hours + shift % 2 days;
        uint256 claimed = shift % 2 == 0 ? _now() + distance : (_now() > distance ? _now() - distance : 0);
        PackedUserOperation memory op = token
            ? ops.signedTokenTransfer(6 ether, uint48(claimed))
            : ops.signedTransfer(allowanceRecipient, 0.25 ether, uint48(claimed));
        _submit(op, token ? 2 : 0, token ? 6 ether : 0.25 ether, false);
    }

    /// @dev The other account spends from its own copy of the session (not booked in our ledger); its fee counter
    /// rolls over on chain as its own ledger says.
    function otherTransfer(uint256 value) external {
        _later(value);
        value = (_mix(value) % 5) * 0.25 ether;
        PackedUserOperation memory op = ops.signedTransferFrom(other, allowanceRecipient, value, _now());
        try this.validateNow(other, op) {
            ++otherSpends;
            uint256 hour = _now() / 1 hours;
            if (hour != otherFeePeriod) {
                if (otherFeeSpent != 0) ++rollovers;
                (otherFeePeriod, otherFeeSpent) = (hour, 0);
            }
            otherFeeSpent += _fee(op);
            if (sessions.sessionState(other, ops.packedSpec()).feeRemaining != feeLimit - otherFeeSpent) ++violations;
        } catch {}
    }

    /// @dev Our signed userOp replayed as the other account's (same session id there): never valid.
    function replayOnOther(bool toLifetime, uint256 value) external {
        value = (value % 5) * 0.25 ether;
        PackedUserOperation memory op =
            ops.signedTransfer(toLifetime ? lifetimeRecipient : allowanceRecipient, value, _now());
        op.sender = other;
        op.nonce = entryPoint.getNonce(other, uint192(uint160(address(sessions))) << 32);
        try this.validateNow(other, op) {
            ++violations;
        } catch {
            ++refusedReplays;
        }
    }

    /// @dev Mostly short steps (several per period), sometimes hours, sometimes to the first second of the next
    /// hour (where the window's exclusive validAfter matters). Time always moves (the fuzzer likes zeroes).
    function warp(uint256 seconds_) external {
        seconds_ = _mix(seconds_);
        uint256 mode = seconds_ % 8;
        if (mode == 1) vm.warp((_now() / 1 hours + 1) * 1 hours);
        else vm.warp(_now() + (mode == 0 ? 1 hours + seconds_ % 3 hours : 5 minutes + seconds_ % 40 minutes));
    }

    /// @dev Revokes the active session once it has been used, one by one or with a revoke-all; a revoked session is
    /// created again instead (so that revocations and re-creations alternate through every run).
    function revoke(bool all) external {
        if (!active) return _recreate();
        if (usesSinceCreation == 0) return;
        bytes32 id = keccak256(ops.packedSpec());
        vm.prank(account);
        if (all) {
            try sessions.revokeAllSessions() {
                (active, revokedAlone) = (false, false);
                ++revocations;
            } catch {
                ++unexpectedFailures;
            }
        } else {
            try sessions.revokeSession(id) {
                (active, revokedAlone) = (false, true);
                ++revocations;
            } catch {
                ++unexpectedFailures;
            }
        }
    }

    /// @dev Creates the revoked session again (after a revoke-all when it was revoked alone): fresh counters.
    function recreate() external {
        _recreate();
    }

    function _recreate() internal {
        if (active || _now() >= expiresAt) return;
        if (revokedAlone) {
            vm.prank(account);
            try sessions.revokeAllSessions() {
                revokedAlone = false;
                ++revocations;
            } catch {
                ++unexpectedFailures;
                return;
            }
        }
        bytes memory spec = ops.packedSpec();
        vm.prank(account);
        try sessions.createSession(spec) {
            active = true;
            (transferSpent, lifetimeSpent, tokenSpent, feeSpent, usesSinceCreation) = (0, 0, 0, 0, 0);
            ++creations;
        } catch {
            ++unexpectedFailures;
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // Validation as the account and the EntryPoint see it
    // ------------------------------------------------------------------------------------------------------

    function useExactArguments() external {
        exactArguments = true;
    }

    /// @dev Ops arrive a little after one another (0 to 5 minutes): every run spreads its spends over hours, so
    /// periods roll over whatever the fuzzer's choice and number of warps.
    function _later(uint256 seed) internal {
        if (!exactArguments) vm.warp(_now() + _mix(seed) % 5 minutes);
    }

    function _mix(uint256 value) internal returns (uint256) {
        return exactArguments ? value : uint256(keccak256(abi.encode(value, ++nonce)));
    }

    function _now() internal view returns (uint48) {
        return uint48(vm.getBlockTimestamp());
    }

    /// @dev Validates and reverts (undoing the counters) unless the userOp is valid now, like handleOps: EntryPoint
    /// v0.8 accepts `validAfter < block.timestamp <= validUntil`.
    function validateNow(address sender, PackedUserOperation calldata op) external returns (uint256 validationData) {
        require(msg.sender == address(this));
        bytes32 hash = entryPoint.getUserOpHash(op);
        vm.prank(sender);
        validationData = sessions.validateUserOp(op, hash);
        uint256 validUntil = uint48(validationData >> 160);
        uint256 validAfter = uint48(validationData >> 208);
        require(validationData & 1 == 0, "signature");
        require(validAfter < vm.getBlockTimestamp() && vm.getBlockTimestamp() <= validUntil, "out of window");
    }

    /// @dev Whether the ledger allows `amount` of `kind` (0 hourly transfer, 1 lifetime transfer, 2 token) and the
    /// fee now.
    function _allowed(uint256 kind, uint256 amount, uint256 fee) internal view returns (bool) {
        if (!active || _now() > expiresAt || currentFeeSpent() + fee > feeLimit) return false;
        if (kind == 0) return amount <= MAX_PER_USE && currentTransferSpent() + amount <= TRANSFER_LIMIT;
        if (kind == 1) return amount <= MAX_PER_USE && lifetimeSpent + amount <= LIFETIME_LIMIT;
        return amount <= TOKEN_MAX && currentTokenSpent() + amount <= TOKEN_LIMIT;
    }

    function _submit(PackedUserOperation memory op, uint256 kind, uint256 amount, bool honest) internal {
        uint256 fee = _fee(op);
        bool allowed = _allowed(kind, amount, fee);
        try this.validateNow(account, op) returns (uint256 validationData) {
            uint256 validUntil = uint48(validationData >> 160);
            // A lie is never valid now; nothing beyond the ledger's limits, the session's life or its expiry is.
            if (!honest || !allowed || validUntil == 0 || validUntil > expiresAt) ++violations;
            ++spends;
            ++usesSinceCreation;
            if (_now() % 1 hours == 0) ++boundarySpends;
            _book(kind, amount, fee);
        } catch {
            if (honest && allowed) ++honestRefused;
            if (!honest) ++refusedLies;
        }
    }

    function _fee(PackedUserOperation memory op) internal pure returns (uint256) {
        uint256 limits = uint256(op.accountGasLimits);
        return
            uint256(uint128(uint256(op.gasFees))) * ((limits >> 128) + uint256(uint128(limits)) + op.preVerificationGas);
    }

    /// @dev Books an accepted op in its periods; a new period of a limit used in an earlier one is a rollover.
    function _book(uint256 kind, uint256 amount, uint256 fee) internal {
        uint256 hour = _now() / 1 hours;
        if (hour != feePeriod) {
            if (feeSpent != 0) ++rollovers;
            (feePeriod, feeSpent) = (hour, 0);
        }
        feeSpent += fee;
        if (kind == 0) {
            if (hour != transferPeriod) {
                if (transferSpent != 0) ++rollovers;
                (transferPeriod, transferSpent) = (hour, 0);
            }
            transferSpent += amount;
        } else if (kind == 1) {
            lifetimeSpent += amount;
        } else {
            uint256 day = _now() / 1 days;
            if (day != tokenPeriod) {
                if (tokenSpent != 0) ++rollovers;
                (tokenPeriod, tokenSpent) = (day, 0);
            }
            tokenSpent += amount;
        }
    }

    /// @dev What the ledger says is spent in the current period (0 once the period is over).
    function currentTransferSpent() public view returns (uint256) {
        return vm.getBlockTimestamp() / 1 hours == transferPeriod ? transferSpent : 0;
    }

    function currentTokenSpent() public view returns (uint256) {
        return vm.getBlockTimestamp() / 1 days == tokenPeriod ? tokenSpent : 0;
    }

    function currentFeeSpent() public view returns (uint256) {
        return vm.getBlockTimestamp() / 1 hours == feePeriod ? feeSpent : 0;
    }
}

/// @notice Across random sequences of honest spends, lies about the time (another period validates only within that
/// period's window, which the EntryPoint rejects), time jumps (period rollovers), revocations, re-creations and uses
/// of the same session by another account: the sum spent never exceeds any limit, the on-chain remaining amounts
/// match the ledger, a revoked or expired session never validates, an honest op the ledger allows is never
/// refused, and nothing crosses accounts. Every run must have done each of these things at least once
/// ({afterInvariant}): a run in which every call reverted fails.
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 96
contract SessionInvariantTest is SessionTest, ISessionOps {
    SessionHandler internal handler;
    uint48 internal createdAt;
    address internal lifetimeRecipient;
    uint256 internal feeLimit;

    function setUp() public override {
        super.setUp();
        createdAt = uint48(vm.getBlockTimestamp());
        lifetimeRecipient = makeAddr("lifetime recipient");
        feeLimit = 8 * feeOf(transferOp(recipient, 0)); // eight userOps per hour
        create(this.spec());
        SsoAccount other = createAccount(makePasskey("other"));
        vm.prank(address(other));
        sessions.createSession(packed(spec()));
        handler = new SessionHandler(
            this, sessions, ENTRYPOINT, address(account), address(other), recipient, lifetimeRecipient, feeLimit
        );
    }

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @dev forge reads this to fuzz only the handler's actions.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = SessionHandler.transfer.selector;
        selectors[1] = SessionHandler.tokenTransfer.selector;
        selectors[2] = SessionHandler.lie.selector;
        selectors[3] = SessionHandler.warp.selector;
        selectors[4] = SessionHandler.revoke.selector;
        selectors[5] = SessionHandler.recreate.selector;
        selectors[6] = SessionHandler.otherTransfer.selector;
        selectors[7] = SessionHandler.replayOnOther.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function spec() public view returns (ISessionKeyValidator.SessionSpec memory s) {
        s = baseSpec();
        s.expiresAt = createdAt + DAY;
        s.feeLimit = allowance(feeLimit, 1 hours);
        addTransfer(s, recipient, 1 ether, allowance(2 ether, 1 hours));
        addTransfer(s, lifetimeRecipient, 1 ether, lifetime(3 ether));
        uint256 p = addCall(s, address(token), token.transfer.selector, 0, lifetime(0));
        addConstraint(s, p, ISessionKeyValidator.Condition.Equal, 0, bytes32(uint256(uint160(recipient))), unlimited());
        addConstraint(
            s, p, ISessionKeyValidator.Condition.LessOrEqual, 1, bytes32(uint256(20 ether)), allowance(50 ether, DAY)
        );
    }

    function packedSpec() external view returns (bytes memory) {
        return packed(spec());
    }

    function signedTransfer(address to, uint256 value, uint48 claimedTime)
        external
        view
        returns (PackedUserOperation memory)
    {
        return signAt(transferOp(to, value), spec(), claimedTime);
    }

    function signedTransferFrom(address sender, address to, uint256 value, uint48 claimedTime)
        external
        view
        returns (PackedUserOperation memory)
    {
        return signAt(buildUserOp(sender, address(sessions), singleCall(to, value, "")), spec(), claimedTime);
    }

    function signedTokenTransfer(uint256 amount, uint48 claimedTime)
        external
        view
        returns (PackedUserOperation memory)
    {
        return signAt(tokenOp(recipient, amount), spec(), claimedTime);
    }

    /// @dev Each action does what the invariants rely on and is counted: honest ops land (also at the first
    /// second of an hour), lies and replays do not, the other account's spending stays its own, a revoked session
    /// comes back with fresh counters, and the session ends at its expiry.
    function test_handlerIsNotVacuous() public {
        handler.useExactArguments();
        handler.transfer(false, 2); // 0.5 ether at the true time
        handler.lie(false, 0); // claims an hour later
        handler.lie(true, 1); // claims an hour earlier
        handler.otherTransfer(4); // 1 ether from the other account's copy
        handler.replayOnOther(false, 1);
        vm.assertEq(handler.spends(), 1);
        vm.assertEq(handler.refusedLies(), 2);
        vm.assertEq(handler.otherSpends(), 1);
        vm.assertEq(handler.refusedReplays(), 1);
        vm.assertEq(sessions.sessionState(address(account), packed(spec())).transferValueRemaining[0], 1.5 ether);

        handler.warp(1); // to the first second of the next hour
        vm.assertEq(vm.getBlockTimestamp() % 1 hours, 0);
        handler.transfer(false, 4); // 1 ether in a new period: a rollover of the fee and the transfer allowance
        vm.assertEq(handler.boundarySpends(), 1);
        vm.assertEq(handler.rollovers(), 2);
        vm.assertEq(sessions.sessionState(address(account), packed(spec())).transferValueRemaining[0], 1 ether);

        handler.revoke(false);
        handler.transfer(false, 1);
        handler.recreate(); // revoke-all, then created again with fresh counters
        vm.assertEq(handler.revocations(), 2);
        vm.assertEq(handler.creations(), 1);
        vm.assertEq(sessions.sessionState(address(account), packed(spec())).transferValueRemaining[1], 3 ether);
        handler.transfer(true, 4);
        vm.assertEq(handler.spends(), 3);

        for (uint256 i = 0; i < 7; ++i) {
            handler.warp(10_792); // a multiple of 8: a long step of 1 + 3 hours - 8 s
        }
        vm.assertGt(vm.getBlockTimestamp(), spec().expiresAt);
        handler.transfer(false, 1);
        handler.recreate(); // nothing to do: active
        handler.revoke(true);
        handler.recreate(); // too late: the spec has expired
        vm.assertEq(handler.spends(), 3);
        vm.assertEq(handler.creations(), 1);
        vm.assertEq(handler.violations(), 0);
        vm.assertEq(handler.honestRefused(), 0);
        vm.assertEq(handler.unexpectedFailures(), 0);
    }

    /// @dev Every run must have exercised each kind of action: one in which every call reverted (or in which
    /// nothing was ever accepted, rolled over, revoked or created again) proves nothing and fails.
    function afterInvariant() public view {
        vm.assertGt(handler.spends(), 0, "no session userOp accepted");
        vm.assertGt(handler.rollovers(), 0, "no period rollover");
        vm.assertGt(handler.revocations(), 0, "no revocation");
        vm.assertGt(handler.creations(), 0, "no session created again");
        vm.assertGt(handler.otherSpends(), 0, "no userOp of the other account accepted");
        vm.assertGt(handler.refusedLies(), 0, "no lie refused");
        vm.assertGt(handler.refusedReplays(), 0, "no replay refused");
    }

    function invariant_spentNeverExceedsLimits() public view {
        vm.assertLe(handler.currentTransferSpent(), 2 ether);
        vm.assertLe(handler.lifetimeSpent(), 3 ether);
        vm.assertLe(handler.currentTokenSpent(), 50 ether);
        vm.assertLe(handler.currentFeeSpent(), feeLimit);
    }

    function invariant_remainingMatchesTheLedger() public view {
        ISessionKeyValidator.SessionState memory s = sessions.sessionState(address(account), packed(spec()));
        vm.assertEq(s.transferValueRemaining[0], 2 ether - handler.currentTransferSpent());
        vm.assertEq(s.transferValueRemaining[1], 3 ether - handler.lifetimeSpent());
        vm.assertEq(s.callPolicies[0].constraintRemaining[1], 50 ether - handler.currentTokenSpent());
        vm.assertEq(s.feeRemaining, feeLimit - handler.currentFeeSpent());
    }

    function invariant_revokedOrExpiredNeverValidates() public view {
        vm.assertEq(handler.violations(), 0);
        ISessionKeyValidator.Status status = sessions.sessionStatus(address(account), keccak256(packed(spec())));
        if (!handler.active()) vm.assertEq(uint256(status), uint256(ISessionKeyValidator.Status.Revoked));
        else vm.assertEq(uint256(status), uint256(ISessionKeyValidator.Status.Active));
        ISessionKeyValidator.Status full = sessions.sessionState(address(account), packed(spec())).status;
        if (!handler.active()) {
            vm.assertEq(uint256(full), uint256(ISessionKeyValidator.Status.Revoked));
        } else if (vm.getBlockTimestamp() > spec().expiresAt) {
            vm.assertEq(uint256(full), uint256(ISessionKeyValidator.Status.Expired));
        } else {
            vm.assertEq(uint256(full), uint256(ISessionKeyValidator.Status.Active));
        }
    }

    /// @dev An honest op the ledger allows always lands, and a revocation or re-creation that must work works.
    function invariant_honestOpsAndManagementSucceed() public view {
        vm.assertEq(handler.honestRefused(), 0, "honest op refused");
        vm.assertEq(handler.unexpectedFailures(), 0, "revocation or creation failed");
    }
}
// forge-lint: disable-end(block-timestamp, unsafe-typecast)
