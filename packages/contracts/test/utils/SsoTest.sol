// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccountFactory} from "../../src/AccountFactory.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {WebAuthnValidator} from "../../src/WebAuthnValidator.sol";
import {Test} from "./Test.sol";
import {IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";

/// @notice EntryPoint v0.8 with the userOp hash view.
interface IEntryPointV08 is IEntryPoint {
    function getUserOpHash(PackedUserOperation calldata userOp) external view returns (bytes32);
}

/// @notice Shared base: canonical EntryPoint v0.8, our contracts, passkeys and userOp helpers.
abstract contract SsoTest is Test {
    address internal constant DETERMINISTIC_DEPLOYER = 0x4e59b44847b379578588920cA78FbF26c0B4956C;
    bytes32 internal constant ENTRYPOINT_SALT = 0x0a59dbff790c23c976a548690c27297883cc66b4c67024f9117b0238995e35e9;
    IEntryPointV08 internal constant ENTRYPOINT = IEntryPointV08(0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108);

    string internal constant RP_ID = "localhost";
    string internal constant ORIGIN = "http://localhost:3002";

    struct Passkey {
        uint256 privateKey;
        bytes credentialId;
        bytes32 x;
        bytes32 y;
        string rpId;
        string origin;
    }

    /// @dev What the browser puts in a WebAuthn assertion; tests tweak it to build bad ones.
    struct Assertion {
        bytes1 flags;
        string type_;
        string origin;
        bytes32 rpIdHash;
        bytes32 challenge;
        bool highS;
    }

    WebAuthnValidator internal validator;
    SsoAccount internal implementation;
    AccountFactory internal factory;
    address payable internal bundler;

    function setUp() public virtual {
        deployEntryPoint();
        validator = new WebAuthnValidator();
        uint256[] memory presetTypes = new uint256[](1);
        address[] memory presets = new address[](1);
        (presetTypes[0], presets[0]) = (1, address(validator));
        implementation = new SsoAccount(presetTypes, presets);
        factory = new AccountFactory(
            address(this), address(implementation), address(validator), new uint256[](0), new address[](0)
        );
        bundler = payable(makeAddr("bundler"));
        vm.label(address(ENTRYPOINT), "EntryPoint");
        vm.label(address(validator), "WebAuthnValidator");
        vm.label(address(factory), "AccountFactory");
    }

    /// @dev CREATE2 through the deterministic deployer with the published artifact: the canonical address.
    function deployEntryPoint() internal {
        if (address(ENTRYPOINT).code.length != 0) return;
        vm.etch(
            DETERMINISTIC_DEPLOYER,
            hex"7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
        );
        string memory json = vm.readFile("node_modules/@account-abstraction/contracts/artifacts/EntryPoint.json");
        bytes memory bytecode = vm.parseJsonBytes(json, ".bytecode");
        (bool ok,) = DETERMINISTIC_DEPLOYER.call(abi.encodePacked(ENTRYPOINT_SALT, bytecode));
        require(ok && address(ENTRYPOINT).code.length != 0, "EntryPoint deployment failed");
    }

    // --------------------------------------------------------------------------------------------------------
    // Passkeys
    // --------------------------------------------------------------------------------------------------------

    function makePasskey(string memory name) internal pure returns (Passkey memory key) {
        key.privateKey = bound(uint256(keccak256(bytes(name))), 1, P256_N - 1);
        (uint256 x, uint256 y) = vm.publicKeyP256(key.privateKey);
        key.x = bytes32(x);
        key.y = bytes32(y);
        key.credentialId = abi.encodePacked(bytes16(keccak256(abi.encodePacked("credential", name))));
        key.rpId = RP_ID;
        key.origin = ORIGIN;
    }

    function createAccount(Passkey memory key) internal returns (SsoAccount account) {
        account = SsoAccount(payable(factory.createAccount(key.credentialId, key.x, key.y, key.rpId, key.origin)));
        vm.deal(address(account), 10 ether);
    }

    function defaultAssertion(Passkey memory key, bytes32 challenge) internal pure returns (Assertion memory a) {
        a.flags = 0x05; // UP | UV
        a.type_ = "webauthn.get";
        a.origin = key.origin;
        a.rpIdHash = sha256(bytes(key.rpId));
        a.challenge = challenge;
    }

    /// @dev A WebAuthn signature of `hash` in the packed encoding of docs/webauthn.md, as the client sends it: the
    /// short form (the origin without its scheme, the rpId's position in it, flags 0x05, signCount 7 in one byte,
    /// crossOrigin present), or the general form with the full 37 bytes when the rpId is no part of the origin.
    function signWebAuthn(Passkey memory key, bytes32 hash) internal pure returns (bytes memory) {
        Assertion memory a = defaultAssertion(key, hash);
        (bytes memory authenticatorData, bytes memory clientDataJSON) = assertionData(a);
        (bool found,,) = rpIdInOrigin(key.rpId, a.origin);
        bytes memory sent = found ? shortForm(key.rpId, a, 7) : authenticatorData;
        if (!found) return signClientData(key, authenticatorData, clientDataJSON, clientDataMembers(a), a.highS);
        return signShortForm(key, authenticatorData, clientDataJSON, a.highS, sent);
    }

    /// @dev Signs `authenticatorData` and `clientDataJSON` and sends the short form's tail `tail`.
    function signShortForm(
        Passkey memory key,
        bytes memory authenticatorData,
        bytes memory clientDataJSON,
        bool highS,
        bytes memory tail
    ) internal pure returns (bytes memory) {
        (bytes32 r, bytes32 s) = signP256(
            key.privateKey, sha256(abi.encodePacked(authenticatorData, sha256(clientDataJSON))), highS
        );
        return abi.encodePacked(bytes4(keccak256(key.credentialId)), key.x, key.y, r, s, tail);
    }

    /// @dev The short form's tail (format byte to the end) for `a`'s origin (`http://` or `https://`), rpId `rpId`
    /// (found in the origin), flags 0x05 or 0x1D, crossOrigin present, and `signCount` in as few bytes as its
    /// width allows.
    function shortForm(string memory rpId, Assertion memory a, uint32 signCount) internal pure returns (bytes memory) {
        require(a.flags == 0x05 || a.flags == 0x1d, "flags outside the short form");
        bytes memory origin = bytes(a.origin);
        uint8 scheme = _startsWith(origin, "https://") ? 8 : 7;
        require(scheme == 8 || _startsWith(origin, "http://"), "not an http(s) origin");
        (uint8 rpIdBits, bytes memory position) = _rpIdPosition(rpId, a.origin, scheme);
        (uint8 countBits, bytes memory count) = _signCountBytes(signCount);
        uint8 format = 0xc0 | (scheme == 7 ? 0x20 : 0) | rpIdBits | (a.flags == 0x1d ? 0x04 : 0) | countBits;
        return abi.encodePacked(format, count, position, sliceBytes(origin, scheme, origin.length - scheme));
    }

    function _rpIdPosition(string memory rpId, string memory origin, uint8 scheme)
        private
        pure
        returns (uint8 bits, bytes memory position)
    {
        (, uint8 start, uint8 length) = rpIdInOrigin(rpId, origin);
        if (start == scheme && length == bytes(origin).length - scheme) return (0, "");
        if (start == scheme) return (0x08, abi.encodePacked(length));
        return (0x10, abi.encodePacked(start, length));
    }

    function _signCountBytes(uint32 signCount) private pure returns (uint8 bits, bytes memory count) {
        if (signCount == 0) return (0, "");
        if (signCount < 1 << 8) return (1, abi.encodePacked(uint8(signCount)));
        if (signCount < 1 << 16) return (2, abi.encodePacked(uint16(signCount)));
        return (3, abi.encodePacked(signCount));
    }

    function _startsWith(bytes memory data, bytes memory prefix) private pure returns (bool) {
        return data.length >= prefix.length && keccak256(sliceBytes(data, 0, prefix.length)) == keccak256(prefix);
    }

    /// @dev The compact authenticatorData of `a` (`rpIdStart ‖ rpIdLength ‖ flags ‖ signCount`) when the key's rpId
    /// is part of its origin, else the full 37 bytes.
    function compactAuthenticatorData(Passkey memory key, Assertion memory a) internal pure returns (bytes memory) {
        (bool found, uint8 start, uint8 length) = rpIdInOrigin(key.rpId, a.origin);
        if (!found) {
            (bytes memory full,) = assertionData(a);
            return full;
        }
        return abi.encodePacked(start, length, a.flags, uint32(7));
    }

    /// @dev Where `rpId` first occurs in `origin`.
    function rpIdInOrigin(string memory rpId, string memory origin)
        internal
        pure
        returns (bool found, uint8 start, uint8 length)
    {
        bytes memory r = bytes(rpId);
        bytes memory o = bytes(origin);
        if (r.length == 0 || o.length > 255) return (false, 0, 0);
        for (uint256 i = 0; i + r.length <= o.length; ++i) {
            if (keccak256(sliceBytes(o, i, r.length)) == keccak256(r)) return (true, uint8(i), uint8(r.length));
        }
    }

    function sliceBytes(bytes memory data, uint256 start, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            out[i] = data[start + i];
        }
    }

    /// @dev Signs the clientDataJSON a browser makes of `a` and sends the standard member list (type, challenge,
    /// origin `a.origin`, crossOrigin false): a tweak of `a` that the list can't express breaks the signature.
    function signAssertion(Passkey memory key, Assertion memory a) internal pure returns (bytes memory) {
        (bytes memory authenticatorData, bytes memory clientDataJSON) = assertionData(a);
        return signClientData(key, authenticatorData, clientDataJSON, clientDataMembers(a), a.highS);
    }

    /// @dev Signs `clientDataJSON` and encodes the signature with the member list `members`.
    function signClientData(
        Passkey memory key,
        bytes memory authenticatorData,
        bytes memory clientDataJSON,
        bytes memory members,
        bool highS
    ) internal pure returns (bytes memory) {
        return signClientData(key, authenticatorData, clientDataJSON, members, highS, authenticatorData);
    }

    /// @dev Signs `authenticatorData` and `clientDataJSON`, and sends `sentAuthenticatorData` (e.g. a compact form).
    function signClientData(
        Passkey memory key,
        bytes memory authenticatorData,
        bytes memory clientDataJSON,
        bytes memory members,
        bool highS,
        bytes memory sentAuthenticatorData
    ) internal pure returns (bytes memory) {
        (bytes32 r, bytes32 s) = signP256(
            key.privateKey, sha256(abi.encodePacked(authenticatorData, sha256(clientDataJSON))), highS
        );
        return encodeSignature(keccak256(key.credentialId), key.x, key.y, r, s, sentAuthenticatorData, members);
    }

    /// @dev P-256 signature with the s value in the requested half.
    function signP256(uint256 privateKey, bytes32 digest, bool highS) internal pure returns (bytes32 r, bytes32 s) {
        (r, s) = vm.signP256(privateKey, digest);
        if ((uint256(s) > P256_N / 2) != highS) s = bytes32(P256_N - uint256(s));
    }

    /// @dev The standard member list: type, challenge, origin, crossOrigin false.
    function clientDataMembers(Assertion memory a) internal pure returns (bytes memory) {
        return abi.encodePacked(MEMBER_TYPE, MEMBER_CHALLENGE, memberOrigin(a.origin), MEMBER_CROSS_ORIGIN_FALSE);
    }

    bytes1 internal constant MEMBER_TYPE = 0x01;
    bytes1 internal constant MEMBER_CHALLENGE = 0x02;
    bytes1 internal constant MEMBER_CROSS_ORIGIN_FALSE = 0x05;

    function memberOrigin(string memory origin) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x03), uint8(bytes(origin).length), origin);
    }

    function memberEscapedOrigin(string memory origin) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x04), uint8(bytes(origin).length), origin);
    }

    function memberString(string memory key, string memory value) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x06), uint8(bytes(key).length), uint8(bytes(value).length), key, value);
    }

    function assertionData(Assertion memory a)
        internal
        pure
        returns (bytes memory authenticatorData, bytes memory clientDataJSON)
    {
        authenticatorData = abi.encodePacked(a.rpIdHash, a.flags, uint32(7));
        // Same member order as browsers: type, challenge, origin, crossOrigin.
        clientDataJSON = abi.encodePacked(
            '{"type":"',
            a.type_,
            '","challenge":"',
            Base64.encodeURL(abi.encodePacked(a.challenge)),
            '","origin":"',
            a.origin,
            '","crossOrigin":false}'
        );
    }

    function encodeSignature(
        bytes32 credentialIdHash,
        bytes32 x,
        bytes32 y,
        bytes32 r,
        bytes32 s,
        bytes memory authenticatorData,
        bytes memory members
    ) internal pure returns (bytes memory) {
        return abi.encodePacked(
            bytes4(credentialIdHash), x, y, r, s, uint16(authenticatorData.length), authenticatorData, members
        );
    }

    /// @dev The P-256 `r` and `s` of a packed WebAuthn signature.
    function signatureRS(bytes memory signature) internal pure returns (bytes32 r, bytes32 s) {
        assembly {
            r := mload(add(signature, 0x64))
            s := mload(add(signature, 0x84))
        }
    }

    /// @dev The proof of possession a passkey gives to join `account` (validator.addPasskey's last argument), for
    /// the passkey's current registration nonce there. It reads the nonce from the validator: compute it before a
    /// `vm.prank`. A test pins it to `registrationChallenge`.
    function registrationProof(Passkey memory key, address account) internal view returns (bytes memory) {
        bytes32 typeHash = keccak256(
            "SsoPasskeyRegistration(address validator,address account,bytes32 credentialIdHash,uint256 nonce)"
        );
        uint256 nonce = validator.registrationNonce(account, key.credentialId);
        return signWebAuthn(
            key, keccak256(abi.encode(typeHash, address(validator), account, keccak256(key.credentialId), nonce))
        );
    }

    /// @dev The accounts `key` joined with a proof (validator.accountsOf).
    function accountsOf(Passkey memory key) internal view returns (address[] memory) {
        return validator.accountsOf(key.credentialId, key.x, key.y, key.rpId, key.origin);
    }

    // --------------------------------------------------------------------------------------------------------
    // User operations
    // --------------------------------------------------------------------------------------------------------

    function nonceKey(address validator_) internal pure returns (uint192) {
        return uint192(uint160(validator_)) << 32;
    }

    /// @dev ERC-7579 mode: call type (0x00 single, 0x01 batch) and exec type (0x00 default, 0x01 try).
    function mode(bytes1 callType, bytes1 execType) internal pure returns (bytes32) {
        return bytes32(abi.encodePacked(callType, execType, bytes30(0)));
    }

    function singleCall(address target, uint256 value, bytes memory data) internal pure returns (bytes memory) {
        return abi.encodeCall(SsoAccount.execute, (mode(0x00, 0x00), abi.encodePacked(target, value, data)));
    }

    function batchCall(Execution[] memory calls) internal pure returns (bytes memory) {
        return abi.encodeCall(SsoAccount.execute, (mode(0x01, 0x00), abi.encode(calls)));
    }

    /// @dev `executeCallData` (an ABI-encoded `execute(mode, executionCalldata)`) as the SDK sends it:
    /// `executePacked_ezig()`, i.e. `0x00000017 ‖ mode ‖ executionCalldata`.
    function packedExecute(bytes memory executeCallData) internal pure returns (bytes memory) {
        bytes memory args = new bytes(executeCallData.length - 4);
        for (uint256 i = 0; i < args.length; ++i) {
            args[i] = executeCallData[i + 4];
        }
        (bytes32 mode_, bytes memory executionCalldata) = abi.decode(args, (bytes32, bytes));
        return abi.encodePacked(SsoAccount.executePacked_ezig.selector, mode_, executionCalldata);
    }

    function buildUserOp(address sender, address validator_, bytes memory callData)
        internal
        view
        returns (PackedUserOperation memory op)
    {
        op.sender = sender;
        op.nonce = ENTRYPOINT.getNonce(sender, nonceKey(validator_));
        op.callData = callData;
        op.accountGasLimits = bytes32(uint256(600_000) << 128 | uint256(200_000));
        op.preVerificationGas = 60_000;
        op.gasFees = bytes32(uint256(1 gwei) << 128 | uint256(1 gwei));
    }

    function handleOp(PackedUserOperation memory op) internal {
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        vm.prank(bundler, bundler);
        ENTRYPOINT.handleOps(ops, bundler);
    }
}
