// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {AllowanceExecutor} from "../../src/modules/AllowanceExecutor.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {Vm} from "../utils/Test.sol";

// The handler drives time on purpose.
// forge-lint: disable-start(block-timestamp)

/// @notice Drives one allowance through random pulls (honest and greedy), time jumps, re-grants and
/// uninstall / re-install, keeping a ghost ledger of what left the account per period.
contract AllowanceHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    uint256 public constant PERIOD = 1 days;

    AllowanceExecutor internal immutable executor;
    SsoAccount internal immutable account;
    address public immutable dapp;
    address public immutable recipient;

    uint256 public amount = 1 ether;
    uint256 public start;
    uint256 public periodStart;
    uint256 public spentInPeriod;
    bool public live = true;
    /// @dev What must never happen: a pull over the ledger that succeeded, a pull within it that failed.
    uint256 public overPaid;
    uint256 public wrongRefusals;
    uint256 public pulls;

    constructor(AllowanceExecutor executor_, SsoAccount account_, address dapp_, address recipient_) {
        executor = executor_;
        account = account_;
        dapp = dapp_;
        recipient = recipient_;
        start = block.timestamp;
        periodStart = block.timestamp;
    }

    function _roll() internal {
        if (block.timestamp >= periodStart + PERIOD) {
            periodStart += ((block.timestamp - periodStart) / PERIOD) * PERIOD;
            spentInPeriod = 0;
        }
    }

    function pull(uint256 want) external {
        want = want % (amount + amount / 2) + 1;
        _roll();
        bool within = live && spentInPeriod + want <= amount;
        uint256 before = recipient.balance;
        vm.prank(dapp);
        try executor.pull(address(account), address(0), recipient, want) {
            if (!within) ++overPaid;
            spentInPeriod += want;
            ++pulls;
            if (recipient.balance != before + want) ++overPaid;
        } catch {
            if (within) ++wrongRefusals;
        }
    }

    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + (seconds_ % (3 * PERIOD)));
    }

    function regrant(uint256 newAmount) external {
        if (!live) return;
        amount = newAmount % 2 ether + 1;
        vm.prank(address(account));
        executor.setAllowance(dapp, address(0), amount, PERIOD);
        periodStart = block.timestamp;
        spentInPeriod = 0;
    }

    function toggleInstall() external {
        vm.startPrank(address(account));
        if (live) {
            account.uninstallModule(2, address(executor), "");
        } else {
            amount = 1 ether;
            account.installModule(2, address(executor), abi.encode(dapp, address(0), amount, PERIOD));
            periodStart = block.timestamp;
            spentInPeriod = 0;
        }
        vm.stopPrank();
        live = !live;
    }
}

contract AllowanceExecutorInvariantTest is SsoTest {
    AllowanceHandler internal handler;
    AllowanceExecutor internal executor;

    function setUp() public override {
        super.setUp();
        SsoAccount account = createAccount(makePasskey("alice"));
        vm.deal(address(account), 1_000_000 ether);
        executor = new AllowanceExecutor();
        address dapp = makeAddr("dapp");
        handler = new AllowanceHandler(executor, account, dapp, makeAddr("recipient"));
        vm.prank(address(account));
        account.installModule(2, address(executor), abi.encode(dapp, address(0), 1 ether, 1 days));
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev No pull ever succeeds over what is left in its period, and none within it is refused.
    function invariant_pullsStayWithinTheAllowance() public view {
        vm.assertEq(handler.overPaid(), 0);
        vm.assertEq(handler.wrongRefusals(), 0);
        vm.assertLe(handler.spentInPeriod(), handler.amount());
    }
}
// forge-lint: disable-end(block-timestamp)
