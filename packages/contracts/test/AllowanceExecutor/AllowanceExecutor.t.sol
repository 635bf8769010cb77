// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {AllowanceExecutor} from "../../src/modules/AllowanceExecutor.sol";
import {MockERC20} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {ERC7579Utils} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @dev An ERC-20 whose `transfer` returns false instead of reverting.
contract FalseToken {
    function transfer(address, uint256) external pure returns (bool) {
        return false;
    }
}

contract AllowanceExecutorTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    AllowanceExecutor internal executor;
    MockERC20 internal token;
    address internal dapp = makeAddr("dapp");
    address internal shop = makeAddr("shop");
    address internal constant ETH = address(0);
    uint256 internal constant T0 = 1_000_000;

    event AllowanceSet(
        address indexed account, address indexed spender, address indexed token, uint256 amount, uint256 period
    );
    event AllowancePulled(
        address indexed account, address indexed spender, address indexed token, address to, uint256 amount
    );
    event AllowancesCleared(address indexed account);

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
        executor = new AllowanceExecutor();
        token = new MockERC20();
        token.mint(address(account), 1000 ether);
    }

    function install(bytes memory data) internal {
        vm.prank(address(account));
        account.installModule(2, address(executor), data);
    }

    function grant(address token_, uint256 amount, uint256 period) internal {
        vm.prank(address(account));
        executor.setAllowance(dapp, token_, amount, period);
    }

    // ---------------------------------------------------------------------------------------------------------

    function test_isAnExecutorOnly() public view {
        vm.assertTrue(executor.isModuleType(2));
        vm.assertFalse(executor.isModuleType(1));
        vm.assertFalse(executor.isModuleType(3));
    }

    /// @dev Install and grant in one userOp the passkey signed, then the dapp pulls ETH.
    function test_installWithAllowance_throughAUserOp_thenPullEth() public {
        PackedUserOperation memory op = buildUserOp(
            address(account),
            address(validator),
            abi.encodeCall(
                SsoAccount.installModule, (2, address(executor), abi.encode(dapp, ETH, 1 ether, uint256(1 days)))
            )
        );
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        vm.expectEmit(address(executor));
        emit AllowanceSet(address(account), dapp, ETH, 1 ether, 1 days);
        handleOp(op);
        vm.assertTrue(account.isModuleInstalled(2, address(executor), ""));

        vm.expectEmit(address(executor));
        emit AllowancePulled(address(account), dapp, ETH, shop, 0.4 ether);
        vm.prank(dapp);
        executor.pull(address(account), ETH, shop, 0.4 ether);
        vm.assertEq(shop.balance, 0.4 ether);
        (uint256 amount, uint256 period, uint256 spent, uint256 available, uint256 resetsAt) =
            executor.allowance(address(account), dapp, ETH);
        vm.assertEq(amount, 1 ether);
        vm.assertEq(period, 1 days);
        vm.assertEq(spent, 0.4 ether);
        vm.assertEq(available, 0.6 ether);
        vm.assertEq(resetsAt, block.timestamp + 1 days);
    }

    function test_pullErc20() public {
        install(abi.encode(dapp, address(token), 50 ether, uint256(0)));
        vm.prank(dapp);
        executor.pull(address(account), address(token), shop, 20 ether);
        vm.assertEq(token.balanceOf(shop), 20 ether);
        vm.assertEq(token.balanceOf(address(account)), 980 ether);
    }

    function test_pullOverTheLimit_reverts() public {
        install(abi.encode(dapp, ETH, 1 ether, uint256(1 days)));
        vm.prank(dapp);
        executor.pull(address(account), ETH, shop, 0.7 ether);
        vm.prank(dapp);
        vm.expectRevert(
            abi.encodeWithSelector(
                AllowanceExecutor.AllowanceExceeded.selector, address(account), dapp, ETH, 0.5 ether, 0.3 ether
            )
        );
        executor.pull(address(account), ETH, shop, 0.5 ether);
        vm.assertEq(shop.balance, 0.7 ether);
    }

    function test_periodResets() public {
        // A constant: with via-IR, `block.timestamp` read before a warp may be read again after it.
        uint256 start = T0;
        vm.warp(start);
        install(abi.encode(dapp, ETH, 1 ether, uint256(1 days)));
        vm.prank(dapp);
        executor.pull(address(account), ETH, shop, 1 ether);
        vm.warp(start + 1 days - 1);
        vm.prank(dapp);
        vm.expectRevert(
            abi.encodeWithSelector(AllowanceExecutor.AllowanceExceeded.selector, address(account), dapp, ETH, 1, 0)
        );
        executor.pull(address(account), ETH, shop, 1);
        // Periods stay aligned on the moment of the grant: 2.5 days later the third period runs.
        vm.warp(start + 2 days + 12 hours);
        (,, uint256 spent, uint256 available, uint256 resetsAt) = executor.allowance(address(account), dapp, ETH);
        vm.assertEq(spent, 0);
        vm.assertEq(available, 1 ether);
        vm.assertEq(resetsAt, start + 3 days);
        vm.prank(dapp);
        executor.pull(address(account), ETH, shop, 1 ether);
        vm.assertEq(shop.balance, 2 ether);
    }

    function test_oneTimeAllowanceNeverRenews() public {
        install(abi.encode(dapp, ETH, 1 ether, uint256(0)));
        vm.prank(dapp);
        executor.pull(address(account), ETH, shop, 1 ether);
        vm.warp(block.timestamp + 3650 days);
        (,,, uint256 available, uint256 resetsAt) = executor.allowance(address(account), dapp, ETH);
        vm.assertEq(available, 0);
        vm.assertEq(resetsAt, 0);
    }

    function test_strangersAndOtherTokensHaveNoAllowance() public {
        install(abi.encode(dapp, ETH, 1 ether, uint256(0)));
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.NoAllowance.selector, address(account), shop, ETH));
        executor.pull(address(account), ETH, shop, 1);
        vm.prank(dapp);
        vm.expectRevert(
            abi.encodeWithSelector(AllowanceExecutor.NoAllowance.selector, address(account), dapp, address(token))
        );
        executor.pull(address(account), address(token), shop, 1);
    }

    function test_setAllowance_onlyWhileInstalled() public {
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.NotInstalled.selector, address(account)));
        executor.setAllowance(dapp, ETH, 1 ether, 0);
        // A stranger's "own" allowance is keyed by the stranger: it can't reach the account.
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.NotInstalled.selector, shop));
        executor.setAllowance(dapp, ETH, 1 ether, 0);
    }

    function test_setAllowance_replacesAndRestarts() public {
        install(abi.encode(dapp, ETH, 1 ether, uint256(1 days)));
        vm.prank(dapp);
        executor.pull(address(account), ETH, shop, 1 ether);
        grant(ETH, 2 ether, 7 days);
        (uint256 amount, uint256 period, uint256 spent,,) = executor.allowance(address(account), dapp, ETH);
        vm.assertEq(amount, 2 ether);
        vm.assertEq(period, 7 days);
        vm.assertEq(spent, 0);
    }

    function test_invalidAllowances_revert() public {
        install("");
        vm.startPrank(address(account));
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.InvalidAllowance.selector, address(0), 1, 0));
        executor.setAllowance(address(0), ETH, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.InvalidAllowance.selector, dapp, 0, 0));
        executor.setAllowance(dapp, ETH, 0, 0);
        uint256 tooLong = executor.MAX_PERIOD() + 1;
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.InvalidAllowance.selector, dapp, 1, tooLong));
        executor.setAllowance(dapp, ETH, 1, tooLong);
        vm.stopPrank();
        vm.prank(dapp);
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.InvalidPull.selector, address(0), 1));
        executor.pull(address(account), ETH, address(0), 1);
    }

    function test_revokeAllowance() public {
        install(abi.encode(dapp, ETH, 1 ether, uint256(0)));
        vm.prank(address(account));
        executor.revokeAllowance(dapp, ETH);
        vm.prank(dapp);
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.NoAllowance.selector, address(account), dapp, ETH));
        executor.pull(address(account), ETH, shop, 1);
    }

    /// @dev Uninstalling clears every allowance; a re-install starts empty; an uninstalled module moves nothing.
    function test_uninstallClearsState() public {
        install(abi.encode(dapp, ETH, 1 ether, uint256(0)));
        vm.expectEmit(address(executor));
        emit AllowancesCleared(address(account));
        vm.prank(address(account));
        account.uninstallModule(2, address(executor), "");
        (uint256 amount,,,,) = executor.allowance(address(account), dapp, ETH);
        vm.assertEq(amount, 0);
        vm.prank(dapp);
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.NoAllowance.selector, address(account), dapp, ETH));
        executor.pull(address(account), ETH, shop, 1);

        install("");
        (amount,,,,) = executor.allowance(address(account), dapp, ETH);
        vm.assertEq(amount, 0);
    }

    /// @dev Even with stale state, the account refuses an executor it has not installed.
    function test_pull_refusedByTheAccountWhenNotInstalled() public {
        vm.prank(address(account));
        executor.onInstall(abi.encode(dapp, ETH, 1 ether, uint256(0)));
        vm.prank(dapp);
        vm.expectRevert(abi.encodeWithSelector(ERC7579Utils.ERC7579UninstalledModule.selector, 2, address(executor)));
        executor.pull(address(account), ETH, shop, 1);
        vm.assertEq(shop.balance, 0);
    }

    function test_tokenReturningFalse_reverts() public {
        FalseToken bad = new FalseToken();
        install(abi.encode(dapp, address(bad), 10, uint256(0)));
        vm.prank(dapp);
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.TokenTransferFailed.selector, address(bad), shop, 5));
        executor.pull(address(account), address(bad), shop, 5);
    }

    // ---------------------------------------------------------------------------------------------------------

    /// @dev Whatever the pulls, the total in one period never exceeds the allowance.
    function testFuzz_pullsNeverExceedTheAllowance(uint128 amount, uint96[4] memory pulls) public {
        amount = uint128(bound(amount, 1, 10 ether));
        install(abi.encode(dapp, ETH, uint256(amount), uint256(1 days)));
        uint256 total;
        for (uint256 i = 0; i < pulls.length; ++i) {
            uint256 want = bound(pulls[i], 1, 10 ether);
            vm.prank(dapp);
            if (total + want > amount) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        AllowanceExecutor.AllowanceExceeded.selector, address(account), dapp, ETH, want, amount - total
                    )
                );
                executor.pull(address(account), ETH, shop, want);
            } else {
                executor.pull(address(account), ETH, shop, want);
                total += want;
            }
        }
        vm.assertEq(shop.balance, total);
        vm.assertLe(total, amount);
    }

    function testFuzz_periodWindow(uint32 period, uint32 elapsed) public {
        period = uint32(bound(period, 1, executor.MAX_PERIOD()));
        uint256 start = T0;
        vm.warp(start);
        install(abi.encode(dapp, ETH, 1 ether, uint256(period)));
        vm.prank(dapp);
        executor.pull(address(account), ETH, shop, 1 ether);
        vm.warp(start + elapsed);
        (,, uint256 spent,, uint256 resetsAt) = executor.allowance(address(account), dapp, ETH);
        vm.assertEq(spent, elapsed >= period ? 0 : 1 ether);
        vm.assertEq(resetsAt, start + (uint256(elapsed) / period + 1) * period);
    }

    function testFuzz_invalidAllowanceChangesNothing(address spender, uint256 amount, uint256 period) public {
        vm.assume(spender == address(0) || amount == 0 || amount > type(uint128).max || period > 365 days);
        install("");
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(AllowanceExecutor.InvalidAllowance.selector, spender, amount, period));
        executor.setAllowance(spender, ETH, amount, period);
        (uint256 stored,,,,) = executor.allowance(address(account), spender, ETH);
        vm.assertEq(stored, 0);
    }
}
