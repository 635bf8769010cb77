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

/// @notice Drives one session through random transfers, token transfers, time jumps, lies about the time and
/// revocations, validating as the account would (a userOp outside its validity window is undone, as the
/// EntryPoint reverts the bundle), and keeps a ghost ledger of what was accepted per period.
contract SessionHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    uint256 internal constant TRANSFER_LIMIT = 2 ether; // allowance per hour to `allowanceRecipient`
    uint256 internal constant LIFETIME_LIMIT = 3 ether; // lifetime to `lifetimeRecipient`
    uint256 internal constant TOKEN_LIMIT = 50 ether; // allowance per day on the token amount

    ISessionOps internal immutable ops;
    SessionKeyValidator internal immutable sessions;
    IEntryPointV08 internal immutable entryPoint;
    address internal immutable account;
    /// @dev Another account with the same session (same spec, same key): its use must not touch ours.
    address internal immutable other;
    address public immutable allowanceRecipient;
    address public immutable lifetimeRecipient;

    // Ghost ledger.
    uint256 public transferPeriod;
    uint256 public transferSpent;
    uint256 public lifetimeSpent;
    uint256 public tokenPeriod;
    uint256 public tokenSpent;
    uint256 public feePeriod;
    uint256 public feeSpent;
    uint256 public feeLimit;
    bool public revoked;
    uint256 public violations;
    uint256 public accepted;
    uint256 public otherAccepted;

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
    }

    // ------------------------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------------------------

    function transfer(bool toLifetime, uint256 value, uint256 lie) external {
        value = (value % 6) * 0.25 ether; // coarse steps reach the limits; 1.25 ether > maxValuePerUse
        address to = toLifetime ? lifetimeRecipient : allowanceRecipient;
        _submit(ops.signedTransfer(to, value, _claimedTime(lie)), toLifetime ? 1 : 0, value);
    }

    function tokenTransfer(uint256 amount, uint256 lie) external {
        amount = (amount % 5) * 6 ether; // 24 ether breaks the LessOrEqual 20 ether constraint
        _submit(ops.signedTokenTransfer(amount, _claimedTime(lie)), 2, amount);
    }

    /// @dev The other account spends from its own copy of the session (not booked in our ledger).
    function otherTransfer(uint256 value) external {
        value = (value % 5) * 0.25 ether;
        try this.validateNow(
            other, ops.signedTransferFrom(other, allowanceRecipient, value, uint48(vm.getBlockTimestamp()))
        ) {
            ++otherAccepted;
        } catch {}
    }

    /// @dev Our signed userOp replayed as the other account's (same session id there): never valid.
    function replayOnOther(bool toLifetime, uint256 value) external {
        value = (value % 5) * 0.25 ether;
        PackedUserOperation memory op = ops.signedTransfer(
            toLifetime ? lifetimeRecipient : allowanceRecipient, value, uint48(vm.getBlockTimestamp())
        );
        op.sender = other;
        op.nonce = entryPoint.getNonce(other, uint192(uint160(address(sessions))) << 32);
        try this.validateNow(other, op) {
            ++violations;
        } catch {}
    }

    /// @dev Mostly short steps (several per period), sometimes hours (towards and past the expiry).
    function warp(uint256 seconds_) external {
        vm.warp(vm.getBlockTimestamp() + (seconds_ % 8 == 0 ? seconds_ % 12 hours : seconds_ % 40 minutes));
    }

    function revoke(uint256 seed) external {
        if (revoked || seed % 32 != 0) return;
        bytes32 id = keccak256(ops.packedSpec());
        vm.prank(account);
        sessions.revokeSession(id);
        revoked = true;
    }

    // ------------------------------------------------------------------------------------------------------
    // Validation as the account and the EntryPoint see it
    // ------------------------------------------------------------------------------------------------------

    /// @dev Mostly the true time; sometimes a claim from another hour or day.
    function _claimedTime(uint256 lie) internal view returns (uint48) {
        if (lie % 4 != 0) return uint48(vm.getBlockTimestamp());
        int256 shift = int256(lie % 2 days) - 1 days;
        return uint48(uint256(int256(vm.getBlockTimestamp()) + shift));
    }

    /// @dev Validates and reverts (undoing the counters) unless the userOp is valid now, like handleOps.
    function validateNow(address sender, PackedUserOperation calldata op) external returns (uint256 validationData) {
        require(msg.sender == address(this));
        bytes32 hash = entryPoint.getUserOpHash(op);
        vm.prank(sender);
        validationData = sessions.validateUserOp(op, hash);
        uint256 validUntil = uint48(validationData >> 160);
        uint256 validAfter = uint48(validationData >> 208);
        require(validationData & 1 == 0, "signature");
        require(validAfter <= vm.getBlockTimestamp() && vm.getBlockTimestamp() <= validUntil, "out of window");
    }

    function _submit(PackedUserOperation memory op, uint256 kind, uint256 amount) internal {
        try this.validateNow(account, op) {
            ++accepted;
            if (revoked || vm.getBlockTimestamp() > ops.spec().expiresAt) ++violations;
            _book(kind, amount, _fee(op));
        } catch {}
    }

    function _fee(PackedUserOperation memory op) internal pure returns (uint256) {
        uint256 limits = uint256(op.accountGasLimits);
        return
            uint256(uint128(uint256(op.gasFees))) * ((limits >> 128) + uint256(uint128(limits)) + op.preVerificationGas);
    }

    function _book(uint256 kind, uint256 amount, uint256 fee) internal {
        if (vm.getBlockTimestamp() / 1 hours != feePeriod) {
            (feePeriod, feeSpent) = (vm.getBlockTimestamp() / 1 hours, 0);
        }
        feeSpent += fee;
        if (kind == 0) {
            if (vm.getBlockTimestamp() / 1 hours != transferPeriod) {
                (transferPeriod, transferSpent) = (vm.getBlockTimestamp() / 1 hours, 0);
            }
            transferSpent += amount;
        } else if (kind == 1) {
            lifetimeSpent += amount;
        } else {
            if (vm.getBlockTimestamp() / 1 days != tokenPeriod) {
                (tokenPeriod, tokenSpent) = (vm.getBlockTimestamp() / 1 days, 0);
            }
            tokenSpent += amount;
        }
    }

    /// @dev What the ledger says is spent in the current period (0 once the period is over).
    function currentTransferSpent() external view returns (uint256) {
        return vm.getBlockTimestamp() / 1 hours == transferPeriod ? transferSpent : 0;
    }

    function currentTokenSpent() external view returns (uint256) {
        return vm.getBlockTimestamp() / 1 days == tokenPeriod ? tokenSpent : 0;
    }

    function currentFeeSpent() external view returns (uint256) {
        return vm.getBlockTimestamp() / 1 hours == feePeriod ? feeSpent : 0;
    }
}

/// @notice Across random sequences of calls, time jumps (period rollovers), lies about the time (an older or newer
/// period validates only within that period's window, which the EntryPoint rejects), revocations and uses of the
/// same session by another account: the sum spent never exceeds any limit, the on-chain remaining amounts match
/// the ledger, a revoked or expired session never validates, and nothing crosses accounts.
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 48
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
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = SessionHandler.transfer.selector;
        selectors[1] = SessionHandler.tokenTransfer.selector;
        selectors[2] = SessionHandler.warp.selector;
        selectors[3] = SessionHandler.revoke.selector;
        selectors[4] = SessionHandler.otherTransfer.selector;
        selectors[5] = SessionHandler.replayOnOther.selector;
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

    /// @dev The handler's actions do what the invariants rely on: true-time ops land, lies and replays do not, the
    /// other account's spending stays its own, and the session ends at its expiry.
    function test_handlerIsNotVacuous() public {
        handler.transfer(false, 2, 1); // 0.5 ether at the true time
        handler.transfer(false, 2, 0); // claims yesterday: outside the window
        handler.otherTransfer(4); // 1 ether from the other account's copy
        handler.replayOnOther(false, 1);
        vm.assertEq(handler.accepted(), 1);
        vm.assertEq(handler.otherAccepted(), 1);
        vm.assertEq(handler.violations(), 0);
        vm.assertEq(sessions.sessionState(address(account), packed(spec())).transferValueRemaining[0], 1.5 ether);
        for (uint256 i = 0; i < 3; ++i) {
            handler.warp(43_192); // a multiple of 8: a long step of ~12 hours
        }
        vm.assertGt(vm.getBlockTimestamp(), spec().expiresAt);
        handler.transfer(false, 1, 1);
        handler.transfer(false, 1, 2);
        vm.assertEq(handler.accepted(), 1);
        vm.assertEq(uint256(sessions.sessionState(address(account), packed(spec())).status), 2); // Expired
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
        if (handler.revoked()) vm.assertEq(uint256(status), uint256(ISessionKeyValidator.Status.Revoked));
        else vm.assertEq(uint256(status), uint256(ISessionKeyValidator.Status.Active));
        ISessionKeyValidator.Status full = sessions.sessionState(address(account), packed(spec())).status;
        if (handler.revoked()) {
            vm.assertEq(uint256(full), uint256(ISessionKeyValidator.Status.Revoked));
        } else if (vm.getBlockTimestamp() > spec().expiresAt) {
            vm.assertEq(uint256(full), uint256(ISessionKeyValidator.Status.Expired));
        } else {
            vm.assertEq(uint256(full), uint256(ISessionKeyValidator.Status.Active));
        }
    }
}
// forge-lint: disable-end(block-timestamp, unsafe-typecast)
