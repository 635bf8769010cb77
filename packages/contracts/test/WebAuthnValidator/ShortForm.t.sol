// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";

/// @notice The short form of the packed WebAuthn signature (docs/webauthn.md, "The short form"): the format byte,
/// signCount, the rpId's position and the origin without its scheme, from which the validator rebuilds the 37-byte
/// authenticatorData and the exact clientDataJSON. Every bit is bound: a signature whose format byte says anything
/// else than what the passkey signed does not verify.
contract WebAuthnValidatorShortFormTest is SsoTest {
    bytes32 internal constant HASH = keccak256("a userOp hash");

    /// @dev What a browser signed, in the fields the short form carries.
    struct Signed {
        bool crossOrigin;
        bytes1 flags;
        uint32 signCount;
    }

    function _account(string memory origin, string memory rpId) internal returns (Passkey memory key) {
        key = makePasskey(origin);
        key.origin = origin;
        key.rpId = rpId;
        createAccount(key);
    }

    function _accountOf(Passkey memory key) internal view returns (address) {
        return address(factory.getAddress(key.credentialId, key.x, key.y, key.rpId, key.origin));
    }

    function _isValid(Passkey memory key, bytes memory signature) internal returns (bool) {
        address account = _accountOf(key);
        bool valid = validator.verify(account, HASH, signature);
        vm.prank(account);
        bytes4 magic = validator.isValidSignatureWithSender(address(this), HASH, signature);
        vm.assertEq(valid, magic == bytes4(0x1626ba7e), "verify and ERC-1271 disagree");
        return valid;
    }

    /// @dev Signs what the browser makes of `signed` for `key` and sends the short form tail `tail`.
    function _sign(Passkey memory key, Signed memory signed, bytes memory tail) internal pure returns (bytes memory) {
        bytes memory authenticatorData = abi.encodePacked(sha256(bytes(key.rpId)), signed.flags, signed.signCount);
        bytes memory json = abi.encodePacked(
            '{"type":"webauthn.get","challenge":"',
            Base64.encodeURL(abi.encodePacked(HASH)),
            '","origin":"',
            key.origin,
            signed.crossOrigin ? '","crossOrigin":false}' : '"}'
        );
        return signShortForm(key, authenticatorData, json, false, tail);
    }

    function test_devnetShape_verifies() public {
        Passkey memory key = _account("http://localhost:3002", "localhost");
        // short, crossOrigin, http, rpId = the 9 bytes before the port, flags 0x05, signCount in one byte
        bytes memory signature =
            _sign(key, Signed(true, 0x05, 5), abi.encodePacked(hex"e9", hex"05", hex"09", "localhost:3002"));
        vm.assertEq(signature.length, 132 + 1 + 1 + 1 + 14);
        vm.assertTrue(_isValid(key, signature));
    }

    function test_syncedPasskeyOfItsHost_verifies() public {
        Passkey memory key = _account("https://auth.example.com", "auth.example.com");
        // short, crossOrigin, https, rpId = the whole text, flags 0x1d, signCount 0: the format byte and the host
        bytes memory signature = _sign(key, Signed(true, 0x1d, 0), abi.encodePacked(hex"c4", "auth.example.com"));
        vm.assertEq(signature.length, 132 + 1 + 16);
        vm.assertTrue(_isValid(key, signature));
    }

    function test_safariShapeWithoutCrossOrigin_verifies() public {
        Passkey memory key = _account("https://auth.example.com", "auth.example.com");
        vm.assertTrue(_isValid(key, _sign(key, Signed(false, 0x1d, 0), abi.encodePacked(hex"84", "auth.example.com"))));
    }

    function test_rpIdSuffixOfTheHost_verifies() public {
        Passkey memory key = _account("https://auth.example.com:8443", "example.com");
        // rpId "example.com" at 13 for 11 bytes
        vm.assertTrue(
            _isValid(
                key, _sign(key, Signed(true, 0x05, 0), abi.encodePacked(hex"d0", hex"0d0b", "auth.example.com:8443"))
            )
        );
    }

    function test_everySignCountWidth_verifies() public {
        Passkey memory key = _account("https://example.com", "example.com");
        vm.assertTrue(_isValid(key, _sign(key, Signed(true, 0x05, 0), abi.encodePacked(hex"c0", "example.com"))));
        vm.assertTrue(
            _isValid(key, _sign(key, Signed(true, 0x05, 200), abi.encodePacked(hex"c1", uint8(200), "example.com")))
        );
        vm.assertTrue(
            _isValid(
                key, _sign(key, Signed(true, 0x05, 40_000), abi.encodePacked(hex"c2", uint16(40_000), "example.com"))
            )
        );
        vm.assertTrue(
            _isValid(
                key,
                _sign(key, Signed(true, 0x05, 0x01020304), abi.encodePacked(hex"c3", uint32(0x01020304), "example.com"))
            )
        );
        // a counter sent wider than needed is the same counter
        vm.assertTrue(
            _isValid(key, _sign(key, Signed(true, 0x05, 200), abi.encodePacked(hex"c3", uint32(200), "example.com")))
        );
    }

    function testFuzz_onlyTheFormatSignedVerifies(uint8 format) public {
        Passkey memory key = _account("http://localhost:3002", "localhost");
        vm.assume(format != 0xe9);
        // the other rpId forms name "localhost" too when the format asks for them: give them what they read
        bytes memory tail = abi.encodePacked(format, hex"05", hex"09", "localhost:3002");
        vm.assertFalse(_isValid(key, _sign(key, Signed(true, 0x05, 5), tail)));
    }

    function test_flippedBits_refused() public {
        Passkey memory key = _account("http://localhost:3002", "localhost");
        Signed memory signed = Signed(true, 0x05, 5);
        bytes memory good = abi.encodePacked(hex"e9", hex"05", hex"09", "localhost:3002");
        vm.assertTrue(_isValid(key, _sign(key, signed, good)));
        // crossOrigin, scheme, flags: each one flipped is another text or other bytes than the passkey signed
        for (uint256 bit = 0; bit < 3; ++bit) {
            bytes memory tail = bytes.concat(good);
            tail[0] = bytes1(uint8(tail[0]) ^ [uint8(0x40), 0x20, 0x04][bit]);
            vm.assertFalse(_isValid(key, _sign(key, signed, tail)), "a flipped bit verified");
        }
        // another counter, another rpId length
        vm.assertFalse(_isValid(key, _sign(key, signed, abi.encodePacked(hex"e9", hex"06", hex"09", "localhost:3002"))));
        vm.assertFalse(_isValid(key, _sign(key, signed, abi.encodePacked(hex"e9", hex"05", hex"08", "localhost:3002"))));
        // another origin text
        vm.assertFalse(_isValid(key, _sign(key, signed, abi.encodePacked(hex"e9", hex"05", hex"09", "localhost:3003"))));
    }

    function test_malformed_refused() public {
        Passkey memory key = _account("http://localhost:3002", "localhost");
        Signed memory signed = Signed(true, 0x05, 5);
        // rpId form 3; no text; an empty rpId; a range that leaves the origin (7 + 15 > 21)
        vm.assertFalse(_isValid(key, _sign(key, signed, abi.encodePacked(hex"f9", hex"05", hex"09", "localhost:3002"))));
        vm.assertFalse(_isValid(key, _sign(key, signed, abi.encodePacked(hex"e9", hex"05", hex"09"))));
        vm.assertFalse(_isValid(key, _sign(key, signed, abi.encodePacked(hex"e9", hex"05", hex"00", "localhost:3002"))));
        vm.assertFalse(_isValid(key, _sign(key, signed, abi.encodePacked(hex"e9", hex"05", hex"0f", "localhost:3002"))));
        vm.assertFalse(
            _isValid(key, _sign(key, signed, abi.encodePacked(hex"f1", hex"05", hex"0710", "localhost:3002")))
        );
        // the head alone, and one byte after it
        bytes memory signature = _sign(key, signed, abi.encodePacked(hex"e9", hex"05", hex"09", "localhost:3002"));
        vm.assertFalse(_isValid(key, sliceBytes(signature, 0, 132)));
        vm.assertFalse(_isValid(key, sliceBytes(signature, 0, 133)));
    }

    function test_userOpWithTheShortForm() public {
        Passkey memory key = makePasskey("alice");
        SsoAccount account = createAccount(key);
        address payable recipient = payable(makeAddr("recipient"));
        PackedUserOperation memory op =
            buildUserOp(address(account), address(validator), singleCall(recipient, 1 ether, ""));
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        vm.assertEq(uint8(op.signature[0x84]), 0xe9, "signWebAuthn sends the short form");
        vm.assertEq(op.signature.length, 132 + 1 + 1 + 1 + 14);
        handleOp(op);
        vm.assertEq(recipient.balance, 1 ether);
    }
}
