// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {SessionTest} from "./SessionTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @notice The validator's own gas for the session userOps of `pnpm bench:gas` (the account's call to
/// `validateUserOpWithKnownVersion`, slots warm): what a change to the validation path saves.
contract SessionValidateGasTest is SessionTest {
    event log_named_uint(string key, uint256 val);

    uint48 internal createdAt;

    function setUp() public override {
        super.setUp();
        createdAt = uint48(vm.getBlockTimestamp());
        create(_ethSpec());
        create(_bothSpec());
        create(_p256EthSpec());
    }

    /// @dev The ETH policy with a P-256 session key, as the browser's (WebCrypto) keys are.
    function _p256EthSpec() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = _ethSpec();
        spec.signer = p256SignerBytes();
    }

    function _ethSpec() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = baseSpec();
        spec.expiresAt = createdAt + DAY;
        addTransfer(spec, recipient, 0.01 ether, lifetime(1 ether));
    }

    function _bothSpec() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = baseSpec();
        spec.expiresAt = createdAt + DAY;
        uint256 p = addCall(spec, address(token), token.transfer.selector, 0, unlimited());
        addConstraint(
            spec, p, ISessionKeyValidator.Condition.Equal, 0, bytes32(uint256(uint160(recipient))), unlimited()
        );
        addConstraint(spec, p, ISessionKeyValidator.Condition.Unconstrained, 1, bytes32(0), allowance(100 ether, DAY));
        addTransfer(spec, recipient, 0.01 ether, lifetime(1 ether));
    }

    function _validate(PackedUserOperation memory op) internal returns (uint256 used) {
        bytes memory data = abi.encodeCall(
            sessions.validateUserOpWithKnownVersion, (op, ENTRYPOINT.getUserOpHash(op), account.modulesVersion())
        );
        vm.prank(address(account));
        (bool ok,) = address(sessions).call(data); // counters non-zero, as in steady state
        vm.assertTrue(ok);
        vm.prank(address(account));
        uint256 before = gasleft();
        (, bytes memory result) = address(sessions).call(data);
        used = before - gasleft();
        vm.assertEq(abi.decode(result, (uint256)) & 1, 0, "signature valid");
    }

    function test_gas_validate_ethTransfer() public {
        uint256 gas = _validate(sign(transferOp(recipient, 1), _ethSpec()));
        emit log_named_uint("validator gas, session ETH transfer (ETH policy)", gas);
    }

    function test_gas_validate_ethTransfer_p256Key() public {
        uint256 gas = _validate(sign(transferOp(recipient, 1), _p256EthSpec()));
        emit log_named_uint("validator gas, session ETH transfer (ETH policy, P-256 key)", gas);
    }

    function test_gas_validate_ethTransfer_bothPolicies() public {
        uint256 gas = _validate(sign(transferOp(recipient, 1), _bothSpec()));
        emit log_named_uint("validator gas, session ETH transfer (both policies)", gas);
    }

    function test_gas_validate_erc20Transfer_bothPolicies() public {
        uint256 gas = _validate(sign(tokenOp(recipient, 1), _bothSpec()));
        emit log_named_uint("validator gas, session ERC-20 transfer (both policies)", gas);
    }
}
