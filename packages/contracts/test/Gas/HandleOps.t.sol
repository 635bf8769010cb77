// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccountFactory} from "../../src/AccountFactory.sol";
import {GuardianExecutor} from "../../src/GuardianExecutor.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {MockERC20, MockInertValidator} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @notice Approximates the bundle transaction gas (`handleOps` gasUsed) of the hot paths, with the real
/// EntryPoint v0.8 bytecode. tx gas ≈ 21,000 + calldata + execution, where execution is measured from a fresh
/// test transaction; accesses that are warm in a real bundle tx (the EntryPoint as tx target, the beneficiary as
/// tx.origin) are cold here and subtracted (2 × 2,600). The end-to-end benchmark through Alto is the reference.
contract HandleOpsGasTest is SsoTest {
    uint256 internal constant WARM_IN_REAL_TX = 2 * 2600;

    Passkey internal key;
    SsoAccount internal account;
    address internal recipient;
    MockERC20 internal token;
    PackedUserOperation internal pendingTransfer;
    PackedUserOperation internal pendingTokenTransfer;
    PackedUserOperation internal pendingDeployment;

    event log_named_uint(string key, uint256 val);

    function setUp() public override {
        super.setUp();
        // As deployed: a second preset default validator (the SessionKeyValidator's place, empty onInstall) and the
        // GuardianExecutor as a preset default executor.
        MockInertValidator sessions = new MockInertValidator();
        GuardianExecutor guardians = new GuardianExecutor(validator, ISessionKeyValidator(address(sessions)));
        uint256[] memory types = new uint256[](3);
        address[] memory modules = new address[](3);
        (types[0], modules[0]) = (1, address(validator));
        (types[1], modules[1]) = (1, address(sessions));
        (types[2], modules[2]) = (2, address(guardians));
        implementation = new SsoAccount(types, modules);
        uint256[] memory defaultTypes = new uint256[](2);
        address[] memory defaults = new address[](2);
        (defaultTypes[0], defaults[0]) = (1, address(sessions));
        (defaultTypes[1], defaults[1]) = (2, address(guardians));
        factory = new AccountFactory(address(this), address(implementation), address(validator), defaultTypes, defaults);
        key = makePasskey("alice");
        account = createAccount(key);
        recipient = makeAddr("recipient");
        vm.deal(recipient, 1 ether);
        token = new MockERC20();
        token.mint(address(account), 1000 ether);
        token.mint(recipient, 1 ether);
        // A first op so the nonce slot and the bundler are non-zero, as in steady state.
        _send(_signed(buildUserOp(address(account), address(validator), singleCall(recipient, 1 wei, ""))));
        // Built here so the measured tests touch nothing before handleOps.
        pendingTransfer = _signed(buildUserOp(address(account), address(validator), singleCall(recipient, 1 ether, "")));
        pendingTokenTransfer = _signed(
            buildUserOp(
                address(account),
                address(validator),
                singleCall(address(token), 0, abi.encodeCall(token.transfer, (recipient, 1 ether)))
            )
        );
        Passkey memory bob = makePasskey("bob");
        address sender = factory.getAddress(bob.credentialId, bob.x, bob.y, bob.rpId, bob.origin);
        vm.deal(sender, 2 ether);
        PackedUserOperation memory deployment =
            buildUserOp(sender, address(validator), singleCall(recipient, 1 ether, ""));
        deployment.initCode = abi.encodePacked(
            address(factory),
            abi.encodeCall(AccountFactory.createAccount, (bob.credentialId, bob.x, bob.y, bob.rpId, bob.origin))
        );
        deployment.signature = signWebAuthn(bob, ENTRYPOINT.getUserOpHash(deployment));
        pendingDeployment = deployment;
    }

    function _signed(PackedUserOperation memory op) internal view returns (PackedUserOperation memory) {
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        return op;
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
        txGas = used + 21_000 + calldataGas(data) - WARM_IN_REAL_TX;
    }

    function calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        for (uint256 i = 0; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    function test_gas_ethTransfer() public {
        uint256 gas = _send(pendingTransfer);
        vm.assertEq(recipient.balance, 2 ether + 1 wei);
        emit log_named_uint("passkey ETH transfer, approx. tx gas", gas);
        // Same harness, reference SimpleAccount v0.8: see SimpleAccountBaseline.t.sol (90,298 here, 83,273 through
        // Alto). Target: ≤ 1.2x SimpleAccount and ≤ 100,000 in the real bundle transaction. 101,513 measured with
        // the short-form passkey signature (packages/contracts/README.md, Gas).
        vm.assertLe(gas, 108_357, "ETH transfer over 1.2x SimpleAccount (90,298 x 1.2)");
    }

    function test_gas_erc20Transfer() public {
        uint256 gas = _send(pendingTokenTransfer);
        vm.assertEq(token.balanceOf(recipient), 2 ether);
        emit log_named_uint("passkey ERC-20 transfer, approx. tx gas", gas);
        // 108,021 measured with the short-form passkey signature; the bound is an older figure + ~3%.
        vm.assertLe(gas, 114_900, "ERC-20 transfer regressed");
    }

    function test_gas_deploymentWithFirstUserOp() public {
        uint256 gas = _send(pendingDeployment);
        vm.assertGt(pendingDeployment.sender.code.length, 0);
        vm.assertEq(recipient.balance, 2 ether + 1 wei, "the transfer ran");
        emit log_named_uint("deployment via first userOp (ETH transfer), approx. tx gas", gas);
        // 325,197 measured (with the GuardianExecutor as a preset default executor and the short-form passkey
        // signature). Target: ≤ 350,000.
        vm.assertLe(gas, 332_800, "deployment regressed");
    }
}
