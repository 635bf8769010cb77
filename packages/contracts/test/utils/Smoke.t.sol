// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "./Test.sol";

contract SmokeTest is Test {
    function test_cheatcodes() public {
        (bytes32 r, bytes32 s) = vm.signP256(1, keccak256("x"));
        vm.assertTrue(r != 0 && s != 0);
        vm.warp(1000);
        vm.assertEq(block.timestamp, 1000);
        address a = makeAddr("a");
        vm.deal(a, 1 ether);
        vm.assertEq(a.balance, 1 ether);
    }

    function testFuzz_bound(uint256 x) public pure {
        uint256 y = bound(x, 3, 9);
        vm.assertTrue(y >= 3 && y <= 9);
    }
}
