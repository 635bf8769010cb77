// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IWebAuthnValidator} from "./IWebAuthnValidator.sol";
import {IERC7579ModuleConfig, MODULE_TYPE_VALIDATOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/// @title PasskeyAccountIndex
/// @notice The WebAuthnValidator's passkey -> accounts index, which log-in on a new device reads (docs/webauthn.md,
/// "Log-in on a new device"): the accounts a passkey joined with a proof of possession. The list is keyed by the
/// credential id and the key together, so only the key's holder adds to it; it holds at most
/// {MAX_ACCOUNTS_PER_CREDENTIAL} accounts, and when full it first drops the accounts the passkey left. Written in
/// execution only, never during validation.
abstract contract PasskeyAccountIndex is IWebAuthnValidator {
    /// @notice How many accounts one passkey can join with a proof (bounds {accountsOf}).
    uint256 public constant MAX_ACCOUNTS_PER_CREDENTIAL = 16;

    /// @dev Gas given to an account's `isModuleInstalled` when the validator asks it (bounds {accountsOf}).
    uint256 private constant _INSTALLED_CHECK_GAS = 50_000;

    // Keyed by `keccak256(abi.encode(credentialIdHash, commitment | 1))`.
    mapping(bytes32 passkeyId => address[] accounts) private _provenAccounts;

    /// @dev Whether `account` still holds the passkey whose stored word would be `proven`.
    function _holdsProven(address account, bytes32 credentialIdHash, uint256 proven)
        internal
        view
        virtual
        returns (bool);

    /// @dev Lists `account` for the passkey (`commitment` of `credentialId`, whose hash is `credentialIdHash`) once.
    function _listAccount(
        address account,
        bytes memory credentialId,
        bytes32 credentialIdHash,
        bytes32 commitment,
        uint256 proven
    ) internal {
        address[] storage list = _provenAccounts[_passkeyId(credentialIdHash, commitment)];
        uint256 length = list.length;
        for (uint256 i = 0; i < length; ++i) {
            if (list[i] == account) return;
        }
        if (length == MAX_ACCOUNTS_PER_CREDENTIAL) {
            // Full: drop the accounts that no longer hold the passkey (it left them), keeping the order.
            uint256 kept = 0;
            for (uint256 i = 0; i < length; ++i) {
                address held = list[i];
                if (_holdsProven(held, credentialIdHash, proven)) list[kept++] = held;
            }
            if (kept == length) revert TooManyAccounts(credentialId);
            while (list.length > kept) list.pop();
        }
        list.push(account);
    }

    /// @dev The listed accounts that still hold the passkey and have this validator installed, oldest first.
    function _listedAccounts(bytes32 credentialIdHash, bytes32 commitment, uint256 proven)
        internal
        view
        returns (address[] memory accounts)
    {
        address[] storage list = _provenAccounts[_passkeyId(credentialIdHash, commitment)];
        uint256 length = list.length;
        accounts = new address[](length);
        uint256 found = 0;
        for (uint256 i = 0; i < length; ++i) {
            address account = list[i];
            if (!_holdsProven(account, credentialIdHash, proven) || !_isInstalledOn(account)) continue;
            accounts[found++] = account;
        }
        assembly ("memory-safe") {
            mstore(accounts, found)
        }
    }

    /// @dev Whether `account` reports this validator as installed (false for non-accounts), with bounded gas and
    /// at most one word of return data copied: an account can't make a lookup expensive.
    function _isInstalledOn(address account) internal view returns (bool installed) {
        bytes memory query =
            abi.encodeCall(IERC7579ModuleConfig.isModuleInstalled, (MODULE_TYPE_VALIDATOR, address(this), ""));
        assembly ("memory-safe") {
            mstore(0x00, 0)
            let ok := staticcall(_INSTALLED_CHECK_GAS, account, add(query, 0x20), mload(query), 0x00, 0x20)
            installed := and(and(ok, iszero(lt(returndatasize(), 0x20))), eq(mload(0x00), 1))
        }
    }

    function _passkeyId(bytes32 credentialIdHash, bytes32 commitment) private pure returns (bytes32) {
        return keccak256(abi.encode(credentialIdHash, commitment | bytes32(uint256(1))));
    }
}
