// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {IWebAuthnValidator} from "../../src/webauthn/IWebAuthnValidator.sol";
import {MockInstalledEverywhere, MockModule} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

contract WebAuthnValidatorManagePasskeysTest is SsoTest {
    Passkey internal key;
    Passkey internal laptop;
    SsoAccount internal account;

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        laptop = makePasskey("alice laptop");
        account = createAccount(key);
    }

    /// @dev A junk contract of an attacker at `at` that reports every module installed (onInstall needs that).
    function _junk(uint256 at) internal returns (address junk) {
        junk = address(uint160(at));
        vm.etch(junk, address(new MockInstalledEverywhere()).code);
    }

    /// @dev The account's storage slot of a passkey's word: `passkeys[validator][credentialKey]`, the mapping being
    /// the third slot of the account's ERC-7201 namespace.
    function _passkeySlot(Passkey memory k) internal view returns (bytes32) {
        uint256 base = 0x8909f8f17a39fb3af28b6bbdc5a228fdccc4e85c64ab5e227fea48fb06e59100;
        bytes32 inner = keccak256(abi.encode(address(validator), base + 2));
        return keccak256(abi.encode(bytes32(bytes4(keccak256(k.credentialId))), inner));
    }

    function _add(Passkey memory k) internal {
        bytes memory proof0 = registrationProof(k, address(account));
        vm.prank(address(account));
        validator.addPasskey(k.credentialId, k.x, k.y, k.rpId, k.origin, proof0);
    }

    function test_addPasskey_signsAndIsListed() public {
        vm.expectEmit(address(validator));
        emit IWebAuthnValidator.PasskeyAdded(
            address(account),
            keccak256(laptop.credentialId),
            laptop.credentialId,
            laptop.x,
            laptop.y,
            RP_ID,
            ORIGIN,
            true
        );
        _add(laptop);
        vm.assertEq(validator.passkeyCount(address(account)), 2);
        vm.assertTrue(validator.hasPasskey(address(account), laptop.credentialId, laptop.x, laptop.y, RP_ID, ORIGIN));
        vm.assertFalse(validator.hasPasskey(address(account), laptop.credentialId, laptop.x, laptop.y, RP_ID, "x"));
        // The commitment's top 160 bits, the credential id hash's bytes 4..15, the proven flag.
        vm.assertEq(
            validator.passkeyCommitment(address(account), laptop.credentialId),
            bytes32(
                (uint256(validator.passkeyCommitmentOf(laptop.x, laptop.y, RP_ID, ORIGIN)) >> 96 << 96)
                    | ((uint256(keccak256(laptop.credentialId)) >> 128) & ((1 << 96) - 2)) | 1
            )
        );
        vm.assertEq(
            uint8(validator.passkeyState(address(account), laptop.credentialId, laptop.x, laptop.y, RP_ID, ORIGIN)),
            uint8(IWebAuthnValidator.PasskeyState.Proven)
        );
        vm.assertEq(
            uint8(validator.passkeyState(address(account), key.credentialId, key.x, key.y, RP_ID, ORIGIN)),
            uint8(IWebAuthnValidator.PasskeyState.Installed)
        );
        bytes32 hash = keccak256("h");
        vm.assertTrue(validator.verify(address(account), hash, signWebAuthn(laptop, hash)));
        address[] memory accounts = accountsOf(laptop);
        vm.assertEq(accounts.length, 1);
        vm.assertEq(accounts[0], address(account));
    }

    function test_addPasskey_revertsWhenDuplicateOrInvalid() public {
        bytes memory keyProof = registrationProof(key, address(account));
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                IWebAuthnValidator.PasskeyAlreadyRegistered.selector, address(account), key.credentialId
            )
        );
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, keyProof);

        // A key off the curve, or an origin that is empty or not a plain origin: with a valid proof of each.
        Passkey memory bad = laptop;
        bad.origin = "";
        _expectInvalidPasskey(bad);
        bad.origin = 'https://a.example","crossOrigin":true,"x":"';
        _expectInvalidPasskey(bad);
        bad.origin = "https://a.example\\";
        _expectInvalidPasskey(bad);
        bad = laptop;
        bad.y = bytes32(uint256(laptop.y) ^ 1);
        bytes memory proof1 = registrationProof(laptop, address(account));
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(IWebAuthnValidator.InvalidPasskeyProof.selector, address(account), bad.credentialId)
        );
        validator.addPasskey(bad.credentialId, bad.x, bad.y, RP_ID, ORIGIN, proof1);
    }

    function _expectInvalidPasskey(Passkey memory k) internal {
        bytes memory proof2 = registrationProof(k, address(account));
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(IWebAuthnValidator.InvalidPasskey.selector, k.credentialId));
        validator.addPasskey(k.credentialId, k.x, k.y, k.rpId, k.origin, proof2);
    }

    function test_addPasskey_revertsForAccountsWithoutTheValidator() public {
        address stranger = makeAddr("stranger");
        bytes memory proof3 = registrationProof(laptop, stranger);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IWebAuthnValidator.NotInstalled.selector, stranger));
        validator.addPasskey(laptop.credentialId, laptop.x, laptop.y, RP_ID, ORIGIN, proof3);
    }

    function test_removePasskey_neverTheLast() public {
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(IWebAuthnValidator.LastPasskey.selector, address(account), key.credentialId)
        );
        validator.removePasskey(key.credentialId);

        _add(laptop);
        vm.expectEmit(address(validator));
        emit IWebAuthnValidator.PasskeyRemoved(address(account), keccak256(key.credentialId), key.credentialId);
        vm.prank(address(account));
        validator.removePasskey(key.credentialId);

        bytes32 hash = keccak256("h");
        vm.assertFalse(validator.verify(address(account), hash, signWebAuthn(key, hash)));
        vm.assertTrue(validator.verify(address(account), hash, signWebAuthn(laptop, hash)));
        vm.assertEq(accountsOf(key).length, 0);
        vm.assertEq(validator.passkeyCount(address(account)), 1);
    }

    /// @dev The signature names a passkey by a 4-byte key; a second passkey whose key is taken is refused, and the
    /// passkey holding the key is neither reported for nor removed by the other credential id.
    function test_credentialKeyTaken() public {
        // The account's first passkey, stored as if its 4-byte key were the laptop's (a 1 in 2^32 coincidence).
        // The account keeps its passkeys: `passkeys` is the third slot of its ERC-7201 storage.
        bytes32 firstSlot = _passkeySlot(key);
        bytes32 laptopSlot = _passkeySlot(laptop);
        bytes32 first = vm.load(address(account), firstSlot);
        vm.assertEq(
            first, validator.passkeyCommitment(address(account), key.credentialId), "the slot of the first passkey"
        );
        vm.store(address(account), laptopSlot, first);
        vm.assertEq(validator.passkeyCommitment(address(account), laptop.credentialId), bytes32(0));
        vm.assertFalse(validator.hasPasskey(address(account), laptop.credentialId, key.x, key.y, RP_ID, ORIGIN));

        bytes memory proof = registrationProof(laptop, address(account));
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                IWebAuthnValidator.CredentialKeyTaken.selector, address(account), laptop.credentialId
            )
        );
        validator.addPasskey(laptop.credentialId, laptop.x, laptop.y, RP_ID, ORIGIN, proof);

        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                IWebAuthnValidator.PasskeyNotRegistered.selector, address(account), laptop.credentialId
            )
        );
        validator.removePasskey(laptop.credentialId);
        vm.assertEq(vm.load(address(account), laptopSlot), first);
    }

    /// @dev Attack: `onInstall` called directly, by an address that has not installed the validator (e.g. an account
    /// whose session calls it, or one that uninstalled the validator), registers nothing: a key left behind the
    /// account's back would sign for it, as the account calls this validator without reading its installed flag.
    function test_attack_onInstallWithoutInstallingIsRefused() public {
        vm.assertTrue(validator.isInstallBound());
        Passkey memory mallory = makePasskey("mallory");
        bytes memory data = abi.encode(mallory.credentialId, mallory.x, mallory.y, RP_ID, ORIGIN);
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IWebAuthnValidator.NotInstalled.selector, stranger));
        validator.onInstall(data);

        // An account that uninstalled the validator (another validator signs for it).
        MockModule other = new MockModule(1);
        bytes[] memory ids = new bytes[](1);
        ids[0] = key.credentialId;
        vm.startPrank(address(account));
        account.installModule(1, address(other), "");
        account.uninstallModule(1, address(validator), abi.encode(ids));
        vm.expectRevert(abi.encodeWithSelector(IWebAuthnValidator.NotInstalled.selector, address(account)));
        validator.onInstall(data);
        vm.stopPrank();
        vm.assertEq(validator.passkeyCommitment(address(account), mallory.credentialId), bytes32(0));

        // Its passkey's userOps fail, the validator being called without the account's installed flag.
        PackedUserOperation memory op =
            buildUserOp(address(account), address(validator), singleCall(makeAddr("to"), 0, ""));
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        op.signature = signWebAuthn(key, hash);
        vm.prank(address(ENTRYPOINT));
        vm.assertEq(account.validateUserOp(op, hash, 0), 1);
    }

    function test_removePasskey_revertsWhenUnknown() public {
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                IWebAuthnValidator.PasskeyNotRegistered.selector, address(account), laptop.credentialId
            )
        );
        validator.removePasskey(laptop.credentialId);
    }

    function test_accountsOf_listsProvenHoldersOnce() public {
        // The first passkey is not listed: its account is the factory's address for it.
        vm.assertEq(accountsOf(key).length, 0);

        // The same passkey joins a second account of its owner, with a proof: listed.
        SsoAccount second = createAccount(makePasskey("alice work"));
        bytes memory proof4 = registrationProof(key, address(second));
        vm.prank(address(second));
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, proof4);
        address[] memory accounts = accountsOf(key);
        vm.assertEq(accounts.length, 1);
        vm.assertEq(accounts[0], address(second));

        // Removed: not listed; re-added with a fresh proof: listed once.
        vm.prank(address(second));
        validator.removePasskey(key.credentialId);
        vm.assertEq(accountsOf(key).length, 0);
        bytes memory again = registrationProof(key, address(second));
        vm.prank(address(second));
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, again);
        vm.assertEq(accountsOf(key).length, 1);
    }

    /// @dev Attack: a removed passkey comes back with the proof it signed before (public in the calldata of the
    /// first addPasskey). The removal moved the registration nonce on: the old proof no longer holds.
    function test_attack_removedPasskeyCannotReturnWithAnOldProof() public {
        bytes memory old = registrationProof(laptop, address(account));
        _add(laptop);
        vm.assertEq(validator.registrationNonce(address(account), laptop.credentialId), 0);
        vm.prank(address(account));
        validator.removePasskey(laptop.credentialId);
        vm.assertEq(validator.registrationNonce(address(account), laptop.credentialId), 1);
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                IWebAuthnValidator.InvalidPasskeyProof.selector, address(account), laptop.credentialId
            )
        );
        validator.addPasskey(laptop.credentialId, laptop.x, laptop.y, RP_ID, ORIGIN, old);
        vm.assertEq(validator.passkeyCount(address(account)), 1);
        // The passkey's holder signs again: it joins.
        _add(laptop);
        vm.assertEq(validator.passkeyCount(address(account)), 2);
    }

    /// @dev Attack: a stranger fills the victim's list with registrations of the victim's credential id under the
    /// stranger's own key (each with a valid proof by that key). The lists are keyed by the key: the victim's list
    /// stays empty, and the victim's own account still joins.
    function test_attack_strangerCannotFillTheVictimsList() public {
        Passkey memory mallory = makePasskey("mallory");
        mallory.credentialId = key.credentialId;
        for (uint256 i = 0; i < validator.MAX_ACCOUNTS_PER_CREDENTIAL(); ++i) {
            address junk = _junk(0xbad000 + i);
            bytes memory proof = registrationProof(mallory, junk);
            vm.prank(junk);
            validator.onInstall(abi.encode(mallory.credentialId, mallory.x, mallory.y, RP_ID, ORIGIN, proof));
        }
        vm.assertEq(accountsOf(key).length, 0);
        SsoAccount second = createAccount(makePasskey("alice work"));
        bytes memory genuine = registrationProof(key, address(second));
        vm.prank(address(second));
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, genuine);
        address[] memory accounts = accountsOf(key);
        vm.assertEq(accounts.length, 1);
        vm.assertEq(accounts[0], address(second));
    }

    /// @dev Attack: an account in the list turns hostile (its code burns all gas it is given, or answers a huge
    /// return value): the lookup gives it bounded gas, skips it and still answers with the others.
    function test_attack_hostileListedAccountCannotBreakTheLookup() public {
        SsoAccount second = createAccount(makePasskey("alice work"));
        SsoAccount third = createAccount(makePasskey("alice home"));
        SsoAccount fourth = createAccount(makePasskey("alice phone"));
        SsoAccount[3] memory joined = [second, third, fourth];
        for (uint256 i = 0; i < 3; ++i) {
            bytes memory proof = registrationProof(key, address(joined[i]));
            vm.prank(address(joined[i]));
            validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, proof);
        }
        vm.etch(address(second), hex"5b600056"); // JUMPDEST PUSH1 0 JUMP: burns all its gas
        vm.etch(address(third), hex"6001600052620f42406000f3"); // returns 1,000,000 bytes starting with 1
        uint256 before = gasleft();
        address[] memory accounts = validator.accountsOf{gas: 1_000_000}(key.credentialId, key.x, key.y, RP_ID, ORIGIN);
        uint256 cost = before - gasleft();
        vm.assertEq(accounts.length, 1);
        vm.assertEq(accounts[0], address(fourth));
        vm.assertLe(cost, 150_000);
    }

    /// @dev Attack: an attacker's own SSO account adds the victim's public credential (id and key are public
    /// after one use) so that the victim's log-in lands on it. Without the victim's assertion it can't.
    function test_attack_attackerAccountCannotAddVictimCredential() public {
        Passkey memory mallory = makePasskey("mallory");
        SsoAccount attacker = createAccount(mallory);
        bytes memory ownProof = registrationProof(mallory, address(attacker));
        bytes memory victimProofForItsAccount = registrationProof(key, address(account));
        bytes memory victimProofForAttacker = registrationProof(key, address(attacker));
        vm.startPrank(address(attacker));
        // No proof, a proof by the attacker's own key, and the victim's proof for another account: all refused.
        vm.expectRevert(
            abi.encodeWithSelector(IWebAuthnValidator.InvalidPasskeyProof.selector, address(attacker), key.credentialId)
        );
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, "");
        vm.expectRevert(
            abi.encodeWithSelector(IWebAuthnValidator.InvalidPasskeyProof.selector, address(attacker), key.credentialId)
        );
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, ownProof);
        vm.expectRevert(
            abi.encodeWithSelector(IWebAuthnValidator.InvalidPasskeyProof.selector, address(attacker), key.credentialId)
        );
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, victimProofForItsAccount);
        // The victim's proof presented under another credential id.
        vm.expectRevert(
            abi.encodeWithSelector(IWebAuthnValidator.InvalidPasskeyProof.selector, address(attacker), hex"beef")
        );
        validator.addPasskey(hex"beef", key.x, key.y, RP_ID, ORIGIN, victimProofForAttacker);
        vm.stopPrank();
        vm.assertEq(accountsOf(key).length, 0);
        vm.assertFalse(validator.hasPasskey(address(attacker), key.credentialId, key.x, key.y, RP_ID, ORIGIN));
    }

    /// @dev Attack: re-installing the validator with the victim's credential as init data (no proof): registered
    /// as Installed only, never listed by accountsOf (log-in trusts Installed only at the factory's address).
    function test_attack_reinstallWithVictimCredentialIsNotProven() public {
        Passkey memory mallory = makePasskey("mallory");
        SsoAccount attacker = createAccount(mallory);
        bytes memory ownProof = registrationProof(mallory, address(attacker));
        bytes memory victimProofForItsAccount = registrationProof(key, address(account));
        bytes memory victimProofForAttacker = registrationProof(key, address(attacker));
        vm.startPrank(address(attacker));
        attacker.installModule(1, address(new MockModule(1)), "");
        bytes[] memory ids = new bytes[](1);
        ids[0] = mallory.credentialId;
        attacker.uninstallModule(1, address(validator), abi.encode(ids));
        attacker.installModule(1, address(validator), abi.encode(key.credentialId, key.x, key.y, RP_ID, ORIGIN));
        vm.stopPrank();
        vm.assertEq(
            uint8(validator.passkeyState(address(attacker), key.credentialId, key.x, key.y, RP_ID, ORIGIN)),
            uint8(IWebAuthnValidator.PasskeyState.Installed)
        );
        vm.assertEq(accountsOf(key).length, 0);
        vm.assertTrue(factory.getAddress(key.credentialId, key.x, key.y, RP_ID, ORIGIN) != address(attacker));
    }

    /// @dev Installing with a proof (sixth init member) registers the passkey as Proven and lists the account.
    function test_onInstall_withProof() public {
        SsoAccount other = createAccount(makePasskey("bob"));
        vm.startPrank(address(other));
        other.installModule(1, address(new MockModule(1)), "");
        bytes[] memory ids = new bytes[](1);
        ids[0] = makePasskey("bob").credentialId;
        other.uninstallModule(1, address(validator), abi.encode(ids));
        bytes memory proof = registrationProof(key, address(other));
        other.installModule(1, address(validator), abi.encode(key.credentialId, key.x, key.y, RP_ID, ORIGIN, proof));
        vm.stopPrank();
        vm.assertEq(
            uint8(validator.passkeyState(address(other), key.credentialId, key.x, key.y, RP_ID, ORIGIN)),
            uint8(IWebAuthnValidator.PasskeyState.Proven)
        );
        vm.assertEq(accountsOf(key)[0], address(other));
    }

    /// @dev Attack: 1,000 junk registrations of the victim's credential by contracts of the attacker (that say the
    /// validator is installed on them): none is listed, and the lookup's cost does not move.
    function test_attack_junkRegistrationsDoNotGrowTheLookup() public {
        SsoAccount second = createAccount(makePasskey("alice work"));
        bytes memory proof5 = registrationProof(key, address(second));
        vm.prank(address(second));
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, proof5);
        uint256 cleanCost = this.lookupGas(key);
        // 1,000 registrations of the victim's credential and key without a proof, and a full list of proven ones
        // of the victim's credential id under the attacker's key.
        for (uint256 i = 0; i < 1000; ++i) {
            vm.prank(_junk(0xbad0000 + i));
            validator.onInstall(abi.encode(key.credentialId, key.x, key.y, RP_ID, ORIGIN));
        }
        Passkey memory mallory = makePasskey("mallory");
        mallory.credentialId = key.credentialId;
        for (uint256 i = 0; i < validator.MAX_ACCOUNTS_PER_CREDENTIAL(); ++i) {
            address junk = _junk(0xbad1000 + i);
            bytes memory proof = registrationProof(mallory, junk);
            vm.prank(junk);
            validator.onInstall(abi.encode(mallory.credentialId, mallory.x, mallory.y, RP_ID, ORIGIN, proof));
        }
        uint256 junkCost = this.lookupGas(key);
        address[] memory accounts = accountsOf(key);
        vm.assertEq(accounts.length, 1);
        vm.assertEq(accounts[0], address(second));
        // The same cost (cold or warm slots aside); one listed account costs ~9,000 gas to read.
        vm.assertLe(junkCost, cleanCost + 100);
        vm.assertLe(junkCost, 12_000);
    }

    /// @dev Gas of one accountsOf call, measured in a fresh call frame (no memory of the test's own).
    function lookupGas(Passkey memory k) external view returns (uint256 cost) {
        uint256 before = gasleft();
        validator.accountsOf(k.credentialId, k.x, k.y, k.rpId, k.origin);
        cost = before - gasleft();
    }

    function test_accountsOf_boundedPerCredential() public {
        for (uint256 i = 0; i < validator.MAX_ACCOUNTS_PER_CREDENTIAL(); ++i) {
            SsoAccount a = createAccount(makePasskey(string(abi.encode(i))));
            bytes memory proof6 = registrationProof(key, address(a));
            vm.prank(address(a));
            validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, proof6);
        }
        SsoAccount last = createAccount(makePasskey("one too many"));
        bytes memory proof7 = registrationProof(key, address(last));
        vm.prank(address(last));
        vm.expectRevert(abi.encodeWithSelector(IWebAuthnValidator.TooManyAccounts.selector, key.credentialId));
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, proof7);
        address[] memory full = accountsOf(key);
        vm.assertEq(full.length, validator.MAX_ACCOUNTS_PER_CREDENTIAL());

        // Accounts the passkey left no longer count: the list makes room, oldest survivors first.
        vm.prank(full[3]);
        validator.removePasskey(key.credentialId);
        vm.prank(address(last));
        validator.addPasskey(key.credentialId, key.x, key.y, RP_ID, ORIGIN, proof7);
        address[] memory after_ = accountsOf(key);
        vm.assertEq(after_.length, validator.MAX_ACCOUNTS_PER_CREDENTIAL());
        vm.assertEq(after_[3], full[4]);
        vm.assertEq(after_[after_.length - 1], address(last));
    }

    function test_registrationChallenge_isChainIndependent() public {
        bytes32 challenge = validator.registrationChallenge(address(account), laptop.credentialId);
        vm.chainId(8453);
        vm.assertEq(validator.registrationChallenge(address(account), laptop.credentialId), challenge);
        vm.assertEq(
            challenge,
            keccak256(
                abi.encode(
                    validator.REGISTRATION_TYPEHASH(),
                    address(validator),
                    address(account),
                    keccak256(laptop.credentialId),
                    uint256(0)
                )
            )
        );
        vm.assertTrue(challenge != validator.registrationChallenge(address(account), key.credentialId));
        // The test helper signs exactly this challenge.
        bytes memory proof = registrationProof(laptop, address(account));
        vm.assertTrue(validator.verifyWithKey(laptop.x, laptop.y, RP_ID, ORIGIN, challenge, proof));
    }

    function test_onUninstall_mustClearEveryKey() public {
        _add(laptop);
        bytes[] memory ids = new bytes[](1);
        ids[0] = key.credentialId;
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(IWebAuthnValidator.PasskeysRemaining.selector, address(account), 1));
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
