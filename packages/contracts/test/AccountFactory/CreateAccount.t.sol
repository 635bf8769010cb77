// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccountFactory} from "../../src/AccountFactory.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {MockModule, MockTarget} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

contract AccountFactoryCreateAccountTest is SsoTest {
    Passkey internal key;

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
    }

    function _address(Passkey memory k) internal view returns (address) {
        return factory.getAddress(k.credentialId, k.x, k.y, k.rpId, k.origin);
    }

    function test_createAccount_atTheCounterfactualAddress() public {
        address predicted = _address(key);
        vm.assertEq(predicted.code.length, 0);
        SsoAccount account = createAccount(key);
        vm.assertEq(address(account), predicted);
        vm.assertTrue(account.isModuleInstalled(1, address(validator), ""));
        vm.assertTrue(validator.hasPasskey(address(account), key.credentialId, key.x, key.y, RP_ID, ORIGIN));
    }

    function test_createAccount_twiceReturnsTheAccount() public {
        address first = address(createAccount(key));
        address second = factory.createAccount(key.credentialId, key.x, key.y, key.rpId, key.origin);
        vm.assertEq(first, second);
    }

    function testFuzz_addressCommitsToThePasskey(bytes32 tweak, uint8 field) public view {
        vm.assume(tweak != 0);
        Passkey memory other = makePasskey("alice");
        field = field % 5;
        if (field == 0) other.credentialId = abi.encodePacked(tweak);
        if (field == 1) other.x = tweak;
        if (field == 2) other.y = tweak;
        if (field == 3) other.rpId = vm.toString(tweak);
        if (field == 4) other.origin = vm.toString(tweak);
        vm.assertNotEq(_address(other), _address(key));
    }

    function test_firstUserOpDeploysTheAccount() public {
        MockTarget target = new MockTarget();
        address sender = _address(key);
        vm.deal(sender, 1 ether);
        PackedUserOperation memory op = buildUserOp(
            sender, address(validator), singleCall(address(target), 0, abi.encodeCall(MockTarget.hit, (9)))
        );
        op.initCode = abi.encodePacked(
            address(factory),
            abi.encodeCall(AccountFactory.createAccount, (key.credentialId, key.x, key.y, key.rpId, key.origin))
        );
        op.accountGasLimits = bytes32(uint256(1_000_000) << 128 | uint256(200_000));
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        handleOp(op);
        vm.assertGt(sender.code.length, 0);
        vm.assertEq(target.counter(), 9);
        vm.assertEq(target.lastCaller(), sender);
    }

    function test_frontRunningWithAnotherKeyGivesAnotherAddress() public {
        Passkey memory mallory = makePasskey("mallory");
        mallory.credentialId = key.credentialId; // same credential id, mallory's public key
        address attackers = factory.createAccount(mallory.credentialId, mallory.x, mallory.y, RP_ID, ORIGIN);
        vm.assertNotEq(attackers, _address(key));
        vm.assertEq(_address(key).code.length, 0);
        vm.assertEq(address(createAccount(key)), _address(key));
    }

    function test_defaultModulesAreInstalled() public {
        MockModule sessions = new MockModule(1);
        MockModule executor = new MockModule(2);
        uint256[] memory types = new uint256[](2);
        address[] memory modules = new address[](2);
        (types[0], modules[0]) = (1, address(sessions));
        (types[1], modules[1]) = (2, address(executor));
        factory = new AccountFactory(address(this), address(implementation), address(validator), types, modules);
        SsoAccount account = createAccount(key);
        vm.assertTrue(account.isModuleInstalled(1, address(validator), ""));
        vm.assertTrue(account.isModuleInstalled(1, address(sessions), ""));
        vm.assertTrue(account.isModuleInstalled(2, address(executor), ""));
        vm.assertTrue(sessions.installed(address(account)));
        vm.assertEq(sessions.installData(address(account)), "");
        vm.assertEq(account.validatorCount(), 2);
        (uint256[] memory gotTypes, address[] memory gotModules) = factory.defaultModules();
        vm.assertEq(gotTypes.length, 2);
        vm.assertEq(gotModules[0], address(sessions));
        vm.assertEq(gotTypes[1], 2);
    }

    function test_constructor_rejectsBadDefaultModules() public {
        uint256[] memory types = new uint256[](1);
        address[] memory modules = new address[](1);
        (types[0], modules[0]) = (3, address(0xBEEF));
        vm.expectRevert(abi.encodeWithSelector(AccountFactory.InvalidDefaultModule.selector, 3, address(0xBEEF)));
        new AccountFactory(address(this), address(implementation), address(validator), types, modules);

        vm.expectRevert(abi.encodeWithSelector(AccountFactory.TooManyDefaultModules.selector, 5));
        new AccountFactory(
            address(this), address(implementation), address(validator), new uint256[](5), new address[](5)
        );

        vm.expectRevert(abi.encodeWithSelector(AccountFactory.DefaultModuleListLengthMismatch.selector, 1, 2));
        new AccountFactory(
            address(this), address(implementation), address(validator), new uint256[](1), new address[](2)
        );
    }
}
