// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @notice Approximates the bundle transaction gas (handleOps gasUsed) of the hot paths.
contract HandleOpsGasTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    address internal recipient;

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
        recipient = makeAddr("recipient");
        vm.deal(recipient, 1 ether);
        // A first op so the nonce slot and the recipient are non-zero, as in steady state.
        _send(_transferOp(1 wei));
        // Built here so the measured test touches nothing before handleOps (cold accounts and slots).
        _storeOp(_transferOp(1 ether));
    }

    PackedUserOperation internal pending;

    function _storeOp(PackedUserOperation memory op) internal {
        pending = op;
    }

    function _transferOp(uint256 value) internal view returns (PackedUserOperation memory op) {
        op = buildUserOp(address(account), address(validator), singleCall(recipient, value, ""));
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
    }

    function _send(PackedUserOperation memory op) internal returns (uint256 txGas) {
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        bytes memory data = abi.encodeCall(ENTRYPOINT.handleOps, (ops, bundler));
        vm.prank(bundler, bundler);
        uint256 before = gasleft();
        (bool ok,) = address(ENTRYPOINT).call(data);
        uint256 used = before - gasleft();
        require(ok, "handleOps failed");
        txGas = used + 21_000 + calldataGas(data);
        emit log_named_uint("handleOps execution", used);
        emit log_named_uint("calldata", calldataGas(data));
        emit log_named_uint("calldata bytes", data.length);
    }

    function calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        for (uint256 i = 0; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    function test_gas_ethTransfer() public {
        uint256 gas = _send(pending);
        vm.assertEq(recipient.balance, 2 ether + 1 wei);
        emit log_named_uint("passkey ETH transfer (approx. tx gas)", gas);
        vm.assertLe(gas, 100_000, "ETH transfer over budget");
    }

    event log_named_uint(string key, uint256 val);
}
