// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

contract SsoAccountV2 is SsoAccount {
    constructor(uint256[] memory types, address[] memory modules) SsoAccount(types, modules) {}

    function version() external pure returns (uint256) {
        return 2;
    }
}

contract SsoAccountUpgradeToAndCallTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    SsoAccountV2 internal v2;

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
        (uint256[] memory types, address[] memory modules) = implementation.presetModules();
        v2 = new SsoAccountV2(types, modules);
    }

    function testFuzz_strangersCannotUpgrade(address stranger) public {
        vm.assume(stranger != address(account) && stranger != address(ENTRYPOINT));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Account.AccountUnauthorized.selector, stranger));
        account.upgradeToAndCall(address(v2), "");
    }

    function test_upgradeThroughAUserOp_keepsState() public {
        PackedUserOperation memory op = buildUserOp(
            address(account), address(validator), abi.encodeCall(account.upgradeToAndCall, (address(v2), ""))
        );
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        handleOp(op);
        vm.assertEq(SsoAccountV2(payable(address(account))).version(), 2);
        vm.assertTrue(account.isModuleInstalled(1, address(validator), ""));
        vm.assertEq(account.validatorCount(), 1);
    }
}
