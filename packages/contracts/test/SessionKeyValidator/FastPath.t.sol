// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SessionKeyValidator} from "../../src/SessionKeyValidator.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {SessionTest} from "./SessionTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

// Tests drive time and pack words on purpose.
// forge-lint: disable-start(block-timestamp, unsafe-typecast)

/// @dev The validator with its general path exposed: what the account's entry runs when the fast path gives up.
contract GeneralPathHarness is SessionKeyValidator {
    function generalPath(PackedUserOperation calldata userOp, bytes32 userOpHash, uint256 modulesVersion)
        external
        returns (uint256)
    {
        return _validateUserOp(userOp, userOpHash, true, modulesVersion);
    }
}

/// @notice The SessionKeyValidator's fast path (src/session/SessionFastPath.sol) against its general path: the
/// account's entry `validateUserOpWithKnownVersion` tries the fast path first; the general path, with the same
/// version given, never does. For random specs (fee, call and transfer limits of every type and size, so counters
/// land at every width and in extra slots) and random transfers (targets with and without a policy, forbidden ones,
/// values over the limits, a paymaster, a bad signature, a claimed time past the expiry, `execute` ABI-encoded or
/// packed), both must give the same answer (validation data or revert data) and leave the same session state.
contract SessionFastPathTest is SessionTest {
    address internal constant OTHER = address(0xbeef);
    address internal constant THIRD = address(0xcafe);
    bytes32 internal constant SESSIONS_SLOT = bytes32(uint256(1)); // SessionKeyValidator._sessions

    function setUp() public override {
        super.setUp();
        // The account's session validator, with the general path exposed (same storage layout, no immutables).
        vm.etch(address(sessions), address(new GeneralPathHarness()).code);
    }

    /// @dev A limit of any type (Lifetime twice as often), its amount at the edges of the counter widths.
    function _limitFrom(uint256 seed) internal pure returns (ISessionKeyValidator.UsageLimit memory) {
        uint256[11] memory sizes = [
            uint256(0),
            1,
            2,
            2 ether,
            type(uint32).max,
            uint256(1) << 32,
            type(uint64).max,
            uint256(1) << 64,
            (uint256(1) << 80) - 1,
            uint256(1) << 80,
            (uint256(1) << 104) - 1
        ];
        uint256 amount = sizes[(seed >> 8) % sizes.length];
        uint256 kind = seed % 4;
        if (kind == 0) return unlimited();
        if (kind < 3) return lifetime(amount);
        return allowance(amount, uint48(1 + (seed >> 16) % 3 days));
    }

    function _specFrom(uint256 seed) internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = baseSpec();
        // A P-256 signer (the browser's session keys) one time in three: the layout shifts by 44 bytes.
        if ((seed >> 40) % 3 == 0) spec.signer = p256SignerBytes();
        uint256[5] memory fees =
            [uint256(0.05 ether), 1 ether, uint256(1) << 32, uint256(1) << 64, (uint256(1) << 80) - 1];
        uint256 feeLimit = fees[(seed >> 4) % 5];
        spec.feeLimit = seed % 3 == 0 ? allowance(feeLimit, DAY) : lifetime(feeLimit);
        uint256 calls = (seed >> 8) % 3;
        for (uint256 i = 0; i < calls; ++i) {
            uint256 p = addCall(
                spec,
                address(uint160(0x1000 + i)),
                bytes4(uint32(0xa0 + i)),
                1 ether,
                _limitFrom(uint256(keccak256(abi.encode(seed, "call", i))))
            );
            uint256 constraints = (seed >> (12 + 2 * i)) % 3;
            for (uint256 j = 0; j < constraints; ++j) {
                addConstraint(
                    spec,
                    p,
                    ISessionKeyValidator.Condition.Unconstrained,
                    uint64(j),
                    bytes32(0),
                    _limitFrom(uint256(keccak256(abi.encode(seed, "constraint", i, j))))
                );
            }
        }
        address[3] memory targets = [recipient, OTHER, THIRD];
        uint256 transfers = 1 + (seed >> 20) % 3;
        for (uint256 i = 0; i < transfers; ++i) {
            uint256 maxPerUse = (seed >> (24 + i)) & 1 == 0 ? 1.5 ether : (uint256(1) << 104) - 1;
            addTransfer(spec, targets[i], maxPerUse, _limitFrom(uint256(keccak256(abi.encode(seed, "transfer", i)))));
        }
    }

    /// @dev A transfer to one of the spec's targets or to a forbidden or unknown one, its value and fee often just at
    /// or just over what is left (counted from the session's state), sometimes with a paymaster, a bad signature or a
    /// claimed time past the expiry.
    function _opFrom(ISessionKeyValidator.SessionSpec memory spec, uint256 seed)
        internal
        view
        returns (PackedUserOperation memory op)
    {
        ISessionKeyValidator.SessionState memory s = state(spec);
        address[7] memory targets =
            [recipient, OTHER, THIRD, address(account), address(sessions), address(ENTRYPOINT), address(0x1000)];
        uint256 t = seed % 7;
        uint256 maxPerUse = 1 ether;
        uint256 remaining = 2 ether;
        if (t < spec.transferPolicies.length) {
            maxPerUse = spec.transferPolicies[t].maxValuePerUse;
            remaining = s.transferValueRemaining[t];
        }
        uint256 value;
        unchecked {
            uint256[6] memory values = [0, 1, maxPerUse, maxPerUse + 1, remaining, remaining + 1];
            value = values[(seed >> 4) % 6];
        }
        if (value > type(uint128).max) value = (seed >> 4) % 2 == 0 ? type(uint128).max : 3 ether;
        op = transferOp(targets[t], value);
        uint256 shapeCase = (seed >> 16) % 8;
        if (shapeCase == 0) {
            // The same 164 bytes with the execution at an unaligned offset (0x4c), as the account decodes it.
            op.callData = abi.encodePacked(
                SsoAccount.execute.selector, bytes32(0), uint256(0x4c), bytes12(0), uint256(52), targets[t], value
            );
        }
        if (shapeCase == 1) {
            // A mode with a payload byte: still a single default call to the account, not to the fast path.
            op.callData = abi.encodeCall(SsoAccount.execute, (bytes32(uint256(1)), abi.encodePacked(targets[t], value)));
        }
        // Packed, as the SDK sends it (88 bytes); or packed with a byte of calldata, or the mode's payload byte.
        if (shapeCase == 4 || shapeCase == 5) op.callData = packedExecute(op.callData);
        if (shapeCase == 6) {
            op.callData =
                abi.encodePacked(SsoAccount.executePacked_ezig.selector, bytes32(0), targets[t], value, hex"00");
        }
        if (shapeCase == 7) {
            op.callData =
                abi.encodePacked(SsoAccount.executePacked_ezig.selector, bytes32(uint256(1)), targets[t], value);
        }
        if (shapeCase == 2) op.paymasterAndData = hex"010203"; // odd length: the account pays nothing
        uint256 feeCase = (seed >> 8) % 6;
        if (feeCase == 0) op.paymasterAndData = abi.encodePacked(address(0x9a9a), uint128(1e5), uint128(1e5));
        if (feeCase == 1 || feeCase == 2) {
            // Gas limits summing to 1: the fee is maxFeePerGas, the fee limit's remainder or one more.
            op.accountGasLimits = bytes32(uint256(1) << 128);
            op.preVerificationGas = 0;
            uint256 fee = s.feeRemaining + (feeCase == 2 ? 1 : 0);
            if (fee > type(uint128).max) fee = type(uint128).max;
            op.gasFees = bytes32(fee << 128 | fee);
        }
        if (feeCase == 3) op.gasFees = bytes32(uint256(1e24) << 128 | 1e24);
        uint48 claimed = uint48(vm.getBlockTimestamp());
        if ((seed >> 12) % 8 == 0) claimed = spec.expiresAt + 1;
        op = signAt(op, spec, claimed);
        if (shapeCase == 3) op.signature = bytes.concat(op.signature, hex"00"); // one byte too long
        if (spec.signer.length == 64 && (seed >> 20) % 3 == 0) {
            // WebCrypto's s is not normalised: (r, N - s) is the same signature, taken by both paths.
            uint256 sAt = op.signature.length - 32;
            uint256 highS = P256_N - uint256(bytes32(slice(op.signature, sAt, sAt + 32)));
            for (uint256 i = 0; i < 32; ++i) {
                op.signature[sAt + i] = bytes32(highS)[i];
            }
        }
        uint256 at = op.signature.length - 40; // in s
        if ((seed >> 14) % 8 == 0) op.signature[at] = bytes1(uint8(op.signature[at]) ^ 1); // a bad signature
    }

    function _sessionWord(ISessionKeyValidator.SessionSpec memory spec) internal view returns (bytes32) {
        bytes32 inner = keccak256(abi.encode(idOf(spec), SESSIONS_SLOT));
        return vm.load(address(sessions), keccak256(abi.encode(address(account), inner)));
    }

    /// @dev Runs `op` through both entries from the same state; asserts the same outcome and state, then keeps the
    /// state the fast entry left. Returns whether it was accepted.
    function _bothPaths(PackedUserOperation memory op, ISessionKeyValidator.SessionSpec memory spec)
        internal
        returns (bool accepted)
    {
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        uint256 version = account.modulesVersion();
        uint256 before = vm.snapshotState();
        vm.prank(address(account));
        (bool okGeneral, bytes memory outGeneral) =
            address(sessions).call(abi.encodeCall(GeneralPathHarness.generalPath, (op, hash, version)));
        bytes32 wordGeneral = _sessionWord(spec);
        bytes memory stateGeneral = abi.encode(state(spec));
        vm.revertToState(before);

        vm.prank(address(account));
        (bool okFast, bytes memory outFast) =
            address(sessions).call(abi.encodeCall(sessions.validateUserOpWithKnownVersion, (op, hash, version)));
        vm.assertEq(okFast, okGeneral, "same success");
        vm.assertEq(outFast, outGeneral, "same validation data or revert data");
        vm.assertEq(_sessionWord(spec), wordGeneral, "same session word");
        vm.assertEq(abi.encode(state(spec)), stateGeneral, "same counters");
        return okFast && abi.decode(outFast, (uint256)) & 1 == 0;
    }

    function testFuzz_fastPathAgreesWithTheGeneralPath(uint256 specSeed, uint256 opSeed) public {
        ISessionKeyValidator.SessionSpec memory spec = _specFrom(specSeed);
        create(spec);
        // Several ops in a row: counters fill up, periods roll over.
        for (uint256 i = 0; i < 6; ++i) {
            uint256 opSeedI = uint256(keccak256(abi.encode(opSeed, i)));
            // Now and then the account's modules version moves (the session is no longer on the fast path's
            // terms), or the session is revoked.
            if ((opSeedI >> 248) % 16 == 0) {
                vm.prank(address(account));
                account.bumpModulesVersion();
            } else if ((opSeedI >> 248) % 16 == 1 && i == 5) {
                vm.prank(address(account));
                sessions.revokeSession(idOf(spec));
            }
            _bothPaths(_opFrom(spec, opSeedI), spec);
            vm.warp(vm.getBlockTimestamp() + (opSeed >> (32 + 8 * i)) % 2 days);
        }
    }

    /// @dev The spec of `pnpm bench:gas`'s "both policies" row: the fee (64 bits), the token amount's daily allowance
    /// (80 + 24) and the ETH limit (64) fill the session slot to its last bit.
    function test_countersEndingAtTheLastBit() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        uint256 p = addCall(spec, address(token), token.transfer.selector, 0, unlimited());
        addConstraint(spec, p, ISessionKeyValidator.Condition.Unconstrained, 1, bytes32(0), allowance(100 ether, DAY));
        addTransfer(spec, recipient, 0.01 ether, lifetime(1 ether));
        create(spec);
        for (uint256 i = 0; i < 12; ++i) {
            _bothPaths(
                _opFrom(spec, uint256(keccak256(abi.encode("last bit", i))) & ~uint256(0xffff) | (i % 6) << 4), spec
            );
        }
        PackedUserOperation memory op = sign(transferOp(recipient, 0.01 ether), spec);
        vm.assertLt(_fastEntryGas(op) + 1000, _generalEntryGas(op), "the fast path handles it");
        vm.assertTrue(_bothPaths(op, spec), "accepted");
        vm.assertEq(
            uint256(_sessionWord(spec)) >> 192,
            1 ether - state(spec).transferValueRemaining[0],
            "the ETH counter is the slot's top 64 bits"
        );
    }

    /// @dev The gas of the account's entry (fast path first) for `op`, state unchanged.
    function _fastEntryGas(PackedUserOperation memory op) internal returns (uint256 used) {
        bytes memory data = abi.encodeCall(
            sessions.validateUserOpWithKnownVersion, (op, ENTRYPOINT.getUserOpHash(op), account.modulesVersion())
        );
        used = _gasOf(data);
    }

    /// @dev The gas of the general path, version given, for `op`, state unchanged.
    function _generalEntryGas(PackedUserOperation memory op) internal returns (uint256 used) {
        used = _gasOf(
            abi.encodeCall(GeneralPathHarness.generalPath, (op, ENTRYPOINT.getUserOpHash(op), account.modulesVersion()))
        );
    }

    function _gasOf(bytes memory data) internal returns (uint256 used) {
        uint256 before = vm.snapshotState();
        vm.prank(address(account));
        uint256 gasLeft = gasleft();
        (bool ok,) = address(sessions).call(data);
        used = gasLeft - gasleft();
        vm.assertTrue(ok, "validated");
        vm.revertToState(before);
    }

    /// @dev A P-256 session key (WebCrypto's, the browser's) takes the fast path too, packed and with a high s; a
    /// signature the precompile refuses goes to the general path, which answers SIG_VALIDATION_FAILED.
    function test_aP256KeyTakesTheFastPath() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        spec.signer = p256SignerBytes();
        addTransfer(spec, recipient, 0.01 ether, lifetime(1 ether));
        create(spec);
        PackedUserOperation memory op = transferOp(recipient, 5);
        op.callData = packedExecute(op.callData);
        op = sign(op, spec);
        vm.assertLt(_fastEntryGas(op) + 1000, _generalEntryGas(op), "the fast path handles it");
        vm.assertTrue(_bothPaths(op, spec), "accepted");
        vm.assertEq(state(spec).transferValueRemaining[0], 1 ether - 5);
        // The same signature with s replaced by N - s.
        PackedUserOperation memory high = sign(transferOp(recipient, 6), spec);
        uint256 sAt = high.signature.length - 32;
        uint256 highS = P256_N - uint256(bytes32(slice(high.signature, sAt, sAt + 32)));
        for (uint256 i = 0; i < 32; ++i) {
            high.signature[sAt + i] = bytes32(highS)[i];
        }
        vm.assertTrue(_bothPaths(high, spec), "a high s is accepted");
        vm.assertEq(state(spec).transferValueRemaining[0], 1 ether - 11);
        // A bad signature: the same answer and state from both.
        PackedUserOperation memory bad = sign(transferOp(recipient, 7), spec);
        bad.signature[sAt] = bytes1(uint8(bad.signature[sAt]) ^ 1);
        vm.assertFalse(_bothPaths(bad, spec), "refused");
    }

    /// @dev The shape of `pnpm bench:gas`'s session ETH transfer takes the fast path, and counts the fee and value.
    function test_theBenchShapeTakesTheFastPath() public {
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, 0.01 ether, lifetime(1 ether));
        create(spec);
        PackedUserOperation memory op = sign(transferOp(recipient, 1), spec);
        vm.assertLt(_fastEntryGas(op) + 1000, _generalEntryGas(op), "the fast path handles it");
        vm.assertTrue(_bothPaths(op, spec), "accepted");
        ISessionKeyValidator.SessionState memory s = state(spec);
        vm.assertEq(s.transferValueRemaining[0], 1 ether - 1);
        vm.assertEq(s.feeRemaining, 1 ether - feeOf(op));
        // As the SDK sends it: packed, 88 bytes.
        PackedUserOperation memory packedOp = transferOp(recipient, 2);
        packedOp.callData = packedExecute(packedOp.callData);
        vm.assertEq(packedOp.callData.length, 88);
        packedOp = sign(packedOp, spec);
        vm.assertLt(_fastEntryGas(packedOp) + 1000, _generalEntryGas(packedOp), "the fast path handles it packed");
        vm.assertTrue(_bothPaths(packedOp, spec), "accepted packed");
        s = state(spec);
        vm.assertEq(s.transferValueRemaining[0], 1 ether - 3);
        vm.assertEq(s.feeRemaining, 1 ether - feeOf(op) - feeOf(packedOp));
    }
}
// forge-lint: disable-end(block-timestamp, unsafe-typecast)
