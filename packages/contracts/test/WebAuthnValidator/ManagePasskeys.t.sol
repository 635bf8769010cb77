// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {WebAuthnValidator} from "../../src/WebAuthnValidator.sol";
import {MockModule} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";

contract WebAuthnValidatorManagePasskeysTest is SsoTest {
    Passkey internal key;
    Passkey internal laptop;
    SsoAccount internal account;

    event PasskeyAdded(
        address indexed account,
        bytes32 indexed credentialIdHash,
        bytes credentialId,
        bytes32 x,
        bytes32 y,
        string rpId,
        string origin
    );
    event PasskeyRemoved(address indexed account, bytes32 indexed credentialIdHash, bytes credentialId);

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        laptop = makePasskey("alice laptop");
        account = createAccount(key);
    }

    function _add(Passkey memory k) internal {
        vm.prank(address(account));
        validator.addPasskey(k.credentialId, k.x, k.y, k.rpId, k.origin);
    }

    function test_addPasskey_signsAndIsListed() public {
        vm.expectEmit(address(validator));
        emit PasskeyAdded(
            address(account), keccak256(laptop.credentialId), laptop.credentialId, laptop.x, laptop.y, RP_ID, ORIGIN
        );
        _add(laptop);
        vm.assertEq(validator.passkeyCount(address(account)), 2);
        vm.assertTrue(validator.hasPasskey(address(account), laptop.credentialId, laptop.x, laptop.y, RP_ID, ORIGIN));
        vm.assertFalse(validator.hasPasskey(address(account), laptop.credentialId, laptop.x, laptop.y, RP_ID, "x"));
        vm.assertEq(
            validator.passkeyCommitment(address(account), laptop.credentialId),
            validator.passkeyCommitmentOf(laptop.x, laptop.y, RP_ID, ORIGIN)
        );
        bytes32 hash = keccak256("h");
        vm.assertTrue(validator.verify(address(account), hash, signWebAuthn(laptop, hash)));
        address[] memory accounts = validator.accountsOf(laptop.credentialId);
        vm.assertEq(accounts.length, 1);
        vm.assertEq(accounts[0], address(account));
    }

    function test_addPasskey_revertsWhenDuplicateOrInvalid() public {
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                WebAuthnValidator.PasskeyAlreadyRegistered.selector, address(account), key.credentialId
            )
        );
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN);

        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(WebAuthnValidator.InvalidPasskey.selector, laptop.credentialId));
        validator.addPasskey(laptop.credentialId, laptop.x, bytes32(uint256(laptop.y) ^ 1), RP_ID, ORIGIN);

        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(WebAuthnValidator.InvalidPasskey.selector, laptop.credentialId));
        validator.addPasskey(laptop.credentialId, laptop.x, laptop.y, RP_ID, "");
    }

    function test_addPasskey_revertsForAccountsWithoutTheValidator() public {
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(WebAuthnValidator.NotInstalled.selector, stranger));
        validator.addPasskey(laptop.credentialId, laptop.x, laptop.y, RP_ID, ORIGIN);
    }

    function test_removePasskey_neverTheLast() public {
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(WebAuthnValidator.LastPasskey.selector, address(account), key.credentialId)
        );
        validator.removePasskey(key.credentialId);

        _add(laptop);
        vm.expectEmit(address(validator));
        emit PasskeyRemoved(address(account), keccak256(key.credentialId), key.credentialId);
        vm.prank(address(account));
        validator.removePasskey(key.credentialId);

        bytes32 hash = keccak256("h");
        vm.assertFalse(validator.verify(address(account), hash, signWebAuthn(key, hash)));
        vm.assertTrue(validator.verify(address(account), hash, signWebAuthn(laptop, hash)));
        vm.assertEq(validator.accountsOf(key.credentialId).length, 0);
        vm.assertEq(validator.passkeyCount(address(account)), 1);
    }

    function test_removePasskey_revertsWhenUnknown() public {
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                WebAuthnValidator.PasskeyNotRegistered.selector, address(account), laptop.credentialId
            )
        );
        validator.removePasskey(laptop.credentialId);
    }

    function test_accountsOf_listsEveryHolderOnce() public {
        // The same credential on a second account (e.g. one passkey for two accounts).
        Passkey memory shared = key;
        shared.origin = "https://other.example";
        SsoAccount second = createAccount(shared);
        address[] memory accounts = validator.accountsOf(key.credentialId);
        vm.assertEq(accounts.length, 2);
        vm.assertEq(accounts[0], address(account));
        vm.assertEq(accounts[1], address(second));

        // Removed then re-added: still listed once.
        _add(laptop);
        vm.startPrank(address(account));
        validator.removePasskey(key.credentialId);
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN);
        vm.stopPrank();
        accounts = validator.accountsOf(key.credentialId);
        vm.assertEq(accounts.length, 2);
    }

    function test_accountsOf_ignoresCallersWithoutTheValidator() public {
        address squatter = makeAddr("squatter");
        vm.prank(squatter);
        validator.onInstall(abi.encode(key.credentialId, key.x, key.y, RP_ID, ORIGIN));
        address[] memory accounts = validator.accountsOf(key.credentialId);
        vm.assertEq(accounts.length, 1);
        vm.assertEq(accounts[0], address(account));
    }

    function test_onUninstall_mustClearEveryKey() public {
        _add(laptop);
        bytes[] memory ids = new bytes[](1);
        ids[0] = key.credentialId;
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(WebAuthnValidator.PasskeysRemaining.selector, address(account), 1));
        validator.onUninstall(abi.encode(ids));

        ids = new bytes[](2);
        ids[0] = key.credentialId;
        ids[1] = laptop.credentialId;
        vm.prank(address(account));
        validator.onUninstall(abi.encode(ids));
        bytes32 hash = keccak256("h");
        vm.assertFalse(validator.verify(address(account), hash, signWebAuthn(key, hash)));
        vm.assertFalse(validator.verify(address(account), hash, signWebAuthn(laptop, hash)));
    }

    function test_passkeyCount_followsTheAccount() public {
        vm.assertEq(validator.passkeyCount(address(account)), 1);
        _add(laptop);
        vm.assertEq(validator.passkeyCount(address(account)), 2);
        vm.assertEq(validator.passkeyCount(makeAddr("nobody")), 0);
        vm.startPrank(address(account));
        account.installModule(1, address(new MockModule(1)), "");
        bytes[] memory ids = new bytes[](2);
        ids[0] = key.credentialId;
        ids[1] = laptop.credentialId;
        account.uninstallModule(1, address(validator), abi.encode(ids));
        vm.stopPrank();
        vm.assertEq(validator.passkeyCount(address(account)), 0);
    }

    function test_isModuleType() public view {
        vm.assertTrue(validator.isModuleType(1));
        vm.assertFalse(validator.isModuleType(2));
        vm.assertFalse(validator.isModuleType(3));
        vm.assertFalse(validator.isModuleType(4));
    }
}
