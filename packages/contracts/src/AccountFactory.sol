// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "./SsoAccount.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {IEntryPoint} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {MODULE_TYPE_VALIDATOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ERC1967Clones} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Clones.sol";

/// @title AccountFactory
/// @notice Deploys {SsoAccount} ERC-1967 proxies with CREATE2, at an address that commits to the first passkey.
/// @dev Usable as ERC-4337 `factory` (`factoryData = abi.encodeCall(createAccount, (...))`): EntryPoint v0.8
/// calls it through its SenderCreator, so the first userOp deploys the account. Every account gets the
/// WebAuthnValidator with its first passkey plus the default modules fixed at construction (empty init data).
/// With the factory at the same address on every chain (CREATE2 deployment), an account's address is the same
/// on every chain.
///
/// The factory must be staked in the EntryPoint for public bundlers to accept the userOps that deploy accounts
/// (ERC-7562 STO-022): while an account is being deployed, the WebAuthnValidator records its first passkey in
/// storage associated with the account and the account's validation reads it back. The owner stakes the factory
/// ({addStake}: at least the bundlers' minimum, 1 ETH and a 1-day unstake delay by default) and can unlock and
/// withdraw the stake later; the owner has no say over the accounts.
contract AccountFactory is Ownable {
    /// @notice The maximum number of default modules.
    uint256 public constant MAX_DEFAULT_MODULES = 4;

    /// @notice The {SsoAccount} implementation behind every proxy.
    address public immutable implementation;

    /// @notice The WebAuthnValidator installed with the first passkey.
    address public immutable webAuthnValidator;

    uint256 private immutable _defaultModuleCount;
    // Each: moduleTypeId << 160 | module.
    uint256 private immutable _defaultModule0;
    uint256 private immutable _defaultModule1;
    uint256 private immutable _defaultModule2;
    uint256 private immutable _defaultModule3;

    /// @notice Emitted when an account was deployed.
    /// @param account The new account.
    /// @param credentialIdHash keccak256 of the first passkey's credential id.
    /// @param salt The CREATE2 salt (see {accountSalt}).
    event AccountCreated(address indexed account, bytes32 indexed credentialIdHash, bytes32 salt);

    /// @notice Thrown when more than {MAX_DEFAULT_MODULES} default modules are given.
    error TooManyDefaultModules(uint256 count);

    /// @notice Thrown when the default module lists have different lengths.
    error DefaultModuleListLengthMismatch(uint256 moduleTypeIds, uint256 modules);

    /// @notice Thrown when a constructor address is zero or a default module type is not 1 (validator) or
    /// 2 (executor): fallback handlers need a selector in their init data and the account has no hooks.
    error InvalidDefaultModule(uint256 moduleTypeId, address module);

    /// @param owner_ The owner: manages the factory's EntryPoint stake ({addStake}, {unlockStake},
    /// {withdrawStake}), nothing else.
    /// @param implementation_ The {SsoAccount} implementation.
    /// @param webAuthnValidator_ The WebAuthnValidator.
    /// @param defaultModuleTypeIds ERC-7579 module types of the extra default modules (e.g. 1 for a validator).
    /// @param defaultModuleAddresses The extra default modules, installed with empty init data in this order.
    constructor(
        address owner_,
        address implementation_,
        address webAuthnValidator_,
        uint256[] memory defaultModuleTypeIds,
        address[] memory defaultModuleAddresses
    ) Ownable(owner_) {
        if (implementation_ == address(0) || webAuthnValidator_ == address(0)) {
            revert InvalidDefaultModule(MODULE_TYPE_VALIDATOR, address(0));
        }
        if (defaultModuleTypeIds.length != defaultModuleAddresses.length) {
            revert DefaultModuleListLengthMismatch(defaultModuleTypeIds.length, defaultModuleAddresses.length);
        }
        if (defaultModuleAddresses.length > MAX_DEFAULT_MODULES) {
            revert TooManyDefaultModules(defaultModuleAddresses.length);
        }
        uint256[MAX_DEFAULT_MODULES] memory packed;
        for (uint256 i = 0; i < defaultModuleAddresses.length; ++i) {
            uint256 moduleTypeId = defaultModuleTypeIds[i];
            if (defaultModuleAddresses[i] == address(0) || (moduleTypeId != 1 && moduleTypeId != 2)) {
                revert InvalidDefaultModule(moduleTypeId, defaultModuleAddresses[i]);
            }
            packed[i] = (moduleTypeId << 160) | uint160(defaultModuleAddresses[i]);
        }
        implementation = implementation_;
        webAuthnValidator = webAuthnValidator_;
        _defaultModuleCount = defaultModuleAddresses.length;
        _defaultModule0 = packed[0];
        _defaultModule1 = packed[1];
        _defaultModule2 = packed[2];
        _defaultModule3 = packed[3];
    }

    /// @notice Deploys the account of a passkey, or returns it if it exists.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id the passkey belongs to.
    /// @param origin The origin the passkey signs from (clientDataJSON `origin`).
    /// @return account The account address.
    function createAccount(
        bytes calldata credentialId,
        bytes32 x,
        bytes32 y,
        string calldata rpId,
        string calldata origin
    ) external returns (address account) {
        bytes32 salt = accountSalt(credentialId, x, y, rpId, origin);
        account = ERC1967Clones.predictDeterministicAddress(implementation, salt);
        if (account.code.length != 0) return account;
        ERC1967Clones.cloneDeterministic(implementation, salt);

        uint256 count = _defaultModuleCount + 1;
        uint256[] memory moduleTypeIds = new uint256[](count);
        address[] memory modules = new address[](count);
        bytes[] memory initData = new bytes[](count);
        moduleTypeIds[0] = MODULE_TYPE_VALIDATOR;
        modules[0] = webAuthnValidator;
        initData[0] = abi.encode(credentialId, x, y, rpId, origin);
        for (uint256 i = 1; i < count; ++i) {
            uint256 packed = _defaultModule(i - 1);
            moduleTypeIds[i] = packed >> 160;
            modules[i] = address(uint160(packed));
        }
        SsoAccount(payable(account)).initialize(moduleTypeIds, modules, initData);
        emit AccountCreated(account, keccak256(credentialId), salt);
    }

    /// @notice The counterfactual address of a passkey's account (deployed or not).
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id.
    /// @param origin The origin.
    function getAddress(bytes calldata credentialId, bytes32 x, bytes32 y, string calldata rpId, string calldata origin)
        external
        view
        returns (address)
    {
        return ERC1967Clones.predictDeterministicAddress(implementation, accountSalt(credentialId, x, y, rpId, origin));
    }

    /// @notice The CREATE2 salt: `keccak256(abi.encode(credentialId, x, y, rpId, origin))`.
    /// @param credentialId The WebAuthn credential id (raw bytes).
    /// @param x P-256 public key x.
    /// @param y P-256 public key y.
    /// @param rpId The relying party id.
    /// @param origin The origin.
    function accountSalt(
        bytes calldata credentialId,
        bytes32 x,
        bytes32 y,
        string calldata rpId,
        string calldata origin
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(credentialId, x, y, rpId, origin));
    }

    /// @notice The extra default modules installed in every account, after the WebAuthnValidator.
    /// @return moduleTypeIds Their ERC-7579 module types.
    /// @return modules Their addresses.
    function defaultModules() external view returns (uint256[] memory moduleTypeIds, address[] memory modules) {
        uint256 count = _defaultModuleCount;
        moduleTypeIds = new uint256[](count);
        modules = new address[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 packed = _defaultModule(i);
            moduleTypeIds[i] = packed >> 160;
            modules[i] = address(uint160(packed));
        }
    }

    /// @notice The ERC-4337 EntryPoint v0.8 the factory is staked in.
    function entryPoint() public pure returns (IEntryPoint) {
        return ERC4337Utils.ENTRYPOINT_V08;
    }

    /// @notice Adds `msg.value` to the factory's EntryPoint stake and sets its unstake delay (which may not
    /// decrease). Owner only.
    /// @param unstakeDelaySec The unstake delay in seconds (bundlers require at least 86,400).
    function addStake(uint32 unstakeDelaySec) external payable onlyOwner {
        entryPoint().addStake{value: msg.value}(unstakeDelaySec);
    }

    /// @notice Starts the unstake delay; the factory counts as unstaked from now on. Owner only.
    function unlockStake() external onlyOwner {
        entryPoint().unlockStake();
    }

    /// @notice Withdraws the whole stake to `to`, once the unstake delay after {unlockStake} has passed. Owner only.
    /// @param to The receiver.
    function withdrawStake(address payable to) external onlyOwner {
        entryPoint().withdrawStake(to);
    }

    function _defaultModule(uint256 index) private view returns (uint256) {
        if (index == 0) return _defaultModule0;
        if (index == 1) return _defaultModule1;
        if (index == 2) return _defaultModule2;
        return _defaultModule3;
    }
}
