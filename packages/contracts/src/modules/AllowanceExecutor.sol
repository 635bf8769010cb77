// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {
    IERC7579Execution,
    IERC7579Module,
    IERC7579ModuleConfig,
    MODULE_TYPE_EXECUTOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

// Timestamps and amounts are stored narrowed after range checks.
// forge-lint: disable-start(unsafe-typecast, block-timestamp)
/// @title AllowanceExecutor
/// @notice An example ERC-7579 executor (module type 2): the account grants a spender (e.g. a dapp's address) an
/// allowance of ETH or of an ERC-20 per period, and the spender pulls from the account within it, with no signature
/// of the account per pull.
/// @dev The shape to copy for an executor:
/// - **State keyed by the account** (`msg.sender` of `onInstall`, `setAllowance`, ...): one module serves every
///   account that installs it, and an account only ever configures its own state.
/// - **Configuration only by the account**: `setAllowance` and `revokeAllowance` take the account from
///   `msg.sender`, so only a userOp the account's passkey signed (or `onInstall` data) changes them. Sessions can't:
///   the SessionKeyValidator forbids every installed module as a target.
/// - **Acting through `executeFromExecutor`**: {pull} checks the limit, records the spend, then asks the account
///   to make exactly one call (an ETH transfer or `token.transfer`). The account itself checks that this module is
///   installed, so an uninstalled module can't move anything.
/// - **Uninstall clears everything**: `onUninstall` moves the account's epoch, and allowances are keyed by epoch,
///   so every allowance is gone in one write (a re-install starts empty).
///
/// An allowance is `amount` per `period` seconds (0: `amount` once, never renewed). Periods are aligned on the
/// moment the allowance was set: the spent amount goes back to 0 at `start + k * period`. Setting an allowance
/// again replaces it and starts a new period with nothing spent.
contract AllowanceExecutor is IERC7579Module {
    /// @notice The token address that stands for ETH.
    address public constant ETH = address(0);

    /// @notice The longest period an allowance may have.
    uint256 public constant MAX_PERIOD = 365 days;

    /// @dev One slot per (account, epoch, spender, token).
    struct Allowance {
        uint128 amount;
        uint32 period;
        uint48 start;
        // Spent in the period that starts at `start` (`start` moves to the current period on each pull).
        uint128 spent;
    }

    /// @notice Emitted when `account` grants `spender` `amount` of `token` (address(0): ETH) per `period` seconds.
    event AllowanceSet(
        address indexed account, address indexed spender, address indexed token, uint256 amount, uint256 period
    );

    /// @notice Emitted when `account` revokes the allowance of `spender` for `token`.
    event AllowanceRevoked(address indexed account, address indexed spender, address indexed token);

    /// @notice Emitted when `spender` pulls `amount` of `token` from `account` to `to`.
    event AllowancePulled(
        address indexed account, address indexed spender, address indexed token, address to, uint256 amount
    );

    /// @notice Emitted when `account` uninstalls the module: every allowance of the account is gone.
    event AllowancesCleared(address indexed account);

    /// @notice Thrown when a pull exceeds what is left of the allowance in the current period.
    /// @param account The account pulled from.
    /// @param spender The caller.
    /// @param token The token (address(0): ETH).
    /// @param requested The amount asked for.
    /// @param available What is left in the current period.
    error AllowanceExceeded(address account, address spender, address token, uint256 requested, uint256 available);

    /// @notice Thrown when `spender` has no allowance of `token` from `account`.
    error NoAllowance(address account, address spender, address token);

    /// @notice Thrown when an allowance names address(0) as the spender, a zero amount, an amount over 2^128 - 1 or
    /// a period over {MAX_PERIOD}.
    error InvalidAllowance(address spender, uint256 amount, uint256 period);

    /// @notice Thrown when a pull sends to address(0) or asks for 0.
    error InvalidPull(address to, uint256 amount);

    /// @notice Thrown when the ERC-20 `transfer` returned false.
    error TokenTransferFailed(address token, address to, uint256 amount);

    /// @notice Thrown when the account has not installed this module as an executor.
    error NotInstalled(address account);

    /// @dev Single call, default exec type (ERC-7579 mode 0x00…).
    bytes32 private constant _SINGLE_MODE = bytes32(0);

    mapping(address account => uint256) private _epochs;
    mapping(
        address account => mapping(uint256 epoch => mapping(address spender => mapping(address token => Allowance)))
    ) private _allowances;

    // ---------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Called by the account when it installs the module. Empty `data` grants nothing; otherwise
    /// `data = abi.encode(address spender, address token, uint256 amount, uint256 period)` grants a first allowance
    /// (install and grant in one approval).
    /// @param data Empty, or the first allowance.
    function onInstall(bytes calldata data) external {
        if (data.length == 0) return;
        (address spender, address token, uint256 amount, uint256 period) =
            abi.decode(data, (address, address, uint256, uint256));
        _setAllowance(msg.sender, spender, token, amount, period);
    }

    /// @notice Called by the account when it uninstalls the module: every allowance of the account is cleared.
    function onUninstall(bytes calldata) external {
        ++_epochs[msg.sender];
        emit AllowancesCleared(msg.sender);
    }

    /// @notice This module is an executor (type 2) only.
    /// @param moduleTypeId ERC-7579 module type.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The account's configuration
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Grants `spender` `amount` of `token` per `period` seconds from the calling account, replacing any
    /// allowance of that spender and token (a new period starts, nothing spent).
    /// @param spender Who may pull (e.g. a dapp's address).
    /// @param token An ERC-20, or address(0) for ETH.
    /// @param amount The most `spender` may pull per period (token units, wei for ETH).
    /// @param period Seconds per period, at most {MAX_PERIOD}; 0: `amount` once, never renewed.
    function setAllowance(address spender, address token, uint256 amount, uint256 period) external {
        _requireInstalled(msg.sender);
        _setAllowance(msg.sender, spender, token, amount, period);
    }

    /// @notice Revokes the allowance of `spender` for `token` from the calling account.
    /// @param spender The spender.
    /// @param token The token (address(0): ETH).
    function revokeAllowance(address spender, address token) external {
        delete _allowances[msg.sender][_epochs[msg.sender]][spender][token];
        emit AllowanceRevoked(msg.sender, spender, token);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The spender
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Pulls `amount` of `token` from `account` to `to`, within the caller's allowance for the current
    /// period. The account makes the transfer (`executeFromExecutor`); it refuses if this module is not installed.
    /// @param account The account to pull from.
    /// @param token An ERC-20, or address(0) for ETH.
    /// @param to The recipient.
    /// @param amount How much.
    function pull(address account, address token, address to, uint256 amount) external {
        if (to == address(0) || amount == 0) revert InvalidPull(to, amount);
        Allowance storage allowance = _allowances[account][_epochs[account]][msg.sender][token];
        Allowance memory current = allowance;
        if (current.amount == 0) revert NoAllowance(account, msg.sender, token);
        (uint256 start, uint256 spent) = _currentPeriod(current);
        uint256 available = current.amount - spent;
        if (amount > available) revert AllowanceExceeded(account, msg.sender, token, amount, available);
        allowance.start = uint48(start);
        allowance.spent = uint128(spent + amount);

        bytes memory execution = token == ETH
            ? abi.encodePacked(to, amount, "")
            : abi.encodePacked(token, uint256(0), abi.encodeCall(IERC20.transfer, (to, amount)));
        bytes[] memory results = IERC7579Execution(account).executeFromExecutor(_SINGLE_MODE, execution);
        // ERC-20s that return nothing are accepted; one that returns false is not.
        if (token != ETH && results.length == 1 && results[0].length >= 32 && !abi.decode(results[0], (bool))) {
            revert TokenTransferFailed(token, to, amount);
        }
        emit AllowancePulled(account, msg.sender, token, to, amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @notice The allowance of `spender` for `token` from `account`, as of now.
    /// @param account The account.
    /// @param spender The spender.
    /// @param token The token (address(0): ETH).
    /// @return amount The most per period (0: no allowance).
    /// @return period Seconds per period (0: once).
    /// @return spent Spent in the current period.
    /// @return available Left in the current period.
    /// @return resetsAt When the next period starts (0: never).
    function allowance(address account, address spender, address token)
        external
        view
        returns (uint256 amount, uint256 period, uint256 spent, uint256 available, uint256 resetsAt)
    {
        Allowance memory current = _allowances[account][_epochs[account]][spender][token];
        if (current.amount == 0) return (0, 0, 0, 0, 0);
        uint256 start;
        (start, spent) = _currentPeriod(current);
        return (
            current.amount,
            current.period,
            spent,
            current.amount - spent,
            current.period == 0 ? 0 : start + current.period
        );
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    function _setAllowance(address account, address spender, address token, uint256 amount, uint256 period) private {
        if (spender == address(0) || amount == 0 || amount > type(uint128).max || period > MAX_PERIOD) {
            revert InvalidAllowance(spender, amount, period);
        }
        _allowances[account][_epochs[account]][spender][token] =
            Allowance({amount: uint128(amount), period: uint32(period), start: uint48(block.timestamp), spent: 0});
        emit AllowanceSet(account, spender, token, amount, period);
    }

    /// @dev The start of the current period and what was spent in it.
    function _currentPeriod(Allowance memory current) private view returns (uint256 start, uint256 spent) {
        start = current.start;
        spent = current.spent;
        if (current.period != 0 && block.timestamp >= start + current.period) {
            start += ((block.timestamp - start) / current.period) * current.period;
            spent = 0;
        }
    }

    /// @dev Asks the account whether this module is its executor (a call from anything else fails the check).
    function _requireInstalled(address account) private view {
        (bool ok, bytes memory result) = account.staticcall(
            abi.encodeCall(IERC7579ModuleConfig.isModuleInstalled, (MODULE_TYPE_EXECUTOR, address(this), ""))
        );
        if (!ok || result.length < 32 || abi.decode(result, (uint256)) != 1) revert NotInstalled(account);
    }
}
// forge-lint: disable-end(unsafe-typecast, block-timestamp)
