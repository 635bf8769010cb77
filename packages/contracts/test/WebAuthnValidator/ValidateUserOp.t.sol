// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

contract WebAuthnValidatorValidateUserOpTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    bytes32 internal constant HASH = keccak256("a userOp hash");

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
    }

    function _validate(bytes memory signature) internal returns (uint256) {
        PackedUserOperation memory op;
        op.sender = address(account);
        op.signature = signature;
        vm.prank(address(account));
        return validator.validateUserOp(op, HASH);
    }

    function _isValid(bytes memory signature) internal returns (bool) {
        vm.prank(address(account));
        bytes4 magic = validator.isValidSignatureWithSender(address(this), HASH, signature);
        bool viaUserOp = _validate(signature) == 0;
        vm.assertEq(viaUserOp, magic == bytes4(0x1626ba7e), "userOp and ERC-1271 paths disagree");
        vm.assertEq(viaUserOp, validator.verify(address(account), HASH, signature), "verify disagrees");
        return viaUserOp;
    }

    function test_validSignature() public {
        vm.assertTrue(_isValid(signWebAuthn(key, HASH)));
        vm.assertEq(_validate(signWebAuthn(key, HASH)), 0);
    }

    function test_invalid_wrongKey() public {
        Passkey memory mallory = makePasskey("mallory");
        // Mallory's signature presented under Alice's credential and key.
        bytes memory signature = signWebAuthn(mallory, HASH);
        Assertion memory a = defaultAssertion(key, HASH);
        (bytes memory authenticatorData,) = assertionData(a);
        (bytes32 r, bytes32 s) = signatureRS(signature);
        bytes memory forged =
            encodeSignature(keccak256(key.credentialId), key.x, key.y, r, s, authenticatorData, clientDataMembers(a));
        vm.assertFalse(_isValid(forged));
        // And with Mallory's own key under Alice's credential id: the commitment doesn't match.
        mallory.credentialId = key.credentialId;
        vm.assertFalse(_isValid(signWebAuthn(mallory, HASH)));
    }

    function test_invalid_wrongChallenge() public {
        vm.assertFalse(_isValid(signWebAuthn(key, keccak256("another hash"))));
    }

    function test_invalid_userVerificationMissing() public {
        Assertion memory a = defaultAssertion(key, HASH);
        a.flags = 0x01; // UP only
        vm.assertFalse(_isValid(signAssertion(key, a)));
    }

    function test_invalid_userPresenceMissing() public {
        Assertion memory a = defaultAssertion(key, HASH);
        a.flags = 0x04; // UV only
        vm.assertFalse(_isValid(signAssertion(key, a)));
    }

    function test_invalid_backupStateWithoutEligibility() public {
        Assertion memory a = defaultAssertion(key, HASH);
        a.flags = 0x15; // UP | UV | BS
        vm.assertFalse(_isValid(signAssertion(key, a)));
        a.flags = 0x1d; // UP | UV | BE | BS (a synced passkey)
        vm.assertTrue(_isValid(signAssertion(key, a)));
    }

    function test_invalid_highS() public {
        Assertion memory a = defaultAssertion(key, HASH);
        a.highS = true;
        vm.assertFalse(_isValid(signAssertion(key, a)));
    }

    function test_invalid_wrongType() public {
        Assertion memory a = defaultAssertion(key, HASH);
        a.type_ = "webauthn.create";
        vm.assertFalse(_isValid(signAssertion(key, a)));
    }

    function test_invalid_wrongOrigin() public {
        Assertion memory a = defaultAssertion(key, HASH);
        a.origin = "http://localhost:3003";
        vm.assertFalse(_isValid(signAssertion(key, a)));
        a.origin = "http://localhost:300";
        vm.assertFalse(_isValid(signAssertion(key, a)));
    }

    function test_invalid_originLengthLies() public {
        Assertion memory a = defaultAssertion(key, HASH);
        (bytes memory authenticatorData, bytes memory json) = assertionData(a);
        bytes memory origin = bytes(key.origin);
        vm.assertTrue(_isValid(signClientData(key, authenticatorData, json, clientDataMembers(a), false)));
        for (uint256 length = 0; length < 256; ++length) {
            if (length == origin.length) continue;
            bytes memory members = abi.encodePacked(
                MEMBER_TYPE, MEMBER_CHALLENGE, bytes1(0x03), uint8(length), origin, MEMBER_CROSS_ORIGIN_FALSE
            );
            vm.assertFalse(_isValid(signClientData(key, authenticatorData, json, members, false)));
        }
    }

    function test_invalid_wrongRpId() public {
        Assertion memory a = defaultAssertion(key, HASH);
        a.rpIdHash = sha256("evil.example");
        vm.assertFalse(_isValid(signAssertion(key, a)));
    }

    function test_invalid_unknownCredential() public {
        Passkey memory other = key;
        other.credentialId = hex"deadbeef";
        vm.assertFalse(_isValid(signWebAuthn(other, HASH)));
    }

    function test_invalid_otherAccount() public {
        // The same passkey registered on a second account: a signature checked for the first never validates
        // another hash, and a key not registered for an account never validates for it.
        SsoAccount stranger = createAccount(makePasskey("bob"));
        bytes memory signature = signWebAuthn(key, HASH);
        vm.assertFalse(validator.verify(address(stranger), HASH, signature));
        vm.prank(address(stranger));
        vm.assertEq(validator.isValidSignatureWithSender(address(this), HASH, signature), bytes4(0xffffffff));
    }

    function test_invalid_truncated() public {
        bytes memory signature = signWebAuthn(key, HASH);
        // Packed: any shorter signature must fail.
        uint256 dataEnd = signature.length;
        for (uint256 length = 0; length < dataEnd; length += 3) {
            bytes memory truncated = new bytes(length);
            for (uint256 i = 0; i < length; ++i) {
                truncated[i] = signature[i];
            }
            vm.assertFalse(_isValid(truncated), vm.toString(length));
        }
    }

    /// @dev The client's dummy sends the compact authenticatorData too: rebuilding it costs more than sending the
    /// 37 bytes, so a full-form dummy would under-estimate a compact real signature.
    function test_dummySignatureFailsCleanly() public {
        Assertion memory a = defaultAssertion(key, HASH);
        bytes32 halfN = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8;
        bytes memory dummy = encodeSignature(
            keccak256(key.credentialId),
            key.x,
            key.y,
            halfN,
            halfN,
            compactAuthenticatorData(key, a),
            clientDataMembers(a)
        );
        bytes memory real = signWebAuthn(key, HASH);
        uint256 before = gasleft();
        vm.assertEq(_validate(dummy), 1);
        uint256 dummyGas = before - gasleft();
        before = gasleft();
        vm.assertEq(_validate(real), 0);
        uint256 realGas = before - gasleft();
        vm.assertGe(dummyGas, realGas);
    }

    /// @dev The contract's base64url of the challenge agrees with OpenZeppelin's (used by the signer here).
    function testFuzz_anyHashRoundTrips(bytes32 hash) public view {
        vm.assertTrue(validator.verify(address(account), hash, signWebAuthn(key, hash)));
        vm.assertFalse(validator.verify(address(account), hash ^ bytes32(uint256(1)), signWebAuthn(key, hash)));
    }

    function test_edgeHashesRoundTrip() public view {
        bytes32[4] memory hashes =
            [bytes32(0), bytes32(type(uint256).max), bytes32(uint256(0xfbff)), bytes32(~uint256(0xfbff))];
        for (uint256 i = 0; i < hashes.length; ++i) {
            vm.assertTrue(validator.verify(address(account), hashes[i], signWebAuthn(key, hashes[i])));
        }
    }

    function testFuzz_garbageNeverReverts(bytes memory garbage) public {
        vm.assertFalse(_isValid(garbage));
    }

    function testFuzz_corruptedLengthNeverReverts(uint16 authLength) public {
        bytes memory signature = signWebAuthn(key, HASH);
        signature[0x84] = bytes1(uint8(authLength >> 8));
        signature[0x85] = bytes1(uint8(authLength));
        bool valid = _isValid(signature);
        if (valid) vm.assertEq(authLength, 7);
    }

    function testFuzz_corruptedLengthNeverReverts_full(uint16 authLength) public {
        bytes memory signature = signAssertion(key, defaultAssertion(key, HASH));
        signature[0x84] = bytes1(uint8(authLength >> 8));
        signature[0x85] = bytes1(uint8(authLength));
        bool valid = _isValid(signature);
        if (valid) vm.assertEq(authLength, 37);
    }

    function testFuzz_bitFlipInvalidates(uint256 position, uint8 bit) public {
        bytes memory signature = signWebAuthn(key, HASH);
        position = bound(position, 0, signature.length - 1);
        signature[position] = signature[position] ^ bytes1(uint8(1) << (bit % 8));
        // Packed: every byte counts.
        vm.assertFalse(_isValid(signature));
    }
}
