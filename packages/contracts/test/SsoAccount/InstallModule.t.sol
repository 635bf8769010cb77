// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISsoAccount} from "../../src/account/ISsoAccount.sol";
import {MockModule, MockTarget} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {ERC7579Utils} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

contract SsoAccountInstallModuleTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    MockModule internal otherValidator;
    MockModule internal executor;
    MockModule internal handler;

    event ModuleInstalled(uint256 moduleTypeId, address module);
    event ModuleUninstalled(uint256 moduleTypeId, address module);

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
        otherValidator = new MockModule(1);
        executor = new MockModule(2);
        handler = new MockModule(3);
    }

    function test_installedByTheFactory() public view {
        vm.assertTrue(account.isModuleInstalled(1, address(validator), ""));
        vm.assertEq(account.validatorCount(), 1);
        vm.assertEq(account.accountId(), "sso.SsoAccount.1.1.0");
        vm.assertTrue(account.supportsModule(1) && account.supportsModule(2) && account.supportsModule(3));
        vm.assertFalse(account.supportsModule(4));
    }

    /// @dev SsoAccount's validation reads `presetFlags` and `modulesVersion` out of the head's word at fixed shifts
    /// (ModuleManager `_HEAD_*_SHIFT`): they must be where the `AccountHead` struct puts them.
    function test_headWordLayout() public {
        bytes32 slot = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
        (uint256[] memory types, address[] memory presets) = account.presetModules();
        for (uint256 round = 0; round < 3; ++round) {
            uint256 word = uint256(vm.load(address(account), slot));
            vm.assertEq(uint32(word >> 192), account.modulesVersion(), "modulesVersion at bit 192");
            for (uint256 i = 0; i < presets.length; ++i) {
                bool flagged = (word >> (184 + i)) & 1 == 1;
                vm.assertEq(flagged, account.isModuleInstalled(types[i], presets[i], ""), "presetFlags at bit 184");
            }
            vm.startPrank(address(account));
            if (round == 0) account.installModule(2, address(executor), "");
            if (round == 1) {
                // The preset WebAuthnValidator's flag cleared (another validator keeps the account signable).
                account.installModule(1, address(otherValidator), "");
                bytes[] memory ids = new bytes[](1);
                ids[0] = key.credentialId;
                account.uninstallModule(1, address(validator), abi.encode(ids));
                vm.assertFalse(account.isModuleInstalled(1, address(validator), ""));
            }
            vm.stopPrank();
        }
    }

    function test_install_throughAUserOp() public {
        PackedUserOperation memory op = buildUserOp(
            address(account),
            address(validator),
            abi.encodeCall(SsoAccount.installModule, (2, address(executor), hex"1234"))
        );
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        vm.expectEmit(address(account));
        emit ModuleInstalled(2, address(executor));
        handleOp(op);
        vm.assertTrue(account.isModuleInstalled(2, address(executor), ""));
        vm.assertEq(executor.installData(address(account)), hex"1234");
    }

    /// @dev Every install and uninstall after initialisation moves `modulesVersion()`; the factory's modules do not.
    function test_modulesVersion_countsInstallsAndUninstalls() public {
        vm.assertEq(account.modulesVersion(), 0);
        vm.startPrank(address(ENTRYPOINT));
        account.installModule(2, address(executor), "");
        vm.assertEq(account.modulesVersion(), 1);
        account.installModule(1, address(otherValidator), "");
        vm.assertEq(account.modulesVersion(), 2);
        account.uninstallModule(2, address(executor), "");
        vm.assertEq(account.modulesVersion(), 3);
        // A refused install changes nothing.
        vm.expectRevert();
        account.installModule(1, address(otherValidator), "");
        vm.assertEq(account.modulesVersion(), 3);
        vm.stopPrank();
        vm.prank(address(account));
        account.installModule(3, address(handler), abi.encodePacked(handler.whoCalled.selector));
        vm.assertEq(account.modulesVersion(), 4);
    }

    function testFuzz_strangersCannotInstallOrUninstall(address stranger) public {
        vm.assume(stranger != address(account) && stranger != address(ENTRYPOINT));
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Account.AccountUnauthorized.selector, stranger));
        account.installModule(1, address(otherValidator), "");
        vm.expectRevert(abi.encodeWithSelector(Account.AccountUnauthorized.selector, stranger));
        account.uninstallModule(1, address(validator), "");
        vm.stopPrank();
    }

    function test_lastValidatorCannotBeRemoved() public {
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.LastValidator.selector, address(validator)));
        account.uninstallModule(1, address(validator), abi.encode(new bytes[](0)));

        vm.startPrank(address(account));
        account.installModule(1, address(otherValidator), "");
        vm.assertEq(account.validatorCount(), 2);
        bytes[] memory ids = new bytes[](1);
        ids[0] = key.credentialId;
        vm.expectEmit(address(account));
        emit ModuleUninstalled(1, address(validator));
        account.uninstallModule(1, address(validator), abi.encode(ids));
        vm.assertEq(account.validatorCount(), 1);
        vm.assertFalse(account.isModuleInstalled(1, address(validator), ""));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.LastValidator.selector, address(otherValidator)));
        account.uninstallModule(1, address(otherValidator), "");
        vm.stopPrank();
    }

    function test_install_rejectsWrongTypeDuplicatesAndHooks() public {
        MockModule hook = new MockModule(4);
        vm.startPrank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(ERC7579Utils.ERC7579MismatchedModuleTypeId.selector, 1, address(executor))
        );
        account.installModule(1, address(executor), "");
        vm.expectRevert(
            abi.encodeWithSelector(ERC7579Utils.ERC7579AlreadyInstalledModule.selector, 1, address(validator))
        );
        account.installModule(1, address(validator), "");
        vm.expectRevert(abi.encodeWithSelector(ERC7579Utils.ERC7579UnsupportedModuleType.selector, 4));
        account.installModule(4, address(hook), "");
        vm.expectRevert(abi.encodeWithSelector(ERC7579Utils.ERC7579UninstalledModule.selector, 2, address(executor)));
        account.uninstallModule(2, address(executor), "");
        vm.stopPrank();
    }

    function test_executor_executesOnlyWhileInstalled() public {
        MockTarget target = new MockTarget();
        bytes memory call = abi.encodePacked(address(target), uint256(0), abi.encodeCall(MockTarget.hit, (3)));
        vm.expectRevert(abi.encodeWithSelector(ERC7579Utils.ERC7579UninstalledModule.selector, 2, address(executor)));
        executor.run(address(account), mode(0x00, 0x00), call);

        vm.prank(address(account));
        account.installModule(2, address(executor), "");
        executor.run(address(account), mode(0x00, 0x00), call);
        vm.assertEq(target.counter(), 3);
        vm.assertEq(target.lastCaller(), address(account));

        vm.prank(address(account));
        account.uninstallModule(2, address(executor), "");
        vm.expectRevert(abi.encodeWithSelector(ERC7579Utils.ERC7579UninstalledModule.selector, 2, address(executor)));
        executor.run(address(account), mode(0x00, 0x00), call);
    }

    function test_fallbackHandler_routesWithSender() public {
        bytes4 selector = MockModule.whoCalled.selector;
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.MissingFallbackHandler.selector, selector));
        MockModule(address(account)).whoCalled();

        vm.prank(address(account));
        account.installModule(3, address(handler), abi.encodePacked(selector));
        vm.assertTrue(account.isModuleInstalled(3, address(handler), abi.encodePacked(selector)));
        // Empty context: the fallback handler of any selector (what the SessionKeyValidator asks).
        vm.assertTrue(account.isModuleInstalled(3, address(handler), ""));
        vm.assertFalse(account.isModuleInstalled(3, address(handler), abi.encodePacked(bytes4(0x12345678))));
        vm.assertEq(account.fallbackHandler(selector), address(handler));
        vm.assertEq(MockModule(address(account)).whoCalled(), address(this));

        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.InvalidFallbackData.selector, 2));
        account.installModule(3, address(handler), hex"1234");

        vm.prank(address(account));
        account.uninstallModule(3, address(handler), abi.encodePacked(selector));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.MissingFallbackHandler.selector, selector));
        MockModule(address(account)).whoCalled();
        vm.assertFalse(account.isModuleInstalled(3, address(handler), ""));
    }

    /// @dev `isModuleInstalled(3, handler, "")` holds while the handler serves at least one selector.
    function test_fallbackHandler_anySelector() public {
        bytes4 first = MockModule.whoCalled.selector;
        bytes4 second = MockModule.onInstall.selector;
        vm.assertFalse(account.isModuleInstalled(3, address(handler), ""));
        vm.startPrank(address(account));
        account.installModule(3, address(handler), abi.encodePacked(first));
        account.installModule(3, address(handler), abi.encodePacked(second));
        vm.assertTrue(account.isModuleInstalled(3, address(handler), ""));
        account.uninstallModule(3, address(handler), abi.encodePacked(first));
        vm.assertTrue(account.isModuleInstalled(3, address(handler), ""));
        account.uninstallModule(3, address(handler), abi.encodePacked(second));
        vm.assertFalse(account.isModuleInstalled(3, address(handler), ""));
        vm.assertFalse(account.isModuleInstalled(3, address(0), ""));
        vm.stopPrank();
    }

    function test_initialize_onlyOnce() public {
        uint256[] memory types = new uint256[](1);
        address[] memory modules = new address[](1);
        bytes[] memory data = new bytes[](1);
        types[0] = 1;
        modules[0] = address(otherValidator);
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        account.initialize(types, modules, data);
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        implementation.initialize(types, modules, data);
    }

    function test_receivesEthAndTokens() public {
        (bool ok,) = address(account).call{value: 1 ether}("");
        vm.assertTrue(ok);
        vm.assertEq(account.onERC721Received(address(0), address(0), 1, ""), bytes4(0x150b7a02));
        vm.assertEq(account.onERC1155Received(address(0), address(0), 1, 1, ""), bytes4(0xf23a6e61));
        vm.assertEq(
            account.onERC1155BatchReceived(address(0), address(0), new uint256[](0), new uint256[](0), ""),
            bytes4(0xbc197c81)
        );
    }

    function test_supportsInterface() public view {
        vm.assertTrue(account.supportsInterface(0x01ffc9a7)); // ERC-165
        vm.assertTrue(account.supportsInterface(0x1626ba7e)); // ERC-1271
        vm.assertTrue(account.supportsInterface(0x150b7a02)); // ERC-721 receiver
        vm.assertFalse(account.supportsInterface(0xffffffff));
    }
}
