// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoTest} from "../utils/SsoTest.sol";
import {SimpleAccountFactory} from "@account-abstraction/contracts/accounts/SimpleAccountFactory.sol";
import {IEntryPoint as AAEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

interface ISenderCreatorView {
    function senderCreator() external view returns (address);
}

/// @notice The same measurement for the reference SimpleAccount v0.8 (ECDSA owner), compiled here: the ratio
/// to {HandleOpsGasTest} is what the gas target is about.
contract SimpleAccountBaselineGasTest is SsoTest {
    uint256 internal constant WARM_IN_REAL_TX = 2 * 2600;

    address internal simpleAccount;
    uint256 internal ownerKey;
    address internal recipient;
    PackedUserOperation internal pending;

    event log_named_uint(string key, uint256 val);

    function setUp() public override {
        super.setUp();
        address owner;
        (owner, ownerKey) = makeAddrAndKey("simple owner");
        SimpleAccountFactory simpleFactory = new SimpleAccountFactory(AAEntryPoint(address(ENTRYPOINT)));
        vm.prank(ISenderCreatorView(address(ENTRYPOINT)).senderCreator());
        simpleAccount = address(simpleFactory.createAccount(owner, 0));
        vm.deal(simpleAccount, 10 ether);
        recipient = makeAddr("recipient");
        vm.deal(recipient, 1 ether);
        _send(_op(1 wei));
        pending = _op(1 ether);
    }

    function _op(uint256 value) internal view returns (PackedUserOperation memory op) {
        op.sender = simpleAccount;
        op.nonce = ENTRYPOINT.getNonce(simpleAccount, 0);
        op.callData = abi.encodeWithSignature("execute(address,uint256,bytes)", recipient, value, "");
        op.accountGasLimits = bytes32(uint256(600_000) << 128 | uint256(200_000));
        op.preVerificationGas = 60_000;
        op.gasFees = bytes32(uint256(1 gwei) << 128 | uint256(1 gwei));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, ENTRYPOINT.getUserOpHash(op));
        op.signature = abi.encodePacked(r, s, v);
    }

    function _send(PackedUserOperation memory op) internal returns (uint256) {
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        bytes memory data = abi.encodeCall(ENTRYPOINT.handleOps, (ops, bundler));
        vm.prank(bundler, bundler);
        uint256 before = gasleft();
        (bool ok,) = address(ENTRYPOINT).call(data);
        uint256 used = before - gasleft();
        require(ok, "handleOps failed");
        uint256 calldataGas;
        for (uint256 i = 0; i < data.length; ++i) {
            calldataGas += data[i] == 0 ? 4 : 16;
        }
        return used + 21_000 + calldataGas - WARM_IN_REAL_TX;
    }

    function test_gas_simpleAccountEthTransfer() public {
        uint256 gas = _send(pending);
        vm.assertEq(recipient.balance, 2 ether + 1 wei);
        emit log_named_uint("SimpleAccount ETH transfer, approx. tx gas", gas);
    }
}
