// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DemoToken} from "../../src/demo/DemoToken.sol";
import {Test} from "../utils/Test.sol";

contract DemoTokenTest is Test {
    DemoToken internal token;

    function setUp() public {
        token = new DemoToken();
    }

    function test_metadata() public view {
        vm.assertEq(token.name(), "Demo Dollar");
        vm.assertEq(token.symbol(), "DUSD");
        vm.assertEq(token.decimals(), 6);
    }

    function test_anyoneMintsUpToTheCap() public {
        vm.prank(address(0xBEEF));
        token.mint(address(0xCAFE), token.MAX_MINT());
        vm.assertEq(token.balanceOf(address(0xCAFE)), 1_000_000e6);
        vm.assertEq(token.totalSupply(), 1_000_000e6);
    }

    function test_mintAboveTheCapReverts() public {
        uint256 max = token.MAX_MINT();
        vm.expectRevert(abi.encodeWithSelector(DemoToken.MintTooLarge.selector, max + 1, max));
        token.mint(address(0xCAFE), max + 1);
        vm.assertEq(token.totalSupply(), 0);
    }
}
