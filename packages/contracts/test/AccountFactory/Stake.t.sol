// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccountFactory} from "../../src/AccountFactory.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {IStakeManager} from "@account-abstraction/contracts/interfaces/IStakeManager.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice The factory's EntryPoint stake (ERC-7562: public bundlers accept deploying userOps of a staked
/// factory only), managed by its owner.
contract AccountFactoryStakeTest is SsoTest {
    uint32 internal constant DELAY = 1 days;

    address internal owner;
    address internal stranger;
    address payable internal receiver;

    function setUp() public override {
        super.setUp();
        owner = makeAddr("owner");
        stranger = makeAddr("stranger");
        receiver = payable(makeAddr("receiver"));
        factory =
            new AccountFactory(owner, address(implementation), address(validator), new uint256[](0), new address[](0));
        vm.deal(owner, 10 ether);
        vm.deal(stranger, 10 ether);
    }

    function _info() internal view returns (IStakeManager.DepositInfo memory) {
        return IStakeManager(address(ENTRYPOINT)).getDepositInfo(address(factory));
    }

    function test_ownerAndEntryPoint() public view {
        vm.assertEq(factory.owner(), owner);
        vm.assertEq(address(factory.entryPoint()), address(ENTRYPOINT));
    }

    function test_addStake_locksTheValueInTheEntryPoint() public {
        vm.expectEmit(address(ENTRYPOINT));
        emit IStakeManager.StakeLocked(address(factory), 1 ether, DELAY);
        vm.prank(owner);
        factory.addStake{value: 1 ether}(DELAY);
        IStakeManager.DepositInfo memory info = _info();
        vm.assertTrue(info.staked);
        vm.assertEq(info.stake, 1 ether);
        vm.assertEq(info.unstakeDelaySec, DELAY);
        vm.assertEq(info.withdrawTime, 0);
        vm.assertEq(info.deposit, 0);
        vm.assertEq(address(factory).balance, 0);
    }

    function test_addStake_addsToTheStakeAndMayLengthenTheDelay() public {
        vm.startPrank(owner);
        factory.addStake{value: 1 ether}(DELAY);
        factory.addStake{value: 0.5 ether}(2 * DELAY);
        vm.stopPrank();
        IStakeManager.DepositInfo memory info = _info();
        vm.assertEq(info.stake, 1.5 ether);
        vm.assertEq(info.unstakeDelaySec, 2 * DELAY);
    }

    function test_addStake_cannotShortenTheDelay() public {
        vm.startPrank(owner);
        factory.addStake{value: 1 ether}(DELAY);
        vm.expectRevert(bytes("cannot decrease unstake time"));
        factory.addStake{value: 1 ether}(DELAY - 1);
        vm.stopPrank();
    }

    function test_unlockStake_startsTheDelay() public {
        vm.prank(owner);
        factory.addStake{value: 1 ether}(DELAY);
        vm.prank(owner);
        factory.unlockStake();
        IStakeManager.DepositInfo memory info = _info();
        vm.assertFalse(info.staked);
        vm.assertEq(info.stake, 1 ether);
        vm.assertEq(info.withdrawTime, block.timestamp + DELAY);
    }

    function test_withdrawStake_paysTheReceiverAfterTheDelay() public {
        vm.prank(owner);
        factory.addStake{value: 1 ether}(DELAY);
        vm.prank(owner);
        factory.unlockStake();

        vm.warp(block.timestamp + DELAY - 1);
        vm.prank(owner);
        vm.expectRevert(bytes("Stake withdrawal is not due"));
        factory.withdrawStake(receiver);

        vm.warp(block.timestamp + 1);
        vm.prank(owner);
        factory.withdrawStake(receiver);
        vm.assertEq(receiver.balance, 1 ether);
        IStakeManager.DepositInfo memory info = _info();
        vm.assertEq(info.stake, 0);
        vm.assertEq(info.unstakeDelaySec, 0);
        vm.assertFalse(info.staked);
    }

    function test_withdrawStake_needsUnlockFirst() public {
        vm.prank(owner);
        factory.addStake{value: 1 ether}(DELAY);
        vm.prank(owner);
        vm.expectRevert(bytes("must call unlockStake() first"));
        factory.withdrawStake(receiver);
    }

    function test_onlyTheOwnerManagesTheStake() public {
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        factory.addStake{value: 1 ether}(DELAY);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        factory.unlockStake();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        factory.withdrawStake(payable(stranger));
        vm.stopPrank();
        vm.assertEq(_info().stake, 0);
    }

    function test_aNewOwnerManagesTheStake() public {
        vm.prank(owner);
        factory.addStake{value: 1 ether}(DELAY);
        vm.prank(owner);
        factory.transferOwnership(stranger);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, owner));
        factory.unlockStake();
        vm.prank(stranger);
        factory.unlockStake();
        vm.assertFalse(_info().staked);
    }

    function test_constructor_rejectsAZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new AccountFactory(address(0), address(implementation), address(validator), new uint256[](0), new address[](0));
    }

    function test_stakeDoesNotChangeAccountCreation() public {
        Passkey memory key = makePasskey("alice");
        address predicted = factory.getAddress(key.credentialId, key.x, key.y, key.rpId, key.origin);
        vm.prank(owner);
        factory.addStake{value: 1 ether}(DELAY);
        vm.prank(stranger);
        address account = factory.createAccount(key.credentialId, key.x, key.y, key.rpId, key.origin);
        vm.assertEq(account, predicted);
        vm.assertGt(account.code.length, 0);
    }
}
