// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SponsorPaymaster} from "../../src/SponsorPaymaster.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {MockTarget} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

contract SponsorPaymasterTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    SponsorPaymaster internal paymaster;
    MockTarget internal target;
    address internal owner;
    address internal signer;
    uint256 internal signerKey;

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
        vm.deal(address(account), 0); // the paymaster pays
        owner = makeAddr("owner");
        (signer, signerKey) = makeAddrAndKey("paymaster signer");
        paymaster = new SponsorPaymaster(owner, address(0));
        vm.deal(address(this), 10 ether);
        paymaster.deposit{value: 5 ether}();
        target = new MockTarget();
    }

    function _op(bytes memory paymasterData) internal view returns (PackedUserOperation memory op) {
        op = buildUserOp(
            address(account), address(validator), singleCall(address(target), 0, abi.encodeCall(MockTarget.hit, (1)))
        );
        op.paymasterAndData = abi.encodePacked(address(paymaster), uint128(100_000), uint128(50_000), paymasterData);
    }

    function _sign(PackedUserOperation memory op) internal view returns (PackedUserOperation memory) {
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        return op;
    }

    function _expectPaymasterRejected(PackedUserOperation memory op) internal {
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        vm.prank(bundler, bundler);
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA34 signature error"));
        ENTRYPOINT.handleOps(ops, bundler);
    }

    function test_sponsorsEverythingWithoutSigner() public {
        uint256 depositBefore = ENTRYPOINT.balanceOf(address(paymaster));
        handleOp(_sign(_op("")));
        vm.assertEq(target.counter(), 1);
        vm.assertEq(address(account).balance, 0);
        vm.assertLt(ENTRYPOINT.balanceOf(address(paymaster)), depositBefore);
    }

    function _signedPaymasterData(PackedUserOperation memory op, uint48 validAfter, uint48 validUntil, uint256 pk)
        internal
        view
        returns (bytes memory)
    {
        bytes32 hash = paymaster.getHash(op, validAfter, validUntil);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, hash);
        return abi.encodePacked(validAfter, validUntil, r, s, v);
    }

    function test_withSigner_requiresItsSignature() public {
        vm.prank(owner);
        paymaster.setVerifyingSigner(signer);
        vm.assertEq(paymaster.verifyingSigner(), signer);

        // No signature: rejected.
        _expectPaymasterRejected(_sign(_op("")));

        // Signed by someone else: rejected.
        PackedUserOperation memory op = _op(new bytes(77));
        (, uint256 otherKey) = makeAddrAndKey("not the signer");
        op.paymasterAndData = abi.encodePacked(
            address(paymaster), uint128(100_000), uint128(50_000), _signedPaymasterData(op, 0, 0, otherKey)
        );
        _expectPaymasterRejected(_sign(op));

        // Signed by the signer: sponsored.
        op = _op(new bytes(77));
        op.paymasterAndData = abi.encodePacked(
            address(paymaster), uint128(100_000), uint128(50_000), _signedPaymasterData(op, 0, 0, signerKey)
        );
        handleOp(_sign(op));
        vm.assertEq(target.counter(), 1);
    }

    function test_withSigner_expiredIsRejected() public {
        vm.prank(owner);
        paymaster.setVerifyingSigner(signer);
        vm.warp(1000);
        PackedUserOperation memory op = _op(new bytes(77));
        op.paymasterAndData = abi.encodePacked(
            address(paymaster), uint128(100_000), uint128(50_000), _signedPaymasterData(op, 0, 999, signerKey)
        );
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = _sign(op);
        vm.prank(bundler, bundler);
        vm.expectRevert(abi.encodeWithSignature("FailedOp(uint256,string)", 0, "AA32 paymaster expired or not due"));
        ENTRYPOINT.handleOps(ops, bundler);
    }

    function testFuzz_onlyOwnerManages(address stranger) public {
        vm.assume(stranger != owner);
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        paymaster.setVerifyingSigner(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        paymaster.withdraw(payable(stranger), 1);
        vm.stopPrank();
    }

    function test_ownerWithdraws() public {
        address payable to = payable(makeAddr("treasury"));
        vm.prank(owner);
        paymaster.withdraw(to, 1 ether);
        vm.assertEq(to.balance, 1 ether);
        vm.assertEq(ENTRYPOINT.balanceOf(address(paymaster)), 4 ether);
    }

    function test_onlyEntryPointValidates() public {
        PackedUserOperation memory op = _op("");
        vm.expectRevert();
        paymaster.validatePaymasterUserOp(op, bytes32(0), 0);
    }
}
