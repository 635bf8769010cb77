// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";

/// @notice The compact authenticatorData forms (docs/webauthn.md): `rpIdStart ‖ rpIdLength ‖ flags` and the same
/// with `signCount`, from which the validator rebuilds the 37 bytes the authenticator signed. Every field that is
/// sent or rebuilt is bound: a changed range, flag or counter does not verify.
contract WebAuthnValidatorCompactAuthenticatorDataTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    bytes32 internal constant HASH = keccak256("a userOp hash");

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
    }

    function _isValid(bytes memory signature) internal returns (bool) {
        bool valid = validator.verify(address(account), HASH, signature);
        vm.prank(address(account));
        bytes4 magic = validator.isValidSignatureWithSender(address(this), HASH, signature);
        vm.assertEq(valid, magic == bytes4(0x1626ba7e), "verify and ERC-1271 disagree");
        return valid;
    }

    /// @dev Signs the authenticator's 37 bytes `sha256(rpId) ‖ flags ‖ signCount` and sends `sent` instead.
    function _sign(Passkey memory k, bytes1 flags, uint32 signCount, bytes memory sent)
        internal
        pure
        returns (bytes memory)
    {
        Assertion memory a = defaultAssertion(k, HASH);
        (, bytes memory json) = assertionData(a);
        bytes memory authenticatorData = abi.encodePacked(sha256(bytes(k.rpId)), flags, signCount);
        return signClientData(k, authenticatorData, json, clientDataMembers(a), false, sent);
    }

    function test_sevenByteForm_verifies() public {
        // "http://localhost:3002": the rpId "localhost" starts at 7.
        bytes memory signature = _sign(key, 0x05, 42, abi.encodePacked(uint8(7), uint8(9), bytes1(0x05), uint32(42)));
        vm.assertEq(signature.length, 0x86 + 7 + 26);
        vm.assertTrue(_isValid(signature));
    }

    function test_threeByteForm_verifiesForSignCountZero() public {
        vm.assertTrue(_isValid(_sign(key, 0x05, 0, abi.encodePacked(uint8(7), uint8(9), bytes1(0x05)))));
        // The 3-byte form means signCount 0: an authenticator that counts signed another message.
        vm.assertFalse(_isValid(_sign(key, 0x05, 1, abi.encodePacked(uint8(7), uint8(9), bytes1(0x05)))));
    }

    function test_fullFormStillVerifies() public {
        bytes memory full = abi.encodePacked(sha256(bytes(RP_ID)), bytes1(0x05), uint32(42));
        vm.assertTrue(_isValid(_sign(key, 0x05, 42, full)));
    }

    function test_tamperedRange_refused() public {
        // "localhos", "ocalhost", "localhost:", "//localhost", the whole origin
        uint8[2][5] memory ranges = [[7, 8], [8, 8], [7, 10], [5, 11], [0, 21]];
        for (uint256 i = 0; i < ranges.length; ++i) {
            bytes memory sent = abi.encodePacked(ranges[i][0], ranges[i][1], bytes1(0x05), uint32(42));
            vm.assertFalse(_isValid(_sign(key, 0x05, 42, sent)));
        }
    }

    function test_rangeOutsideTheOriginOrEmpty_refused() public {
        // Past the 21-byte origin (into the bytes that follow it in calldata), and empty.
        vm.assertFalse(_isValid(_sign(key, 0x05, 42, abi.encodePacked(uint8(13), uint8(9), bytes1(0x05), uint32(42)))));
        vm.assertFalse(
            _isValid(_sign(key, 0x05, 42, abi.encodePacked(uint8(255), uint8(255), bytes1(0x05), uint32(42))))
        );
        vm.assertFalse(_isValid(_sign(key, 0x05, 42, abi.encodePacked(uint8(7), uint8(0), bytes1(0x05), uint32(42)))));
    }

    function test_tamperedFlagsOrCounter_refused() public {
        // Flags as signed (0x05) but sent otherwise, and the other way round.
        vm.assertFalse(_isValid(_sign(key, 0x05, 42, abi.encodePacked(uint8(7), uint8(9), bytes1(0x0d), uint32(42)))));
        vm.assertFalse(_isValid(_sign(key, 0x05, 42, abi.encodePacked(uint8(7), uint8(9), bytes1(0x05), uint32(43)))));
        // Signed without user verification: refused even when sent as signed.
        vm.assertFalse(_isValid(_sign(key, 0x01, 42, abi.encodePacked(uint8(7), uint8(9), bytes1(0x01), uint32(42)))));
    }

    function test_otherShortLengths_refused() public {
        bytes memory seven = _sign(key, 0x05, 42, abi.encodePacked(uint8(7), uint8(9), bytes1(0x05), uint32(42)));
        for (uint16 length = 0; length < 37; ++length) {
            if (length == 3 || length == 7) continue;
            bytes memory signature = bytes.concat(seven);
            signature[0x84] = bytes1(uint8(length >> 8));
            signature[0x85] = bytes1(uint8(length));
            vm.assertFalse(_isValid(signature));
        }
    }

    /// @dev An rpId that is a suffix of the host (a passkey of the parent domain).
    function test_rpIdSuffixOfTheHost_verifies() public {
        Passkey memory k = makePasskey("bob");
        k.rpId = "example.com";
        k.origin = "https://auth.example.com:8443";
        SsoAccount other = SsoAccount(payable(factory.createAccount(k.credentialId, k.x, k.y, k.rpId, k.origin)));
        Assertion memory a = defaultAssertion(k, HASH);
        (bytes memory authenticatorData, bytes memory json) = assertionData(a);
        bytes memory sent = abi.encodePacked(uint8(13), uint8(11), bytes1(0x05), uint32(7));
        bytes memory signature = signClientData(k, authenticatorData, json, clientDataMembers(a), false, sent);
        vm.assertTrue(validator.verify(address(other), HASH, signature));
        // The host itself is another rpId: not this passkey's.
        sent = abi.encodePacked(uint8(8), uint8(16), bytes1(0x05), uint32(7));
        signature = signClientData(k, authenticatorData, json, clientDataMembers(a), false, sent);
        vm.assertFalse(validator.verify(address(other), HASH, signature));
    }

    /// @dev Android's escaped origin: the range indexes the origin as registered (unescaped).
    function test_escapedOrigin_verifies() public {
        Assertion memory a = defaultAssertion(key, HASH);
        (bytes memory authenticatorData,) = assertionData(a);
        bytes memory json = abi.encodePacked(
            '{"type":"webauthn.get","challenge":"',
            _challenge(HASH),
            '","origin":"http:\\/\\/localhost:3002","androidPackageName":"com.android.chrome"}'
        );
        bytes memory members = abi.encodePacked(
            MEMBER_TYPE,
            MEMBER_CHALLENGE,
            memberEscapedOrigin(ORIGIN),
            memberString("androidPackageName", "com.android.chrome")
        );
        bytes memory sent = abi.encodePacked(uint8(7), uint8(9), bytes1(0x05), uint32(7));
        vm.assertTrue(_isValid(signClientData(key, authenticatorData, json, members, false, sent)));
    }

    function testFuzz_onlyTheRpIdRangeVerifies(uint8 start, uint8 length) public {
        vm.assume(!(start == 7 && length == 9));
        bytes memory sent = abi.encodePacked(start, length, bytes1(0x05), uint32(42));
        vm.assertFalse(_isValid(_sign(key, 0x05, 42, sent)));
    }

    function test_userOpWithTheCompactForm() public {
        address payable recipient = payable(makeAddr("recipient"));
        PackedUserOperation memory op =
            buildUserOp(address(account), address(validator), singleCall(recipient, 1 ether, ""));
        Assertion memory a = defaultAssertion(key, ENTRYPOINT.getUserOpHash(op));
        (bytes memory authenticatorData, bytes memory json) = assertionData(a);
        op.signature =
            signClientData(key, authenticatorData, json, clientDataMembers(a), false, compactAuthenticatorData(key, a));
        vm.assertEq(uint8(op.signature[0x84]), 0, "the general form");
        vm.assertEq(uint8(op.signature[0x85]), 7, "the compact authenticatorData");
        handleOp(op);
        vm.assertEq(recipient.balance, 1 ether);
    }

    function _challenge(bytes32 hash) internal pure returns (string memory) {
        return Base64.encodeURL(abi.encodePacked(hash));
    }
}
