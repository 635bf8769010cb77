// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {GuardianTest} from "../GuardianExecutor/GuardianTest.sol";

/// @notice Approximate transaction gas of the recovery flow, as plain transactions (a guardian EOA calls the
/// executor; anyone finalizes): tx gas ≈ 21,000 + calldata + execution measured from a fresh test transaction, minus
/// the cold access to the executor (the transaction's target is warm in a real transaction); storage the flow's
/// earlier steps touched is cooled first. The devnet bench
/// (`pnpm bench:gas`, recovery rows) measures the same calls on anvil.
contract GuardianExecutorGasTest is GuardianTest {
    uint256 internal constant WARM_IN_REAL_TX = 2600;

    IGuardianExecutor.RecoveryProposal internal proposal;
    bytes32 internal id;

    event log_named_uint(string key, uint256 val);

    function setUp() public override {
        super.setUp();
        threeGuardians(2);
        proposal = defaultProposal();
        id = idOf(proposal, 0);
    }

    function _tx(address from, bytes memory data) internal returns (uint256 txGas) {
        // Earlier steps of the flow ran in this same test transaction: make their accesses cold again.
        vm.cool(address(executor));
        vm.cool(address(validator));
        vm.cool(address(sessions));
        vm.cool(address(account));
        vm.prank(from);
        uint256 before = gasleft();
        (bool ok,) = address(executor).call(data);
        uint256 used = before - gasleft();
        require(ok, "call failed");
        txGas = used + 21_000 + _calldataGas(data) - WARM_IN_REAL_TX;
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        for (uint256 i = 0; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    function _start() internal {
        vm.prank(alice);
        executor.startRecovery(address(account), proposal);
    }

    function test_gas_startRecovery() public {
        uint256 gas = _tx(alice, abi.encodeCall(executor.startRecovery, (address(account), proposal)));
        vm.assertEq(executor.recoveryState(address(account)).id, id);
        emit log_named_uint("start (propose) recovery, guardian EOA tx, approx. tx gas", gas);
        // 124,165 measured (via-IR) + ~3%; the proof check reads the passkey's registration nonce (a cold slot).
        vm.assertLe(gas, 127_900, "start regressed");
    }

    function test_gas_approveRecovery_schedules() public {
        _start();
        uint256 gas = _tx(bob, abi.encodeCall(executor.approveRecovery, (address(account), id)));
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        emit log_named_uint("approve recovery (reaches 2-of-3, schedules), guardian EOA tx, approx. tx gas", gas);
        // 42,361 measured + ~3%.
        vm.assertLe(gas, 43_700, "approve regressed");
    }

    function test_gas_approveRecoveryWithSignatures_twoGuardians() public {
        IGuardianExecutor.GuardianSignature[] memory sigs = new IGuardianExecutor.GuardianSignature[](2);
        sigs[0] = IGuardianExecutor.GuardianSignature(alice, approvalSignature(aliceKey, id));
        sigs[1] = IGuardianExecutor.GuardianSignature(bob, approvalSignature(bobKey, id));
        uint256 gas = _tx(
            makeAddr("relayer"),
            abi.encodeCall(executor.approveRecoveryWithSignatures, (address(account), proposal, sigs))
        );
        vm.assertEq(uint256(status()), uint256(IGuardianExecutor.RecoveryStatus.Delayed));
        emit log_named_uint("start + 2 signatures (scheduled in one tx), approx. tx gas", gas);
        // 159,966 measured + ~3%.
        vm.assertLe(gas, 164_800, "signatures regressed");
    }

    function test_gas_finalizeRecovery() public {
        _start();
        vm.prank(bob);
        executor.approveRecovery(address(account), id);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        uint256 gas = _tx(makeAddr("anyone"), abi.encodeCall(executor.finalizeRecovery, (address(account), proposal)));
        vm.assertEq(validator.passkeyCount(address(account)), 2);
        emit log_named_uint("finalize recovery (add passkey), approx. tx gas", gas);
        // 182,215 measured + ~3%: mostly fresh slots (the passkey's word in the account, the validator's passkey count
        // and proven index); the validator writes the word to the account and reads it back.
        vm.assertLe(gas, 187_700, "finalize regressed");
    }

    function test_gas_finalizeRecovery_removeOneAndRevokeSessions() public {
        proposal.removedCredentialIds.push(owner.credentialId);
        proposal.revokeSessions = true;
        id = idOf(proposal, 0);
        _start();
        vm.prank(bob);
        executor.approveRecovery(address(account), id);
        vm.warp(vm.getBlockTimestamp() + 24 hours);
        uint256 gas = _tx(makeAddr("anyone"), abi.encodeCall(executor.finalizeRecovery, (address(account), proposal)));
        vm.assertEq(validator.passkeyCount(address(account)), 1);
        emit log_named_uint(
            "finalize recovery (add, remove the lost passkey, revoke all sessions), approx. tx gas", gas
        );
        // 262,290 measured + ~3%: removing a passkey also moves its registration nonce (a fresh slot); each passkey
        // change is a write to the account and a read back.
        vm.assertLe(gas, 270_200, "finalize with options regressed");
    }
}
