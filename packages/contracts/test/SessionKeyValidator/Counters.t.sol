// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {MockTarget} from "../mocks/Mocks.sol";
import {SessionTest} from "./SessionTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

// Tests drive time on purpose.
// forge-lint: disable-start(block-timestamp)

/// @notice A session with five limited amounts besides the fee: every limit is enforced on its own. Counters as wide as
/// their limits need: the fee (64 bits), counter 1 (64) and counter 2 (32 + a 24-bit period tag) in the session
/// slot; counter 3 (80: 50 ether is over 2^64) does not fit there and starts extra slot 1, with counters 4 (64 + 24)
/// and 5 (64).
contract SessionCountersTest is SessionTest {
    address internal constant OTHER = address(0xbeef);

    uint256 internal fee;
    uint256 internal feesPaid;
    uint48 internal createdAt;

    function setUp() public override {
        super.setUp();
        createdAt = uint48(vm.getBlockTimestamp());
        fee = feeOf(transferOp(recipient, 0));
        create(_spec());
    }

    function _spec() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = baseSpec();
        spec.expiresAt = createdAt + 7 * DAY;
        // Counter 1: the value of `hit` calls; counter 2: the sum of their argument (at most 1000 each).
        uint256 p = addCall(spec, address(target), MockTarget.hit.selector, 1 ether, lifetime(1 ether));
        addConstraint(
            spec, p, ISessionKeyValidator.Condition.LessOrEqual, 0, bytes32(uint256(1000)), allowance(100, DAY)
        );
        // Counter 3: the token amount (the recipient pinned, not counted).
        p = addCall(spec, address(token), IERC20.transfer.selector, 0, unlimited());
        addConstraint(
            spec, p, ISessionKeyValidator.Condition.Equal, 0, bytes32(uint256(uint160(recipient))), unlimited()
        );
        addConstraint(spec, p, ISessionKeyValidator.Condition.Unconstrained, 1, bytes32(0), lifetime(50 ether));
        // Counters 4 and 5: plain transfers.
        addTransfer(spec, recipient, 1 ether, allowance(2 ether, 1 hours));
        addTransfer(spec, OTHER, 1 ether, lifetime(3 ether));
    }

    function _hitOp(uint256 value, uint256 arg) internal view returns (PackedUserOperation memory) {
        return sessionOp(singleCall(address(target), value, abi.encodeCall(MockTarget.hit, (arg))));
    }

    function _ok(PackedUserOperation memory op) internal {
        vm.assertEq(validate(sign(op, _spec())) & 1, 0);
        feesPaid += fee;
    }

    function _refused(PackedUserOperation memory op, bytes memory err) internal {
        PackedUserOperation memory signed = sign(op, _spec());
        bytes32 hash = ENTRYPOINT.getUserOpHash(signed);
        vm.prank(address(account));
        vm.expectRevert(err);
        sessions.validateUserOp(signed, hash);
    }

    /// @dev Remaining: [hit value, hit argument, token amount, recipient transfers, OTHER transfers].
    function _assertRemaining(uint256[5] memory expected) internal view {
        ISessionKeyValidator.SessionState memory s = state(_spec());
        vm.assertEq(uint256(s.status), uint256(ISessionKeyValidator.Status.Active));
        vm.assertEq(s.callPolicies[0].valueRemaining, expected[0], "hit value");
        vm.assertEq(s.callPolicies[0].constraintRemaining[0], expected[1], "hit argument");
        vm.assertEq(s.callPolicies[1].valueRemaining, type(uint256).max, "token value (unlimited)");
        vm.assertEq(s.callPolicies[1].constraintRemaining[0], type(uint256).max, "token recipient (unlimited)");
        vm.assertEq(s.callPolicies[1].constraintRemaining[1], expected[2], "token amount");
        vm.assertEq(s.transferValueRemaining[0], expected[3], "recipient transfers");
        vm.assertEq(s.transferValueRemaining[1], expected[4], "OTHER transfers");
        vm.assertEq(s.feeRemaining, 1 ether - feesPaid, "fee");
    }

    function test_eachLimitIsIndependent() public {
        _assertRemaining([uint256(1 ether), 100, 50 ether, 2 ether, 3 ether]);

        // Counter 1 (session slot).
        _ok(_hitOp(1 ether, 0));
        _assertRemaining([uint256(0), 100, 50 ether, 2 ether, 3 ether]);
        _refused(
            _hitOp(1, 0),
            abi.encodeWithSelector(
                ISessionKeyValidator.CallValueLimitExceeded.selector, address(target), MockTarget.hit.selector, 1, 0
            )
        );

        // Counter 2 (session slot); a zero-value call leaves counter 1 alone.
        _ok(_hitOp(0, 60));
        _ok(_hitOp(0, 40));
        _assertRemaining([uint256(0), 0, 50 ether, 2 ether, 3 ether]);
        _refused(
            _hitOp(0, 1),
            abi.encodeWithSelector(
                ISessionKeyValidator.ConstraintLimitExceeded.selector, address(target), MockTarget.hit.selector, 0, 1, 0
            )
        );

        // Counter 3 (extra slot 1, bits 0-79).
        _ok(tokenOp(recipient, 50 ether));
        _assertRemaining([uint256(0), 0, 0, 2 ether, 3 ether]);
        _refused(
            tokenOp(recipient, 1),
            abi.encodeWithSelector(
                ISessionKeyValidator.ConstraintLimitExceeded.selector, address(token), IERC20.transfer.selector, 1, 1, 0
            )
        );

        // Counter 4 (extra slot 1, bits 80-167).
        _ok(transferOp(recipient, 1 ether));
        _ok(transferOp(recipient, 1 ether));
        _assertRemaining([uint256(0), 0, 0, 0, 3 ether]);
        _refused(
            transferOp(recipient, 1),
            abi.encodeWithSelector(ISessionKeyValidator.TransferValueLimitExceeded.selector, recipient, 1, 0)
        );

        // Counter 5 (extra slot 1, bits 168-231).
        _ok(transferOp(OTHER, 1 ether));
        _ok(transferOp(OTHER, 1 ether));
        _assertRemaining([uint256(0), 0, 0, 0, 1 ether]);
        _refused(
            transferOp(OTHER, 1 ether + 1),
            abi.encodeWithSelector(
                ISessionKeyValidator.TransferValuePerUseExceeded.selector, OTHER, 1 ether + 1, 1 ether
            )
        );
        _ok(transferOp(OTHER, 1 ether));
        _refused(
            transferOp(OTHER, 1),
            abi.encodeWithSelector(ISessionKeyValidator.TransferValueLimitExceeded.selector, OTHER, 1, 0)
        );
        _assertRemaining([uint256(0), 0, 0, 0, 0]);

        // An hour later only the hourly allowance is back; a day later the daily one too.
        vm.warp(vm.getBlockTimestamp() + 1 hours);
        _assertRemaining([uint256(0), 0, 0, 2 ether, 0]);
        _ok(transferOp(recipient, 0.5 ether));
        vm.warp(vm.getBlockTimestamp() + DAY);
        _assertRemaining([uint256(0), 100, 0, 2 ether, 0]);
        _ok(_hitOp(0, 30));
        _assertRemaining([uint256(0), 70, 0, 2 ether, 0]);
    }

    /// @dev One batch touching every counter: each is counted once, in its own place.
    function test_batchCountsEveryLimit() public {
        Execution[] memory calls = new Execution[](5);
        calls[0] = Execution(address(target), 0.25 ether, abi.encodeCall(MockTarget.hit, (10)));
        calls[1] = Execution(address(token), 0, abi.encodeCall(IERC20.transfer, (recipient, 5 ether)));
        calls[2] = Execution(recipient, 0.5 ether, "");
        calls[3] = Execution(OTHER, 0.75 ether, "");
        calls[4] = Execution(address(target), 0.25 ether, abi.encodeCall(MockTarget.hit, (20)));
        _ok(sessionOp(batchCall(calls)));
        _assertRemaining([uint256(0.5 ether), 70, 45 ether, 1.5 ether, 2.25 ether]);
    }

    /// @dev The fee and counters 1 and 2 share the session slot; counters 3 to 5 share one extra slot.
    function test_storageWritesPerOp() public {
        vm.record();
        _ok(transferOp(recipient, 1));
        (, bytes32[] memory writes) = vm.accesses(address(sessions));
        vm.assertEq(_unique(writes), 2, "session slot (the fee) + the extra slot (counter 4)");

        vm.record();
        _ok(_hitOp(1, 0));
        (, writes) = vm.accesses(address(sessions));
        vm.assertEq(_unique(writes), 1, "counter 1 lives in the session slot");

        Execution[] memory calls = new Execution[](3);
        calls[0] = Execution(address(target), 1, abi.encodeCall(MockTarget.hit, (1)));
        calls[1] = Execution(address(token), 0, abi.encodeCall(IERC20.transfer, (recipient, 1)));
        calls[2] = Execution(OTHER, 1, "");
        vm.record();
        _ok(sessionOp(batchCall(calls)));
        (, writes) = vm.accesses(address(sessions));
        vm.assertEq(_unique(writes), 2, "session slot (counters 1 and 2) + the extra slot (counters 3 and 5)");
    }

    /// @dev Limits at the widest (2^104 - 1, daily allowances: 128 bits each) and the largest fee limit (2^80 - 1, a
    /// daily allowance: 104 bits): one counter fits the session slot beside the fee, two per extra slot after it.
    /// Every counter keeps its own amount.
    function test_widestCountersSpillIntoExtraSlots() public {
        uint256 max = (uint256(1) << 104) - 1;
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.feeLimit = allowance((uint256(1) << 80) - 1, DAY);
        address[4] memory targets = [recipient, OTHER, address(0xcafe), address(0xf00d)];
        for (uint256 i = 0; i < 4; ++i) {
            addTransfer(spec, targets[i], max, allowance(max, DAY));
        }
        create(spec);
        Execution[] memory calls = new Execution[](4);
        for (uint256 i = 0; i < 4; ++i) {
            calls[i] = Execution(targets[i], (i + 1) * 1 ether, "");
        }
        vm.record();
        vm.assertEq(validate(sign(sessionOp(batchCall(calls)), spec)) & 1, 0);
        (, bytes32[] memory writes) = vm.accesses(address(sessions));
        vm.assertEq(_unique(writes), 3, "session slot (counter 1) + extra slots 1 (counters 2, 3) and 2 (counter 4)");
        vm.assertEq(validate(sign(transferOp(targets[2], max - 3 ether), spec)) & 1, 0);
        ISessionKeyValidator.SessionState memory s = state(spec);
        for (uint256 i = 0; i < 4; ++i) {
            vm.assertEq(s.transferValueRemaining[i], i == 2 ? 0 : max - (i + 1) * 1 ether, "each counter on its own");
        }
    }

    function _unique(bytes32[] memory slots) internal pure returns (uint256 n) {
        for (uint256 i = 0; i < slots.length; ++i) {
            bool seen;
            for (uint256 j = 0; j < i; ++j) {
                if (slots[j] == slots[i]) seen = true;
            }
            if (!seen) ++n;
        }
    }

    function test_revokeAllThenRecreateStartsClean() public {
        Execution[] memory calls = new Execution[](4);
        calls[0] = Execution(address(target), 1 ether, abi.encodeCall(MockTarget.hit, (100)));
        calls[1] = Execution(address(token), 0, abi.encodeCall(IERC20.transfer, (recipient, 50 ether)));
        calls[2] = Execution(recipient, 1 ether, "");
        calls[3] = Execution(OTHER, 1 ether, "");
        _ok(sessionOp(batchCall(calls)));
        _assertRemaining([uint256(0), 0, 0, 1 ether, 2 ether]);

        vm.prank(address(account));
        sessions.revokeAllSessions();
        vm.assertEq(uint256(state(_spec()).status), uint256(ISessionKeyValidator.Status.Revoked));
        _refused(
            transferOp(recipient, 1),
            abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, idOf(_spec()))
        );

        vm.assertEq(create(_spec()), idOf(_spec()));
        feesPaid = 0;
        _assertRemaining([uint256(1 ether), 100, 50 ether, 2 ether, 3 ether]);
        // The whole budget is available again, and only that.
        _ok(sessionOp(batchCall(calls)));
        _assertRemaining([uint256(0), 0, 0, 1 ether, 2 ether]);
        _refused(
            _hitOp(0, 1),
            abi.encodeWithSelector(
                ISessionKeyValidator.ConstraintLimitExceeded.selector, address(target), MockTarget.hit.selector, 0, 1, 0
            )
        );
    }

    /// @dev An Unlimited transfer policy counts nothing, and in particular not the next policy's counter.
    function test_unlimitedTransferBeforeALimitedOne() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, 5 ether, unlimited());
        addTransfer(spec, OTHER, 1 ether, lifetime(1 ether));
        create(spec);
        validate(sign(transferOp(OTHER, 0.5 ether), spec));
        validate(sign(transferOp(recipient, 5 ether), spec));
        validate(sign(transferOp(recipient, 5 ether), spec));
        ISessionKeyValidator.SessionState memory s = state(spec);
        vm.assertEq(s.transferValueRemaining[0], type(uint256).max);
        vm.assertEq(s.transferValueRemaining[1], 0.5 ether);
        validate(sign(transferOp(OTHER, 0.5 ether), spec));
        vm.assertEq(state(spec).transferValueRemaining[1], 0);
    }
}
// forge-lint: disable-end(block-timestamp)
