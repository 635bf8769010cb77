// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title DemoToken
/// @notice The devnet's demo ERC-20 ("Demo Dollar", DUSD, 6 decimals): something other than ETH for the demo's
/// sessions, the dashboard's assets and the tests. Anyone may mint, up to {MAX_MINT} per call - a faucet on a
/// local chain, never deployed to a real one (docs/deploy.md, "Contracts").
contract DemoToken is ERC20 {
    /// @notice The most one {mint} call creates: 1,000,000 DUSD.
    uint256 public constant MAX_MINT = 1_000_000e6;

    /// @notice A {mint} asked for more than {MAX_MINT}.
    error MintTooLarge(uint256 amount, uint256 max);

    constructor() ERC20("Demo Dollar", "DUSD") {}

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` (in units of 10^-6 DUSD) to `to`.
    function mint(address to, uint256 amount) external {
        if (amount > MAX_MINT) revert MintTooLarge(amount, MAX_MINT);
        _mint(to, amount);
    }
}
