// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {WebAuthnValidator} from "../../src/WebAuthnValidator.sol";
import {ISsoAccount} from "../../src/account/ISsoAccount.sol";
import {IPasskeyStore, PASSKEY_RULES} from "../../src/webauthn/IPasskeyStore.sol";
import {IWebAuthnValidator} from "../../src/webauthn/IWebAuthnValidator.sol";
import {
    MockInertValidator,
    MockInstalledEverywhere,
    MockMinimalAccount,
    MockPasskeyStoreValidator,
    MockPermissiveAccount
} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Validator} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/// @notice The account keeps its passkeys and checks passkey userOps in its own code (docs/webauthn.md, "Where
/// passkeys are stored"); only the WebAuthnValidator writes them, and the account accepts nothing the validator
/// would refuse.
contract SsoAccountPasskeyStoreTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    bytes32 internal constant HASH = keccak256("a userOp hash");

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
    }

    /// @dev The account's answer to the EntryPoint for a passkey userOp signed with `signature` over {HASH}.
    function _accountValidates(bytes memory signature) internal returns (uint256) {
        PackedUserOperation memory op;
        op.sender = address(account);
        op.nonce = uint256(nonceKey(address(validator))) << 64;
        op.signature = signature;
        vm.prank(address(ENTRYPOINT));
        return account.validateUserOp(op, HASH, 0);
    }

    function test_theAccountKeepsTheValidatorsWord() public view {
        bytes4 credentialKey = bytes4(keccak256(key.credentialId));
        uint256 entry = account.passkeyEntry(address(validator), credentialKey);
        vm.assertNotEq(entry, 0);
        vm.assertEq(bytes32(entry), validator.passkeyCommitment(address(account), key.credentialId));
        vm.assertTrue(account.supportsInterface(type(IPasskeyStore).interfaceId));
    }

    function test_validPasskeyUserOp_noCallToTheValidator() public {
        vm.expectCall(address(validator), abi.encodeWithSelector(IERC7579Validator.validateUserOp.selector), 0);
        vm.assertEq(_accountValidates(signWebAuthn(key, HASH)), 0);
    }

    function test_realUserOp_checkedInTheAccount() public {
        address recipient = makeAddr("recipient");
        PackedUserOperation memory op = buildUserOp(address(account), address(validator), singleCall(recipient, 1, ""));
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        vm.expectCall(address(validator), abi.encodeWithSelector(IERC7579Validator.validateUserOp.selector), 0);
        handleOp(op);
        vm.assertEq(recipient.balance, 1);
    }

    function test_refusedHere_theValidatorDecides() public {
        bytes memory wrong = signWebAuthn(key, keccak256("another hash"));
        vm.expectCall(address(validator), abi.encodeWithSelector(IERC7579Validator.validateUserOp.selector), 1);
        vm.assertEq(_accountValidates(wrong), 1);
    }

    /// @dev Differential: on forged and malformed signatures the account answers what the validator answers.
    function test_forgeries_sameAnswerAsTheValidator() public {
        Passkey memory mallory = makePasskey("mallory");
        Passkey memory sameId = makePasskey("mallory");
        sameId.credentialId = key.credentialId;
        Assertion memory noUv = defaultAssertion(key, HASH);
        noUv.flags = 0x01;
        Assertion memory highS = defaultAssertion(key, HASH);
        highS.highS = true;
        Assertion memory otherOrigin = defaultAssertion(key, HASH);
        otherOrigin.origin = "http://localhost:3003";
        bytes[7] memory signatures = [
            signWebAuthn(mallory, HASH),
            signWebAuthn(sameId, HASH),
            signAssertion(key, noUv),
            signAssertion(key, highS),
            signAssertion(key, otherOrigin),
            bytes(hex"00112233"),
            bytes("")
        ];
        for (uint256 i = 0; i < signatures.length; ++i) {
            vm.assertEq(_accountValidates(signatures[i]), 1);
            vm.assertFalse(validator.verify(address(account), HASH, signatures[i]));
        }
    }

    /// @dev Any change to a valid signature: the account accepts only what the validator accepts.
    function testFuzz_accountAcceptsOnlyWhatTheValidatorAccepts(uint256 position, uint8 flip) public {
        bytes memory signature = signWebAuthn(key, HASH);
        position = bound(position, 0, signature.length - 1);
        signature[position] = signature[position] ^ bytes1(flip);
        bool validatorSays = validator.verify(address(account), HASH, signature);
        vm.assertEq(_accountValidates(signature) == 0, validatorSays);
        if (flip != 0) vm.assertFalse(validatorSays);
    }

    /// @dev Attack: nothing but the account's passkey validator writes its passkeys - not a stranger, not the
    /// account itself (anything acting as the account: a userOp, a session, an executor), not another validator.
    function test_attack_onlyThePasskeyValidatorWrites() public {
        bytes4 credentialKey = bytes4(keccak256("mallory's credential"));
        address[3] memory callers = [makeAddr("stranger"), address(account), address(new MockInstalledEverywhere())];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(IPasskeyStore.NotPasskeyValidator.selector, callers[i]));
            account.setPasskeyEntry(credentialKey, 1 << 96);
        }
        // Through a passkey userOp executing the call as the account: the execution reverts, nothing is written.
        PackedUserOperation memory op = buildUserOp(
            address(account),
            address(validator),
            singleCall(address(account), 0, abi.encodeCall(IPasskeyStore.setPasskeyEntry, (credentialKey, 1 << 96)))
        );
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        handleOp(op);
        vm.assertEq(account.passkeyEntry(address(validator), credentialKey), 0);
    }

    function test_uninstall_clearsTheAccountsWords() public {
        bytes4 credentialKey = bytes4(keccak256(key.credentialId));
        // A second validator, so that the WebAuthnValidator is not the last one.
        MockPasskeyStoreValidator other = new MockPasskeyStoreValidator(true, PASSKEY_RULES);
        vm.startPrank(address(account));
        account.installModule(1, address(other), "");
        bytes[] memory ids = new bytes[](1);
        ids[0] = key.credentialId;
        account.uninstallModule(1, address(validator), abi.encode(ids));
        vm.stopPrank();
        vm.assertEq(account.passkeyEntry(address(validator), credentialKey), 0);
        vm.assertEq(_accountValidates(signWebAuthn(key, HASH)), 1);
    }

    /// @dev The validator gives passkeys only to accounts that keep them: one without the store, one whose fallback
    /// accepts anything and keeps nothing.
    function test_accountWithoutStore_refused() public {
        MockMinimalAccount minimal = new MockMinimalAccount();
        minimal.setInstalled(1, address(validator), true);
        MockPermissiveAccount permissive = new MockPermissiveAccount();
        address[2] memory accounts = [address(minimal), address(permissive)];
        for (uint256 i = 0; i < accounts.length; ++i) {
            vm.prank(accounts[i]);
            vm.expectRevert(abi.encodeWithSelector(IWebAuthnValidator.PasskeyStoreUnsupported.selector, accounts[i]));
            validator.onInstall(abi.encode(key.credentialId, key.x, key.y, RP_ID, ORIGIN));
        }
        vm.assertEq(validator.passkeyCommitment(address(permissive), key.credentialId), bytes32(0));
    }

    /// @dev Another rules version is not this implementation's: that validator is asked like any other.
    function test_constructor_otherRulesAreNotApplied() public {
        uint256[] memory types = new uint256[](1);
        address[] memory presets = new address[](1);
        (types[0], presets[0]) = (1, address(new MockPasskeyStoreValidator(true, keccak256("other rules"))));
        SsoAccount other = new SsoAccount(types, presets);
        vm.prank(address(validator));
        vm.expectRevert(abi.encodeWithSelector(IPasskeyStore.NotPasskeyValidator.selector, address(validator)));
        other.setPasskeyEntry(bytes4(0x12345678), 1);
    }

    /// @dev Attack (found in review): the owner upgrades to an implementation whose passkey validator is another
    /// one. The words the old one wrote are kept under it: they sign nothing under the new one's nonce key, and the
    /// old one can't write any more.
    function test_attack_oldWordsDoNotSignAfterAnUpgradeToAnotherPasskeyValidator() public {
        WebAuthnValidator next = new WebAuthnValidator();
        uint256[] memory types = new uint256[](2);
        address[] memory presets = new address[](2);
        (types[0], presets[0]) = (1, address(new MockInertValidator()));
        (types[1], presets[1]) = (1, address(next));
        SsoAccount upgraded = new SsoAccount(types, presets);
        PackedUserOperation memory op = buildUserOp(
            address(account), address(validator), abi.encodeCall(account.upgradeToAndCall, (address(upgraded), ""))
        );
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        handleOp(op);
        vm.assertFalse(account.isModuleInstalled(1, address(next), ""));
        bytes4 credentialKey = bytes4(keccak256(key.credentialId));
        vm.assertNotEq(account.passkeyEntry(address(validator), credentialKey), 0);
        vm.assertEq(account.passkeyEntry(address(next), credentialKey), 0);

        address recipient = makeAddr("recipient");
        op = buildUserOp(address(account), address(next), singleCall(recipient, 1, ""));
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        handleOp(op);
        vm.assertEq(recipient.balance, 0);
        vm.prank(address(validator));
        vm.expectRevert(abi.encodeWithSelector(IPasskeyStore.NotPasskeyValidator.selector, address(validator)));
        account.setPasskeyEntry(credentialKey, 0);
    }

    /// @dev One preset validator at most keeps its passkeys in the account, and it must be bound to its
    /// installation (uninstalling it clears them).
    function test_constructor_onePasskeyStoreValidatorBoundToItsInstallation() public {
        uint256[] memory types = new uint256[](2);
        address[] memory presets = new address[](2);
        (types[0], presets[0]) = (1, address(validator));
        (types[1], presets[1]) = (1, address(new MockPasskeyStoreValidator(true, PASSKEY_RULES)));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.InvalidPresetModule.selector, 1, presets[1]));
        new SsoAccount(types, presets);

        uint256[] memory oneType = new uint256[](1);
        address[] memory one = new address[](1);
        (oneType[0], one[0]) = (1, address(new MockPasskeyStoreValidator(false, PASSKEY_RULES)));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.InvalidPresetModule.selector, 1, one[0]));
        new SsoAccount(oneType, one);
    }
}
