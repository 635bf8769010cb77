// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {MockModule} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";

/// @notice ERC-1271 through ERC-7739, with hashes computed here from the ERC text (not with the contract's helpers).
contract SsoAccountIsValidSignatureTest is SsoTest {
    bytes4 internal constant MAGIC = 0x1626ba7e;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string internal constant CONTENTS_TYPE = "Mail(address to,string contents)";

    Passkey internal key;
    SsoAccount internal account;

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
    }

    function _accountDomainSeparator(address account_) internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("SsoAccount"), keccak256("1"), block.chainid, account_));
    }

    function _personalSignHash(address account_, bytes32 hash) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(keccak256("PersonalSign(bytes prefixed)"), hash));
        return keccak256(abi.encodePacked(hex"1901", _accountDomainSeparator(account_), structHash));
    }

    function _appDomainSeparator() internal view returns (bytes32) {
        return
            keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("Mail App"), keccak256("1"), block.chainid, address(0xA99)));
    }

    function _typedDataSignHash(address account_, bytes32 contents) internal view returns (bytes32) {
        bytes32 typehash = keccak256(
            abi.encodePacked(
                "TypedDataSign(Mail contents,string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)",
                CONTENTS_TYPE
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(typehash, contents, keccak256("SsoAccount"), keccak256("1"), block.chainid, account_, bytes32(0))
        );
        return keccak256(abi.encodePacked(hex"1901", _appDomainSeparator(), structHash));
    }

    function _mailContents() internal pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(CONTENTS_TYPE)), address(0xB0B), keccak256("hello")));
    }

    function test_personalSign_roundTrip() public view {
        bytes32 hash = keccak256("\x19Ethereum Signed Message:\n5hello");
        bytes memory signature =
            abi.encodePacked(address(validator), signWebAuthn(key, _personalSignHash(address(account), hash)));
        vm.assertEq(account.isValidSignature(hash, signature), MAGIC);
        // Signing the raw hash (no ERC-7739 nesting) is not accepted.
        vm.assertEq(
            account.isValidSignature(hash, abi.encodePacked(address(validator), signWebAuthn(key, hash))),
            bytes4(0xffffffff)
        );
    }

    function test_typedData_roundTrip() public view {
        bytes32 contents = _mailContents();
        bytes32 appHash = keccak256(abi.encodePacked(hex"1901", _appDomainSeparator(), contents));
        bytes memory inner =
            abi.encodePacked(address(validator), signWebAuthn(key, _typedDataSignHash(address(account), contents)));
        bytes memory signature = abi.encodePacked(
            inner, _appDomainSeparator(), contents, CONTENTS_TYPE, uint16(bytes(CONTENTS_TYPE).length)
        );
        vm.assertEq(account.isValidSignature(appHash, signature), MAGIC);
        // Same signature, another app hash: rejected.
        vm.assertEq(account.isValidSignature(keccak256("other"), signature), bytes4(0xffffffff));
    }

    function test_signatureForOneAccountNeverValidatesForAnother() public {
        // The same passkey also controls a second account (another origin binding, same key).
        Passkey memory same = key;
        same.origin = "https://other.example";
        SsoAccount second = createAccount(same);
        bytes32 hash = keccak256("message");
        bytes memory forFirst =
            abi.encodePacked(address(validator), signWebAuthn(key, _personalSignHash(address(account), hash)));
        vm.assertEq(account.isValidSignature(hash, forFirst), MAGIC);
        vm.assertEq(second.isValidSignature(hash, forFirst), bytes4(0xffffffff));
    }

    function test_signatureForOneChainNeverValidatesOnAnother() public {
        bytes32 hash = keccak256("message");
        bytes memory signature =
            abi.encodePacked(address(validator), signWebAuthn(key, _personalSignHash(address(account), hash)));
        vm.assertEq(account.isValidSignature(hash, signature), MAGIC);
        vm.chainId(block.chainid + 1);
        vm.assertEq(account.isValidSignature(hash, signature), bytes4(0xffffffff));
    }

    function test_unknownValidatorOrGarbage() public {
        MockModule notInstalled = new MockModule(1);
        bytes32 hash = keccak256("message");
        vm.assertEq(account.isValidSignature(hash, abi.encodePacked(address(notInstalled), "ok")), bytes4(0xffffffff));
        vm.assertEq(account.isValidSignature(hash, hex"1234"), bytes4(0xffffffff));
        vm.assertEq(account.isValidSignature(hash, ""), bytes4(0xffffffff));
    }

    function test_erc7739Detection() public view {
        vm.assertEq(
            account.isValidSignature(0x7739773977397739773977397739773977397739773977397739773977397739, ""),
            bytes4(0x77390001)
        );
    }

    function testFuzz_garbageNeverValidates(bytes32 hash, bytes memory garbage) public view {
        vm.assertEq(account.isValidSignature(hash, garbage), bytes4(0xffffffff));
        vm.assertEq(account.isValidSignature(hash, abi.encodePacked(address(validator), garbage)), bytes4(0xffffffff));
    }
}
