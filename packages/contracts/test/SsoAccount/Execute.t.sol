// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISsoAccount} from "../../src/account/ISsoAccount.sol";
import {MockModule, MockTarget} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

contract SsoAccountExecuteTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    MockTarget internal target;

    event UserOperationEvent(
        bytes32 indexed userOpHash,
        address indexed sender,
        address indexed paymaster,
        uint256 nonce,
        bool success,
        uint256 actualGasCost,
        uint256 actualGasUsed
    );

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
        target = new MockTarget();
    }

    function _signed(bytes memory callData) internal view returns (PackedUserOperation memory op) {
        op = buildUserOp(address(account), address(validator), callData);
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
    }

    function test_userOp_single() public {
        handleOp(_signed(singleCall(address(target), 1 ether, abi.encodeCall(MockTarget.hit, (5)))));
        vm.assertEq(target.counter(), 5);
        vm.assertEq(target.lastCaller(), address(account));
        vm.assertEq(target.lastValue(), 1 ether);
    }

    function test_userOp_batch() public {
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(address(target), 0, abi.encodeCall(MockTarget.hit, (1)));
        calls[1] = Execution(address(target), 2, abi.encodeCall(MockTarget.hit, (2)));
        handleOp(_signed(batchCall(calls)));
        vm.assertEq(target.counter(), 3);
        vm.assertEq(address(target).balance, 2);
    }

    function test_userOp_batchRevertsAtomically() public {
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(address(target), 0, abi.encodeCall(MockTarget.hit, (1)));
        calls[1] = Execution(address(target), 0, abi.encodeCall(MockTarget.boom, ()));
        PackedUserOperation memory op = _signed(batchCall(calls));
        vm.recordLogs();
        handleOp(op);
        vm.assertEq(target.counter(), 0);
    }

    function test_single_bubblesTheRevert() public {
        vm.prank(address(ENTRYPOINT));
        vm.expectRevert(abi.encodeWithSelector(MockTarget.Boom.selector, 42));
        account.execute(
            mode(0x00, 0x00), abi.encodePacked(address(target), uint256(0), abi.encodeCall(MockTarget.boom, ()))
        );
        vm.prank(address(ENTRYPOINT));
        vm.expectRevert(abi.encodeWithSignature("ERC7579DecodingError()"));
        account.execute(mode(0x00, 0x00), abi.encodePacked(address(target)));
    }

    function test_try_continuesAfterFailure() public {
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(address(target), 0, abi.encodeCall(MockTarget.boom, ()));
        calls[1] = Execution(address(target), 0, abi.encodeCall(MockTarget.hit, (7)));
        vm.prank(address(ENTRYPOINT));
        account.execute(mode(0x01, 0x01), abi.encode(calls));
        vm.assertEq(target.counter(), 7);
    }

    function test_self_canExecute() public {
        vm.prank(address(account));
        account.execute(
            mode(0x00, 0x00), abi.encodePacked(address(target), uint256(0), abi.encodeCall(MockTarget.hit, (1)))
        );
        vm.assertEq(target.counter(), 1);
    }

    /// @dev Attack (docs/webauthn.md, "Registering passkeys"): an execution that calls a module's `onInstall` or
    /// `onUninstall` itself, e.g. to add a passkey the account does not count and that would outlive the
    /// validator's uninstall, is refused in every execution path; installModule / uninstallModule still work.
    function test_attack_moduleHookCallsRefused() public {
        Passkey memory mallory = makePasskey("mallory");
        bytes memory addKey = abi.encodeCall(
            validator.onInstall, (abi.encode(mallory.credentialId, mallory.x, mallory.y, RP_ID, ORIGIN))
        );
        bytes memory removeAll = abi.encodeCall(validator.onUninstall, (abi.encode(new bytes[](0))));
        bytes memory single = abi.encodePacked(address(validator), uint256(0), addKey);
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(address(target), 0, abi.encodeCall(MockTarget.hit, (1)));
        calls[1] = Execution(address(validator), 0, removeAll);
        bytes memory refusedAdd = abi.encodeWithSelector(
            ISsoAccount.ModuleHookCall.selector, address(validator), validator.onInstall.selector
        );
        bytes memory refusedRemove = abi.encodeWithSelector(
            ISsoAccount.ModuleHookCall.selector, address(validator), validator.onUninstall.selector
        );

        vm.startPrank(address(account));
        vm.expectRevert(refusedAdd);
        account.execute(mode(0x00, 0x00), single); // single, default
        vm.expectRevert(refusedAdd);
        account.execute(mode(0x00, 0x01), single); // single, try
        vm.expectRevert(refusedRemove);
        account.execute(mode(0x01, 0x00), abi.encode(calls)); // batch
        vm.expectRevert(refusedRemove);
        account.execute(mode(0x01, 0x01), abi.encode(calls)); // batch, try
        vm.stopPrank();

        // an installed executor can't either
        MockModule executor = new MockModule(2);
        vm.prank(address(account));
        account.installModule(2, address(executor), "");
        vm.prank(address(executor));
        vm.expectRevert(refusedAdd);
        account.executeFromExecutor(mode(0x00, 0x00), single);

        // a passkey-signed userOp fails in execution and changes nothing
        handleOp(_signed(singleCall(address(validator), 0, addKey)));
        vm.assertEq(validator.passkeyCount(address(account)), 1);
        vm.assertFalse(
            validator.hasPasskey(address(account), mallory.credentialId, mallory.x, mallory.y, RP_ID, ORIGIN)
        );
        vm.assertEq(target.counter(), 0);
    }

    // --------------------------------------------------------------------------------------------------------
    // executePacked_ezig: execute with packed arguments (what the SDK sends)
    // --------------------------------------------------------------------------------------------------------

    /// @dev `executePacked_ezig()` with `mode ‖ executionCalldata` after its selector.
    function _packed(bytes32 mode_, bytes memory executionCalldata) internal returns (bool ok, bytes memory out) {
        (ok, out) =
            address(account).call(abi.encodePacked(SsoAccount.executePacked_ezig.selector, mode_, executionCalldata));
    }

    function test_packed_selectorIsTheDispatchFirst() public pure {
        vm.assertEq(SsoAccount.executePacked_ezig.selector, bytes4(0x00000017));
    }

    function test_packed_userOpsSingleAndBatch() public {
        handleOp(_signed(packedExecute(singleCall(address(target), 1 ether, abi.encodeCall(MockTarget.hit, (5))))));
        vm.assertEq(target.counter(), 5);
        vm.assertEq(target.lastValue(), 1 ether);
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(address(target), 0, abi.encodeCall(MockTarget.hit, (1)));
        calls[1] = Execution(address(target), 2, abi.encodeCall(MockTarget.hit, (2)));
        handleOp(_signed(packedExecute(batchCall(calls))));
        vm.assertEq(target.counter(), 8);
        vm.assertEq(address(target).balance, 1 ether + 2);
    }

    /// @dev The packed entry is `execute`'s body: the same reverts, modes, try semantics and refusals.
    function test_packed_sameRulesAsExecute() public {
        bytes memory boom = abi.encodePacked(address(target), uint256(0), abi.encodeCall(MockTarget.boom, ()));
        vm.startPrank(address(ENTRYPOINT));
        (bool ok, bytes memory out) = _packed(mode(0x00, 0x00), boom);
        vm.assertFalse(ok);
        vm.assertEq(out, abi.encodeWithSelector(MockTarget.Boom.selector, 42), "bubbles the revert");
        (ok, out) = _packed(mode(0x00, 0x00), abi.encodePacked(address(target)));
        vm.assertEq(out, abi.encodeWithSignature("ERC7579DecodingError()"), "a single call under 52 bytes");
        (ok, out) = _packed(mode(0xff, 0x00), abi.encodePacked(address(target), uint256(0)));
        vm.assertEq(out, abi.encodeWithSelector(ISsoAccount.UnsupportedExecutionMode.selector, mode(0xff, 0x00)));
        // Shorter than the mode: nothing to execute.
        (ok, out) = address(account).call(abi.encodePacked(SsoAccount.executePacked_ezig.selector, bytes31(0)));
        vm.assertFalse(ok);
        vm.assertEq(out, abi.encodeWithSignature("ERC7579DecodingError()"), "no mode");
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(address(target), 0, abi.encodeCall(MockTarget.boom, ()));
        calls[1] = Execution(address(target), 0, abi.encodeCall(MockTarget.hit, (7)));
        (ok,) = _packed(mode(0x01, 0x01), abi.encode(calls));
        vm.assertTrue(ok, "batch, try");
        vm.assertEq(target.counter(), 7);
        // A module's onInstall called through it is refused, single and batch.
        bytes memory addKey = abi.encodeCall(validator.onInstall, (abi.encode(bytes32(0), 0, 0, RP_ID, ORIGIN)));
        bytes memory refused = abi.encodeWithSelector(
            ISsoAccount.ModuleHookCall.selector, address(validator), validator.onInstall.selector
        );
        (ok, out) = _packed(mode(0x00, 0x00), abi.encodePacked(address(validator), uint256(0), addKey));
        vm.assertEq(out, refused, "single");
        calls[1] = Execution(address(validator), 0, addKey);
        (ok, out) = _packed(mode(0x01, 0x00), abi.encode(calls));
        vm.assertEq(out, refused, "batch");
        vm.stopPrank();
    }

    function testFuzz_strangersCannotExecutePacked(address stranger) public {
        vm.assume(stranger != address(account) && stranger != address(ENTRYPOINT));
        vm.prank(stranger);
        (bool ok, bytes memory out) = _packed(mode(0x00, 0x00), abi.encodePacked(address(target), uint256(1)));
        vm.assertFalse(ok);
        vm.assertEq(out, abi.encodeWithSelector(Account.AccountUnauthorized.selector, stranger));
        vm.prank(address(account));
        (ok,) = _packed(
            mode(0x00, 0x00), abi.encodePacked(address(target), uint256(0), abi.encodeCall(MockTarget.hit, (3)))
        );
        vm.assertTrue(ok, "the account itself can");
        vm.assertEq(target.counter(), 3);
    }

    function testFuzz_strangersCannotExecute(address stranger) public {
        vm.assume(stranger != address(account) && stranger != address(ENTRYPOINT));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Account.AccountUnauthorized.selector, stranger));
        account.execute(mode(0x00, 0x00), abi.encodePacked(address(target), uint256(0), ""));
    }

    function test_unsupportedModesRevert() public {
        vm.assertFalse(account.supportsExecutionMode(mode(0xff, 0x00)));
        vm.assertFalse(account.supportsExecutionMode(mode(0x00, 0x02)));
        vm.assertTrue(account.supportsExecutionMode(mode(0x01, 0x01)));
        vm.prank(address(ENTRYPOINT));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.UnsupportedExecutionMode.selector, mode(0xff, 0x00)));
        account.execute(mode(0xff, 0x00), abi.encodePacked(address(target), ""));
    }

    function test_userOp_badSignatureIsRejected() public {
        PackedUserOperation memory op =
            buildUserOp(address(account), address(validator), singleCall(address(target), 0, ""));
        op.signature = signWebAuthn(key, keccak256("not this op"));
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        vm.prank(bundler, bundler);
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        ENTRYPOINT.handleOps(ops, bundler);
    }

    function test_userOp_uninstalledValidatorIsRejected() public {
        MockModule rogue = new MockModule(1); // returns 0 (success) for everything, but is not installed
        PackedUserOperation memory op =
            buildUserOp(address(account), address(rogue), singleCall(address(target), 0, ""));
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        vm.prank(bundler, bundler);
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        ENTRYPOINT.handleOps(ops, bundler);
    }

    function test_validateUserOp_onlyEntryPoint() public {
        PackedUserOperation memory op;
        vm.expectRevert(abi.encodeWithSelector(Account.AccountUnauthorized.selector, address(this)));
        account.validateUserOp(op, bytes32(0), 0);
    }

    function test_userOp_replayOnOtherChainFails() public {
        PackedUserOperation memory op = _signed(singleCall(address(target), 0, abi.encodeCall(MockTarget.hit, (1))));
        vm.chainId(block.chainid + 1);
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        vm.prank(bundler, bundler);
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        ENTRYPOINT.handleOps(ops, bundler);
    }

    function test_userOp_signatureForOtherAccountFails() public {
        SsoAccount other = createAccount(makePasskey("bob"));
        // Alice's passkey signs an op for Bob's account.
        PackedUserOperation memory op =
            buildUserOp(address(other), address(validator), singleCall(address(target), 0, ""));
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        vm.prank(bundler, bundler);
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA24 signature error"));
        ENTRYPOINT.handleOps(ops, bundler);
    }
}
