// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccountFactory} from "../../src/AccountFactory.sol";
import {SessionKeyValidator} from "../../src/SessionKeyValidator.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {SessionSpecLib} from "../../src/session/SessionSpecLib.sol";
import {MockERC20, MockTarget} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

// Tests drive time and pack/unpack words on purpose.
// forge-lint: disable-start(block-timestamp, unsafe-typecast)

/// @notice Shared base for the SessionKeyValidator tests: a real SsoAccount (factory with the SessionKeyValidator
/// as a preset default module), the canonical EntryPoint v0.8, session keys of both kinds and spec builders.
abstract contract SessionTest is SsoTest {
    SessionKeyValidator internal sessions;
    Passkey internal owner;
    SsoAccount internal account;
    address internal recipient;
    MockERC20 internal token;
    MockTarget internal target;

    uint256 internal ecdsaKey;
    address internal ecdsaSigner;
    uint256 internal p256Key;

    uint48 internal constant DAY = 1 days;

    function setUp() public virtual override {
        super.setUp();
        vm.warp(1_700_000_000);
        sessions = new SessionKeyValidator();
        uint256[] memory types = new uint256[](2);
        address[] memory modules = new address[](2);
        (types[0], modules[0]) = (1, address(validator));
        (types[1], modules[1]) = (1, address(sessions));
        implementation = new SsoAccount(types, modules);
        uint256[] memory defaultTypes = new uint256[](1);
        address[] memory defaults = new address[](1);
        (defaultTypes[0], defaults[0]) = (1, address(sessions));
        factory = new AccountFactory(address(this), address(implementation), address(validator), defaultTypes, defaults);
        vm.label(address(sessions), "SessionKeyValidator");

        owner = makePasskey("owner");
        account = createAccount(owner);
        recipient = makeAddr("recipient");
        token = new MockERC20();
        token.mint(address(account), 1000 ether);
        target = new MockTarget();
        (ecdsaSigner, ecdsaKey) = makeAddrAndKey("session key");
        p256Key = bound(uint256(keccak256("p256 session key")), 1, P256_N - 1);
    }

    // --------------------------------------------------------------------------------------------------------
    // Limits and specs
    // --------------------------------------------------------------------------------------------------------

    function unlimited() internal pure returns (ISessionKeyValidator.UsageLimit memory) {
        return ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Unlimited, 0, 0);
    }

    function lifetime(uint256 amount) internal pure returns (ISessionKeyValidator.UsageLimit memory) {
        return ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Lifetime, uint104(amount), 0);
    }

    function allowance(uint256 amount, uint48 period) internal pure returns (ISessionKeyValidator.UsageLimit memory) {
        return
            ISessionKeyValidator.UsageLimit(ISessionKeyValidator.LimitType.Allowance, uint104(amount), uint32(period));
    }

    function ecdsaSignerBytes() internal view returns (bytes memory) {
        return abi.encodePacked(ecdsaSigner);
    }

    function p256SignerBytes() internal pure returns (bytes memory) {
        (uint256 x, uint256 y) = vm.publicKeyP256(bound(uint256(keccak256("p256 session key")), 1, P256_N - 1));
        return abi.encodePacked(x, y);
    }

    /// @dev A session signed by the secp256k1 key, expiring in a day, 1 ether lifetime fee, no policies.
    function baseSpec() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec.signer = ecdsaSignerBytes();
        spec.expiresAt = uint48(vm.getBlockTimestamp()) + DAY;
        spec.feeLimit = lifetime(1 ether);
    }

    function addTransfer(
        ISessionKeyValidator.SessionSpec memory spec,
        address to,
        uint256 maxValuePerUse,
        ISessionKeyValidator.UsageLimit memory valueLimit
    ) internal pure {
        uint256 n = spec.transferPolicies.length;
        ISessionKeyValidator.TransferPolicy[] memory policies = new ISessionKeyValidator.TransferPolicy[](n + 1);
        for (uint256 i = 0; i < n; ++i) {
            policies[i] = spec.transferPolicies[i];
        }
        policies[n] = ISessionKeyValidator.TransferPolicy(to, uint104(maxValuePerUse), valueLimit);
        spec.transferPolicies = policies;
    }

    /// @dev Adds a call policy and returns its index.
    function addCall(
        ISessionKeyValidator.SessionSpec memory spec,
        address to,
        bytes4 selector,
        uint256 maxValuePerUse,
        ISessionKeyValidator.UsageLimit memory valueLimit
    ) internal pure returns (uint256 index) {
        index = spec.callPolicies.length;
        ISessionKeyValidator.CallPolicy[] memory policies = new ISessionKeyValidator.CallPolicy[](index + 1);
        for (uint256 i = 0; i < index; ++i) {
            policies[i] = spec.callPolicies[i];
        }
        policies[index].target = to;
        policies[index].selector = selector;
        policies[index].maxValuePerUse = uint104(maxValuePerUse);
        policies[index].valueLimit = valueLimit;
        spec.callPolicies = policies;
    }

    function addConstraint(
        ISessionKeyValidator.SessionSpec memory spec,
        uint256 policyIndex,
        ISessionKeyValidator.Condition condition,
        uint64 index,
        bytes32 refValue,
        ISessionKeyValidator.UsageLimit memory limit
    ) internal pure {
        ISessionKeyValidator.CallPolicy memory policy = spec.callPolicies[policyIndex];
        uint256 n = policy.constraints.length;
        ISessionKeyValidator.Constraint[] memory constraints = new ISessionKeyValidator.Constraint[](n + 1);
        for (uint256 i = 0; i < n; ++i) {
            constraints[i] = policy.constraints[i];
        }
        constraints[n] = ISessionKeyValidator.Constraint(condition, uint16(index), refValue, limit);
        policy.constraints = constraints;
    }

    /// @dev The token's `transfer` with a Lifetime limit on the amount (word 1) and the recipient pinned (word 0).
    function tokenSpec(uint256 amountLimit) internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = baseSpec();
        uint256 p = addCall(spec, address(token), IERC20.transfer.selector, 0, lifetime(0));
        addConstraint(
            spec, p, ISessionKeyValidator.Condition.Equal, 0, bytes32(uint256(uint160(recipient))), unlimited()
        );
        addConstraint(spec, p, ISessionKeyValidator.Condition.Unconstrained, 1, bytes32(0), lifetime(amountLimit));
    }

    /// @dev The packed spec the validator takes (SessionSpecLib).
    function packed(ISessionKeyValidator.SessionSpec memory spec) internal pure returns (bytes memory) {
        return SessionSpecLib.encode(spec);
    }

    function idOf(ISessionKeyValidator.SessionSpec memory spec) internal pure returns (bytes32) {
        return keccak256(SessionSpecLib.encode(spec));
    }

    function create(ISessionKeyValidator.SessionSpec memory spec) internal returns (bytes32 id) {
        vm.prank(address(account));
        id = sessions.createSession(packed(spec));
    }

    // --------------------------------------------------------------------------------------------------------
    // Session userOps
    // --------------------------------------------------------------------------------------------------------

    function sessionOp(bytes memory callData) internal view returns (PackedUserOperation memory op) {
        op = buildUserOp(address(account), address(sessions), callData);
    }

    function transferOp(address to, uint256 value) internal view returns (PackedUserOperation memory) {
        return sessionOp(singleCall(to, value, ""));
    }

    function tokenOp(address to, uint256 amount) internal view returns (PackedUserOperation memory) {
        return sessionOp(singleCall(address(token), 0, abi.encodeCall(IERC20.transfer, (to, amount))));
    }

    function digestOf(PackedUserOperation memory op, ISessionKeyValidator.SessionSpec memory spec)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(ENTRYPOINT.getUserOpHash(op), idOf(spec)));
    }

    /// @dev Signs with the key matching `spec.signer` (secp256k1 or P-256) at the current block time.
    function sign(PackedUserOperation memory op, ISessionKeyValidator.SessionSpec memory spec)
        internal
        view
        returns (PackedUserOperation memory)
    {
        return signAt(op, spec, uint48(vm.getBlockTimestamp()));
    }

    function signAt(PackedUserOperation memory op, ISessionKeyValidator.SessionSpec memory spec, uint48 timestamp)
        internal
        view
        returns (PackedUserOperation memory)
    {
        bytes32 digest = digestOf(op, spec);
        bytes memory signature;
        if (spec.signer.length == 20) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(ecdsaKey, digest);
            signature = abi.encodePacked(r, s, v);
        } else {
            (bytes32 r, bytes32 s) = vm.signP256(p256Key, sha256(abi.encodePacked(digest)));
            signature = abi.encodePacked(r, s);
        }
        op.signature = sessionSignature(packed(spec), timestamp, signature);
        return op;
    }

    /// @dev `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature`.
    function sessionSignature(bytes memory specBytes, uint48 timestamp, bytes memory signerSignature)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(uint16(specBytes.length), specBytes, timestamp, signerSignature);
    }

    // --------------------------------------------------------------------------------------------------------
    // Raw bytes (malformed specs and signatures)
    // --------------------------------------------------------------------------------------------------------

    /// @dev `data[start:end]` as a new array.
    function slice(bytes memory data, uint256 start, uint256 end) internal pure returns (bytes memory out) {
        out = new bytes(end - start);
        for (uint256 i = start; i < end; ++i) {
            out[i - start] = data[i];
        }
    }

    /// @dev A copy of `data` with the byte at `at` set to `value`.
    function withByte(bytes memory data, uint256 at, uint8 value) internal pure returns (bytes memory out) {
        out = bytes.concat(data);
        out[at] = bytes1(value);
    }

    /// @dev Calls the validator as the account does (msg.sender = account).
    function validate(PackedUserOperation memory op) internal returns (uint256) {
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        return sessions.validateUserOp(op, hash);
    }

    /// @dev Validation data of a valid signature with the window [validAfter, validUntil].
    function window(uint48 validAfter, uint48 validUntil) internal pure returns (uint256) {
        return uint256(validUntil) << 160 | uint256(validAfter) << 208;
    }

    /// @dev Validation data of a valid signature for the allowance periods [first, last]: EntryPoint v0.8 accepts
    /// `validAfter < block.timestamp <= validUntil`, so validAfter is `first - 1` (0 stays 0).
    function periodWindow(uint48 first, uint48 last) internal pure returns (uint256) {
        return window(first == 0 ? 0 : first - 1, last);
    }

    /// @dev The fee `buildUserOp` ops are charged without a paymaster.
    function feeOf(PackedUserOperation memory op) internal pure returns (uint256) {
        uint256 limits = uint256(op.accountGasLimits);
        return
            uint256(uint128(uint256(op.gasFees))) * ((limits >> 128) + uint256(uint128(limits)) + op.preVerificationGas);
    }

    /// @dev A userOp the owner's passkey signs, validated by the WebAuthnValidator.
    function ownerOp(bytes memory callData) internal view returns (PackedUserOperation memory op) {
        op = buildUserOp(address(account), address(validator), callData);
        op.signature = signWebAuthn(owner, ENTRYPOINT.getUserOpHash(op));
    }

    function state(ISessionKeyValidator.SessionSpec memory spec)
        internal
        view
        returns (ISessionKeyValidator.SessionState memory)
    {
        return sessions.sessionState(address(account), packed(spec));
    }
}
// forge-lint: disable-end(block-timestamp, unsafe-typecast)
