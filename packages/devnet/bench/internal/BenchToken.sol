// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A plain OpenZeppelin ERC-20 for the gas benchmark: the whole supply goes to `holder`.
contract BenchToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("Bench Token", "BENCH") {
        _mint(holder, supply);
    }
}
