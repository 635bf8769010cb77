// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISsoAccount} from "../../src/account/ISsoAccount.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

contract SsoAccountV2 is SsoAccount {
    constructor(uint256[] memory types, address[] memory modules) SsoAccount(types, modules) {}

    function version() external pure returns (uint256) {
        return 2;
    }
}

/// @dev An implementation whose upgrade writes the whole ERC-1967 word (as Solady's UUPS does), with no head.
contract WholeWordImplementation {
    function proxiableUUID() external pure returns (bytes32) {
        return 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    }
}

/// @dev A later implementation with another head layout.
contract OtherHeadLayout is WholeWordImplementation {
    function ACCOUNT_HEAD_LAYOUT() external pure returns (uint256) {
        return 2;
    }
}

contract SsoAccountUpgradeToAndCallTest is SsoTest {
    bytes32 internal constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

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

    /// @dev The account's head (flags, counts, modules version) sits above the implementation address in the
    /// ERC-1967 slot: the proxy's read of that slot warms it.
    function test_headSharesTheImplementationSlot() public view {
        uint256 word = uint256(vm.load(address(account), IMPLEMENTATION_SLOT));
        vm.assertEq(address(uint160(word)), address(implementation), "the implementation address, low 160 bits");
        vm.assertEq((word >> 160) & 0xff, 1, "initialised");
        vm.assertEq((word >> 168) & 0xffff, account.validatorCount(), "validator count");
        vm.assertEq((word >> 192) & 0xffffffff, account.modulesVersion(), "modules version");
        vm.assertEq((word >> 224) & 0xffff, account.signingValidatorCount(), "signing validator count");
        vm.assertGt((word >> 184) & 0xff, 0, "preset flags");
        vm.assertEq(word >> 240, 0);
    }

    function test_implementationCannotBeInitialised() public {
        vm.expectRevert(ISsoAccount.InvalidInitialization.selector);
        implementation.initialize(new uint256[](0), new address[](0), new bytes[](0));
    }

    /// @dev Attack: an upgrade that lost the head would reset the modules version (reviving sessions a revoke-all
    /// ended) and the installed flags; OpenZeppelin's UUPS writes only the address bits.
    function test_upgradeKeepsTheHead() public {
        vm.prank(address(account));
        account.bumpModulesVersion();
        vm.prank(address(account));
        account.bumpModulesVersion();
        bytes32 before = vm.load(address(account), IMPLEMENTATION_SLOT);
        vm.assertEq(account.modulesVersion(), 2);
        vm.prank(address(account));
        account.upgradeToAndCall(address(v2), "");
        bytes32 next = vm.load(address(account), IMPLEMENTATION_SLOT);
        vm.assertEq(address(uint160(uint256(next))), address(v2));
        vm.assertEq(uint256(next) >> 160, uint256(before) >> 160, "the head is unchanged");
        vm.assertEq(account.modulesVersion(), 2);
        vm.assertEq(SsoAccountV2(payable(address(account))).version(), 2);
        vm.expectRevert(ISsoAccount.InvalidInitialization.selector);
        account.initialize(new uint256[](0), new address[](0), new bytes[](0));
    }

    /// @dev Attack: an upgrade to an implementation that doesn't keep the head (and back) would leave the account
    /// uninitialised (anyone could install a validator) with its modules version back at 0.
    function test_attack_upgradeToAnImplementationWithoutTheHead_isRefused() public {
        address[2] memory others = [address(new WholeWordImplementation()), address(new OtherHeadLayout())];
        for (uint256 i = 0; i < others.length; ++i) {
            bytes32 before = vm.load(address(account), IMPLEMENTATION_SLOT);
            vm.prank(address(account));
            vm.expectRevert(abi.encodeWithSelector(ISsoAccount.UpgradeLosesHead.selector, others[i]));
            account.upgradeToAndCall(others[i], "");
            vm.assertEq(vm.load(address(account), IMPLEMENTATION_SLOT), before);
        }
        vm.assertEq(v2.ACCOUNT_HEAD_LAYOUT(), 1);
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
