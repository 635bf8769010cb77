// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {WebAuthn} from "@openzeppelin/contracts/utils/cryptography/WebAuthn.sol";

/// @notice clientDataJSON as real browsers serialise it: members in any order, Android's escaped slashes and
/// extra members, Chrome's `other_keys_can_be_added_here`; cross-origin assertions and smuggled members refused;
/// and agreement with OpenZeppelin's WebAuthn verification.
contract WebAuthnValidatorClientDataTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    bytes32 internal constant HASH = keccak256("a userOp hash");
    string internal constant CHROME_EXTRA =
        "do not compare clientDataJSON against a template. See https://goo.gl/yabPex";

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
    }

    function _challenge(bytes32 hash) internal pure returns (string memory) {
        return Base64.encodeURL(abi.encodePacked(hash));
    }

    function _authenticatorData(bytes1 flags) internal pure returns (bytes memory) {
        return abi.encodePacked(sha256(bytes(RP_ID)), flags, uint32(7));
    }

    /// @dev Signs `json` and checks it with `members` (both paths of the validator must agree).
    function _check(bytes memory json, bytes memory members) internal returns (bool) {
        bytes memory signature = signClientData(key, _authenticatorData(0x05), json, members, false);
        bool valid = validator.verify(address(account), HASH, signature);
        vm.prank(address(account));
        bytes4 magic = validator.isValidSignatureWithSender(address(this), HASH, signature);
        vm.assertEq(valid, magic == bytes4(0x1626ba7e), "verify and ERC-1271 disagree");
        return valid;
    }

    function _type() internal pure returns (bytes memory) {
        return '"type":"webauthn.get"';
    }

    function _challengeMember() internal pure returns (bytes memory) {
        return abi.encodePacked('"challenge":"', _challenge(HASH), '"');
    }

    function _origin() internal pure returns (bytes memory) {
        return abi.encodePacked('"origin":"', ORIGIN, '"');
    }

    function test_browserOrder() public {
        bytes memory json =
            abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), ',"crossOrigin":false}');
        vm.assertTrue(_check(json, clientDataMembers(defaultAssertion(key, HASH))));
    }

    function test_membersInAnyOrder() public {
        // Challenge first, origin, then type; no crossOrigin member at all.
        bytes memory json = abi.encodePacked("{", _challengeMember(), ",", _origin(), ",", _type(), "}");
        vm.assertTrue(_check(json, abi.encodePacked(MEMBER_CHALLENGE, memberOrigin(ORIGIN), MEMBER_TYPE)));
        // The same text described in another order does not rebuild it.
        vm.assertFalse(_check(json, abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN))));
    }

    function test_androidEscapedSlashesAndPackageName() public {
        bytes memory json = abi.encodePacked(
            "{",
            _type(),
            ",",
            _challengeMember(),
            ',"origin":"http:\\/\\/localhost:3002","androidPackageName":"com.android.chrome"}'
        );
        bytes memory members = abi.encodePacked(
            MEMBER_TYPE,
            MEMBER_CHALLENGE,
            memberEscapedOrigin(ORIGIN),
            memberString("androidPackageName", "com.android.chrome")
        );
        vm.assertTrue(_check(json, members));
        // Claiming the unescaped origin does not rebuild the signed text.
        members = abi.encodePacked(
            MEMBER_TYPE,
            MEMBER_CHALLENGE,
            memberOrigin(ORIGIN),
            memberString("androidPackageName", "com.android.chrome")
        );
        vm.assertFalse(_check(json, members));
    }

    function test_chromeExtraMember() public {
        bytes memory json = abi.encodePacked(
            "{",
            _type(),
            ",",
            _challengeMember(),
            ",",
            _origin(),
            ',"crossOrigin":false,"other_keys_can_be_added_here":"',
            CHROME_EXTRA,
            '"}'
        );
        bytes memory members = abi.encodePacked(
            clientDataMembers(defaultAssertion(key, HASH)), memberString("other_keys_can_be_added_here", CHROME_EXTRA)
        );
        vm.assertTrue(_check(json, members));
    }

    /// @dev Attack: an assertion made in a cross-origin iframe (clickjacking of the approval page).
    function test_attack_crossOriginTrueNeverVerifies() public {
        bytes memory json =
            abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), ',"crossOrigin":true}');
        vm.assertFalse(_check(json, clientDataMembers(defaultAssertion(key, HASH))));
        // As a string member: the key is reserved (and the text differs from the boolean anyway).
        bytes memory members =
            abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), memberString("crossOrigin", "true"));
        bytes memory quoted =
            abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), ',"crossOrigin":"true"}');
        vm.assertFalse(_check(quoted, members));
    }

    /// @dev Attack: verifyWithKey takes the origin from its caller. An "origin" that carries quotes would smuggle
    /// `"crossOrigin":true,"topOrigin":…` into the rebuilt text; such an origin can never be registered, and
    /// verifyWithKey refuses it too.
    function test_attack_framedAssertionThroughACallerChosenOrigin() public view {
        string memory origin = string(
            abi.encodePacked(
                ORIGIN, '","crossOrigin":true,"topOrigin":"https://evil.example","other_keys_can_be_added_here":"x'
            )
        );
        bytes memory json = abi.encodePacked("{", _type(), ",", _challengeMember(), ',"origin":"', origin, '"}');
        bytes memory members = abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(origin));
        bytes memory signature = signClientData(key, _authenticatorData(0x05), json, members, false);
        vm.assertFalse(validator.verifyWithKey(key.x, key.y, RP_ID, origin, HASH, signature));
        // Control: the plain origin and its genuine (not framed) assertion verify.
        bytes memory genuine = signClientData(
            key,
            _authenticatorData(0x05),
            abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), "}"),
            abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN)),
            false
        );
        vm.assertTrue(validator.verifyWithKey(key.x, key.y, RP_ID, ORIGIN, HASH, genuine));
    }

    /// @dev Attack: a topOrigin member rebuilt exactly by a string member is still refused (reserved key).
    function test_attack_topOriginRefused() public {
        bytes memory json = abi.encodePacked(
            "{", _type(), ",", _challengeMember(), ",", _origin(), ',"topOrigin":"https://evil.example"}'
        );
        bytes memory members = abi.encodePacked(
            MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), memberString("topOrigin", "https://evil.example")
        );
        vm.assertFalse(_check(json, members));
        // Control: the same shape under a key that is not reserved verifies.
        json = abi.encodePacked(
            "{", _type(), ",", _challengeMember(), ",", _origin(), ',"topOriginX":"https://evil.example"}'
        );
        members = abi.encodePacked(
            MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), memberString("topOriginX", "https://evil.example")
        );
        vm.assertTrue(_check(json, members));
    }

    /// @dev Attack: every reserved key as a string member, rebuilding the signed text exactly.
    function test_attack_reservedKeysAsStringMembers() public {
        string[5] memory keys = ["type", "challenge", "origin", "crossOrigin", "topOrigin"];
        for (uint256 i = 0; i < keys.length; ++i) {
            bytes memory json =
                abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), ',"', keys[i], '":"x"}');
            bytes memory members =
                abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), memberString(keys[i], "x"));
            vm.assertFalse(_check(json, members), keys[i]);
        }
    }

    /// @dev Attack: a string member whose value carries quotes smuggles `"crossOrigin":true` into the text.
    function test_attack_quotesOrBackslashesInStringMembers() public {
        string memory smuggled = 'b","crossOrigin":true,"c":"d';
        bytes memory json =
            abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), ',"a":"', smuggled, '"}');
        bytes memory members =
            abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), memberString("a", smuggled));
        vm.assertFalse(_check(json, members));
        // A quote in the key, a backslash anywhere (also past the first 32 bytes of a long value).
        json = abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), ',"a"":"b"}');
        members = abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), memberString('a"', "b"));
        vm.assertFalse(_check(json, members));
        string memory longValue = "0123456789012345678901234567890123456789\\n";
        json = abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), ',"a":"', longValue, '"}');
        members = abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), memberString("a", longValue));
        vm.assertFalse(_check(json, members));
    }

    function test_invalid_memberLists() public {
        bytes memory json = abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), "}");
        vm.assertTrue(_check(json, abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN))));
        bytes[6] memory bad = [
            bytes(""),
            abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE),
            abi.encodePacked(MEMBER_CHALLENGE, memberOrigin(ORIGIN)),
            abi.encodePacked(MEMBER_TYPE, memberOrigin(ORIGIN)),
            abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), bytes1(0x07)),
            abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), bytes1(0x03), uint8(200))
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.assertFalse(_check(json, bad[i]), vm.toString(i));
        }
        // Duplicates, even when the text they rebuild is what was signed.
        json = abi.encodePacked("{", _type(), ",", _type(), ",", _challengeMember(), ",", _origin(), "}");
        vm.assertFalse(_check(json, abi.encodePacked(MEMBER_TYPE, MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN))));
        json = abi.encodePacked("{", _type(), ",", _challengeMember(), ",", _origin(), ",", _origin(), "}");
        vm.assertFalse(
            _check(json, abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(ORIGIN), memberOrigin(ORIGIN)))
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // Differential: the same verdict as OpenZeppelin's WebAuthn.verify (requireUV) whenever origin and rpId are
    // the registered ones, for any member order, extra member, flags, s half and challenge.
    // --------------------------------------------------------------------------------------------------------

    struct Case {
        bytes json;
        bytes members;
        uint256 typeIndex;
        uint256 challengeIndex;
    }

    function _case(bytes32 hash, uint256 order, bool crossOriginMember, bool extraMember)
        internal
        pure
        returns (Case memory c)
    {
        bytes[4] memory texts;
        bytes[4] memory lists;
        texts[0] = _type();
        lists[0] = abi.encodePacked(MEMBER_TYPE);
        texts[1] = abi.encodePacked('"challenge":"', _challenge(hash), '"');
        lists[1] = abi.encodePacked(MEMBER_CHALLENGE);
        texts[2] = _origin();
        lists[2] = memberOrigin(ORIGIN);
        texts[3] = extraMember ? bytes('"androidPackageName":"com.android.chrome"') : bytes("");
        lists[3] = extraMember ? memberString("androidPackageName", "com.android.chrome") : bytes("");
        // One of the 24 orders of the four members (the fourth may be empty, i.e. absent).
        uint256[4] memory perm = [uint256(0), 1, 2, 3];
        for (uint256 i = 4; i > 1; --i) {
            uint256 j = order % i;
            order /= i;
            (perm[i - 1], perm[j]) = (perm[j], perm[i - 1]);
        }
        c.json = "{";
        for (uint256 k = 0; k < 4; ++k) {
            uint256 m = perm[k];
            if (texts[m].length == 0) continue;
            if (c.json.length > 1) c.json = abi.encodePacked(c.json, ",");
            if (m == 0) c.typeIndex = c.json.length;
            if (m == 1) c.challengeIndex = c.json.length;
            c.json = abi.encodePacked(c.json, texts[m]);
            c.members = abi.encodePacked(c.members, lists[m]);
        }
        if (crossOriginMember) {
            c.json = abi.encodePacked(c.json, ',"crossOrigin":false');
            c.members = abi.encodePacked(c.members, MEMBER_CROSS_ORIGIN_FALSE);
        }
        c.json = abi.encodePacked(c.json, "}");
    }

    function testFuzz_agreesWithOpenZeppelin(
        bytes32 hash,
        bytes32 claimedHash,
        uint256 order,
        bool crossOriginMember,
        bool extraMember,
        uint8 flags,
        bool highS
    ) public view {
        if (uint256(claimedHash) % 2 == 0) claimedHash = hash; // half the runs with the right challenge
        Case memory c = _case(hash, order, crossOriginMember, extraMember);
        bytes memory authenticatorData = _authenticatorData(bytes1(flags));
        bytes memory signature = signClientData(key, authenticatorData, c.json, c.members, highS);
        (bytes32 r, bytes32 s) = signatureRS(signature);

        bool ours = validator.verifyWithKey(key.x, key.y, RP_ID, ORIGIN, claimedHash, signature);
        WebAuthn.WebAuthnAuth memory auth = WebAuthn.WebAuthnAuth({
            r: r,
            s: s,
            challengeIndex: c.challengeIndex,
            typeIndex: c.typeIndex,
            authenticatorData: authenticatorData,
            clientDataJSON: string(c.json)
        });
        bool theirs = WebAuthn.verify(abi.encodePacked(claimedHash), auth, key.x, key.y, true);
        vm.assertEq(ours, theirs, string(c.json));
        // And the verdict is the expected one.
        bool expected =
            claimedHash == hash && !highS && flags & 0x05 == 0x05 && (flags & 0x10 == 0 || flags & 0x08 != 0);
        vm.assertEq(ours, expected);
    }

    /// @dev Without the P-256 precompile (chains before RIP-7212 / EIP-7951) OpenZeppelin's Solidity fallback
    /// gives the same verdicts.
    function test_solidityFallbackWithoutPrecompile() public {
        bytes memory good = signWebAuthn(key, HASH);
        Assertion memory a = defaultAssertion(key, HASH);
        a.highS = true;
        bytes memory highS = signAssertion(key, a);
        bytes memory otherHash = signWebAuthn(key, keccak256("other"));
        uint256 before = gasleft();
        vm.assertTrue(validator.verify(address(account), HASH, good));
        uint256 withPrecompile = before - gasleft();

        // The precompile now answers nothing (as where it does not exist): the Solidity fallback runs.
        vm.mockCall(address(0x100), bytes(""), bytes(""));
        before = gasleft();
        vm.assertTrue(validator.verify(address(account), HASH, good));
        uint256 withoutPrecompile = before - gasleft();
        vm.assertFalse(validator.verify(address(account), HASH, highS));
        vm.assertFalse(validator.verify(address(account), HASH, otherHash));
        vm.assertGt(withoutPrecompile, withPrecompile + 100_000);
    }
}
