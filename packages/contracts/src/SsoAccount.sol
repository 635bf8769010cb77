// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInstallBoundValidator} from "./modules/IInstallBoundValidator.sol";
import {IScopedValidator} from "./modules/IScopedValidator.sol";
import {IVersionedValidator} from "./modules/IVersionedValidator.sol";
import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {CallType, ERC7579Utils, ExecType, Mode} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IAccount, IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {
    IERC7579AccountConfig,
    IERC7579Execution,
    IERC7579Module,
    IERC7579ModuleConfig,
    IERC7579Validator,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_FALLBACK,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AbstractSigner} from "@openzeppelin/contracts/utils/cryptography/signers/AbstractSigner.sol";
import {ERC7739} from "@openzeppelin/contracts/utils/cryptography/signers/draft-ERC7739.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title SsoAccount
/// @notice ERC-4337 (EntryPoint v0.8) + ERC-7579 modular smart account for passkey sign-on.
/// @dev Meant to run behind an ERC-1967 proxy (see {AccountFactory}); upgrades go through UUPS and are
/// authorised only by the account itself (a userOp or a self-call).
///
/// - userOps: the validator is the top 20 bytes of the userOp nonce (`nonceKey = uint192(validator) << 32 | k`).
/// - ERC-1271: `signature = validator (20 bytes) ‖ validatorSignature`, wrapped as ERC-7739 (nested
///   `TypedDataSign` or `PersonalSign`, see OpenZeppelin {ERC7739}); the validator checks the final ERC-7739 digest.
/// - Modules: validators (1), executors (2), fallback handlers (3). No hooks (4): a global hook would cost a
///   cold SLOAD on every execution, and the passkey transfer has a tight gas budget.
///   The last validator can never be removed, nor the last one that can sign for the account: a validator that
///   declares itself scoped ({IScopedValidator}, e.g. the SessionKeyValidator) does not count as one.
///
/// State lives in one ERC-7201 namespace whose first slot is shared with OpenZeppelin {Initializable}, so that
/// deployment writes a single fresh slot for the initialised flag, the validator count and the preset modules'
/// installed flags.
contract SsoAccount is
    Account,
    EIP712,
    ERC7739,
    Initializable,
    UUPSUpgradeable,
    IERC7579Execution,
    IERC7579AccountConfig,
    IERC7579ModuleConfig,
    IERC165,
    IERC721Receiver,
    IERC1155Receiver
{
    using ERC7579Utils for *;

    /// @custom:storage-location erc7201:sso.storage.SsoAccount
    struct AccountStorage {
        // First 9 bytes: OpenZeppelin's `InitializableStorage` (uint64 _initialized, bool _initializing).
        uint64 initializedVersion;
        bool initializing;
        uint16 validatorCount;
        // Bit i: preset module i is installed (see {presetModules}); bit i + 4: it is a validator that can sign
        // (counted in `signingValidatorCount`).
        uint8 presetFlags;
        // Bumped by every install and uninstall after initialisation (see {modulesVersion}).
        uint32 modulesVersion;
        // Installed validators that are not scoped (see {IScopedValidator}): never 0 once initialised.
        uint16 signingValidatorCount;
        // Bit 1: validator, bit 2: executor (modules that are not presets), bit 3: counted as a validator that can
        // sign; bits 8 and up: the number of selectors the module is the fallback handler of.
        mapping(address module => uint256 moduleTypes) modules;
        mapping(bytes4 selector => address handler) fallbacks;
    }

    // keccak256(abi.encode(uint256(keccak256("sso.storage.SsoAccount")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _ACCOUNT_STORAGE_SLOT = 0x8909f8f17a39fb3af28b6bbdc5a228fdccc4e85c64ab5e227fea48fb06e59100;

    /// @dev `modules[module] >> _FALLBACK_COUNT_SHIFT`: how many selectors `module` is the fallback handler of.
    uint256 private constant _FALLBACK_COUNT_SHIFT = 8;

    /// @dev `modules[module] & _SIGNING_BIT`: a validator that is not a preset and counts as one that can sign.
    uint256 private constant _SIGNING_BIT = 1 << 3;

    /// @notice Thrown when a call reaches the fallback with a selector that has no installed handler.
    error MissingFallbackHandler(bytes4 selector);

    /// @notice Thrown when fallback init/deinit data is shorter than the 4-byte selector it must start with.
    error InvalidFallbackData(uint256 length);

    /// @notice Thrown when uninstalling `validator` would leave the account without any validator.
    error LastValidator(address validator);

    /// @notice Thrown when uninstalling `validator` would leave the account without a validator that can sign for
    /// it: only scoped validators (e.g. session keys, see {IScopedValidator}) would remain.
    error LastSigningValidator(address validator);

    /// @notice Thrown when `initialize` would leave the account without a validator that can sign for it.
    error NoValidator();

    /// @notice Thrown when the module lists given to `initialize` have different lengths.
    error ModuleListLengthMismatch(uint256 moduleTypeIds, uint256 modules, uint256 initData);

    /// @notice Thrown when {bumpModulesVersion} is called by anyone but the account, the EntryPoint or a module.
    error UnauthorizedVersionBump(address caller);

    /// @notice Thrown when `execute` gets an execution mode the account does not support.
    error UnsupportedExecutionMode(bytes32 mode);

    /// @notice The maximum number of preset modules.
    uint256 public constant MAX_PRESET_MODULES = 4;

    uint256 private immutable _presetCount;
    // Each: moduleTypeId << 160 | module.
    uint256 private immutable _preset0;
    uint256 private immutable _preset1;
    uint256 private immutable _preset2;
    uint256 private immutable _preset3;
    // Bit i (as in {_presetFlag}): preset i is a validator bound to its installation ({IInstallBoundValidator}).
    uint256 private immutable _installBoundPresets;
    // Bit i: preset i is a validator that takes the modules version as an argument ({IVersionedValidator}).
    uint256 private immutable _versionedPresets;

    /// @notice Thrown when a preset module is not a validator or executor, or the lists are malformed.
    error InvalidPresetModule(uint256 moduleTypeId, address module);

    /// @notice Locks the implementation; proxies are initialised through {initialize}.
    /// @dev Preset modules (e.g. the WebAuthnValidator and the SessionKeyValidator) keep their "installed" flag in
    /// the account's first storage slot instead of a mapping slot of their own: installing them at deployment
    /// writes no extra slot. They are installed and uninstalled like any other module. An upgrade must keep the
    /// same preset list (same order) or migrate the flags.
    /// Preset validators that declare themselves bound to their installation ({IInstallBoundValidator}, e.g. the
    /// WebAuthnValidator) or versioned ({IVersionedValidator}, e.g. the SessionKeyValidator) are asked once, here:
    /// userOp validation then calls the former without reading the installed flag, and the latter with the modules
    /// version.
    /// @param presetModuleTypeIds Module type of each preset module (1 validator or 2 executor).
    /// @param presetModuleAddresses Up to {MAX_PRESET_MODULES} modules.
    constructor(uint256[] memory presetModuleTypeIds, address[] memory presetModuleAddresses)
        EIP712("SsoAccount", "1")
    {
        if (
            presetModuleAddresses.length > MAX_PRESET_MODULES
                || presetModuleTypeIds.length != presetModuleAddresses.length
        ) {
            revert InvalidPresetModule(presetModuleTypeIds.length, address(0));
        }
        uint256[MAX_PRESET_MODULES] memory packed;
        uint256 installBound = 0;
        uint256 versioned = 0;
        for (uint256 i = 0; i < presetModuleAddresses.length; ++i) {
            uint256 moduleTypeId = presetModuleTypeIds[i];
            if (
                presetModuleAddresses[i] == address(0)
                    || (moduleTypeId != MODULE_TYPE_VALIDATOR && moduleTypeId != MODULE_TYPE_EXECUTOR)
            ) revert InvalidPresetModule(moduleTypeId, presetModuleAddresses[i]);
            packed[i] = (moduleTypeId << 160) | uint160(presetModuleAddresses[i]);
            if (moduleTypeId == MODULE_TYPE_VALIDATOR) {
                if (_answersTrue(presetModuleAddresses[i], IInstallBoundValidator.isInstallBound.selector)) {
                    installBound |= 1 << i;
                }
                if (_answersTrue(presetModuleAddresses[i], IVersionedValidator.isVersionedValidator.selector)) {
                    versioned |= 1 << i;
                }
            }
        }
        _installBoundPresets = installBound;
        _versionedPresets = versioned;
        _presetCount = presetModuleAddresses.length;
        _preset0 = packed[0];
        _preset1 = packed[1];
        _preset2 = packed[2];
        _preset3 = packed[3];
        _disableInitializers();
    }

    /// @notice Installs the initial modules. Called once by the factory in the deployment transaction.
    /// @param moduleTypeIds ERC-7579 module type of each module.
    /// @param modules Module addresses.
    /// @param initData `onInstall` data of each module (fallback handlers: selector ‖ data).
    function initialize(uint256[] calldata moduleTypeIds, address[] calldata modules, bytes[] calldata initData)
        external
        initializer
    {
        if (moduleTypeIds.length != modules.length || modules.length != initData.length) {
            revert ModuleListLengthMismatch(moduleTypeIds.length, modules.length, initData.length);
        }
        for (uint256 i = 0; i < modules.length; ++i) {
            _installModule(moduleTypeIds[i], modules[i], initData[i]);
        }
        if (_getAccountStorage().signingValidatorCount == 0) revert NoValidator();
    }

    // ------------------------------------------------------------------------------------------------------------
    // ERC-4337
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The ERC-4337 EntryPoint v0.8 this account trusts.
    function entryPoint() public pure override returns (IEntryPoint) {
        return ERC4337Utils.ENTRYPOINT_V08;
    }

    /// @notice ERC-4337 validation: the validator is the top 20 bytes of the nonce; an uninstalled one fails.
    /// @dev A preset validator bound to its installation ({IInstallBoundValidator}) is called without reading the
    /// installed flag (a cold slot): not installed, it holds no key for this account and fails by itself.
    /// Forwards this call's calldata to `IERC7579Validator.validateUserOp` with only the selector swapped:
    /// `(userOp, userOpHash, missingAccountFunds)` decodes as `(userOp, userOpHash)` (the userOp offset points into
    /// the same buffer), which saves re-encoding the userOp; a preset versioned validator gets
    /// `validateUserOpWithModulesVersion(userOp, userOpHash, modulesVersion)` the same way, the third word replaced
    /// (the version sits in the slot the installed check reads). A reverting validator reverts validation.
    /// @param userOp The user operation.
    /// @param missingAccountFunds The prefund to pay the EntryPoint.
    /// @return validationData 0 (success), 1 (SIG_VALIDATION_FAILED) or packed validity window.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32, uint256 missingAccountFunds)
        public
        override
        returns (uint256 validationData)
    {
        _checkEntryPoint();
        address validator = address(bytes20(bytes32(userOp.nonce)));
        uint256 flag = _presetFlag(MODULE_TYPE_VALIDATOR, validator);
        bool installed;
        if (flag & _installBoundPresets != 0) installed = true;
        else if (flag != 0) installed = _getAccountStorage().presetFlags & flag != 0;
        else installed = _getAccountStorage().modules[validator] & (1 << MODULE_TYPE_VALIDATOR) != 0;
        if (!installed) {
            validationData = ERC4337Utils.SIG_VALIDATION_FAILED;
        } else {
            bytes4 selector = IERC7579Validator.validateUserOp.selector;
            bool versioned = flag & _versionedPresets != 0;
            uint256 version;
            if (versioned) {
                selector = IVersionedValidator.validateUserOpWithModulesVersion.selector;
                version = _getAccountStorage().modulesVersion;
            }
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                calldatacopy(ptr, 0, calldatasize())
                mstore(ptr, or(shr(32, shl(32, mload(ptr))), selector))
                // validateUserOp's third word, missingAccountFunds, becomes the version.
                if versioned { mstore(add(ptr, 0x44), version) }
                if iszero(call(gas(), validator, 0, ptr, calldatasize(), 0x00, 0x20)) {
                    returndatacopy(ptr, 0, returndatasize())
                    revert(ptr, returndatasize())
                }
                validationData := mload(0x00)
                if lt(returndatasize(), 0x20) { validationData := 1 }
            }
        }
        _payPrefund(missingAccountFunds);
    }

    // ------------------------------------------------------------------------------------------------------------
    // ERC-1271 / ERC-7739
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Called by {ERC7739} with the final (nested, domain-bound) digest: `signature = validator ‖ inner`.
    /// Never reverts: unknown validators or reverting ones give `false`.
    function _rawSignatureValidation(bytes32 hash, bytes calldata signature)
        internal
        view
        override(AbstractSigner)
        returns (bool)
    {
        if (signature.length < 20) return false;
        address validator = address(bytes20(signature[0:20]));
        if (!_isValidatorInstalled(validator)) return false;
        try IERC7579Validator(validator).isValidSignatureWithSender(msg.sender, hash, signature[20:]) returns (
            bytes4 magic
        ) {
            return magic == IERC1271.isValidSignature.selector;
        } catch {
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // ERC-7579 execution
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Executes calls on behalf of the account (single or batch, default or try).
    /// @dev Only the EntryPoint (after validation) or the account itself.
    /// @param mode ERC-7579 execution mode.
    /// @param executionCalldata ERC-7579 encoded execution(s).
    function execute(bytes32 mode, bytes calldata executionCalldata) external payable onlyEntryPointOrSelf {
        if (mode == bytes32(0)) {
            // Hot path, single call with default exec type: same semantics as ERC7579Utils.execSingle (bubble the
            // revert), without allocating the return data array.
            if (executionCalldata.length < 52) revert ERC7579Utils.ERC7579DecodingError();
            assembly ("memory-safe") {
                let target := shr(96, calldataload(executionCalldata.offset))
                let value := calldataload(add(executionCalldata.offset, 20))
                let length := sub(executionCalldata.length, 52)
                let m := mload(0x40)
                calldatacopy(m, add(executionCalldata.offset, 52), length)
                if iszero(call(gas(), target, value, m, length, 0x00, 0x00)) {
                    returndatacopy(m, 0x00, returndatasize())
                    revert(m, returndatasize())
                }
            }
        } else {
            _internalExecute(mode, executionCalldata);
        }
    }

    /// @notice Executes calls on behalf of the account, for installed executor modules.
    /// @param mode ERC-7579 execution mode.
    /// @param executionCalldata ERC-7579 encoded execution(s).
    /// @return returnData The return data of every call.
    function executeFromExecutor(bytes32 mode, bytes calldata executionCalldata)
        external
        payable
        returns (bytes[] memory returnData)
    {
        if (!_isInstalled(MODULE_TYPE_EXECUTOR, msg.sender)) {
            revert ERC7579Utils.ERC7579UninstalledModule(MODULE_TYPE_EXECUTOR, msg.sender);
        }
        return _internalExecute(mode, executionCalldata);
    }

    // ------------------------------------------------------------------------------------------------------------
    // ERC-7579 configuration
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The account implementation id (`vendor.account.semver`).
    function accountId() external pure returns (string memory) {
        return "sso.SsoAccount.1.0.0";
    }

    /// @notice Whether `encodedMode` is supported: call type single or batch, exec type default or try.
    /// @param encodedMode ERC-7579 execution mode.
    function supportsExecutionMode(bytes32 encodedMode) public pure returns (bool) {
        (CallType callType, ExecType execType,,) = Mode.wrap(encodedMode).decodeMode();
        return (callType == ERC7579Utils.CALLTYPE_SINGLE || callType == ERC7579Utils.CALLTYPE_BATCH)
            && (execType == ERC7579Utils.EXECTYPE_DEFAULT || execType == ERC7579Utils.EXECTYPE_TRY);
    }

    /// @notice Whether the account supports modules of `moduleTypeId` (1 validator, 2 executor, 3 fallback).
    /// @dev Hooks (4) are not supported: a global hook costs a cold SLOAD on every execution.
    /// @param moduleTypeId ERC-7579 module type.
    function supportsModule(uint256 moduleTypeId) public pure returns (bool) {
        return moduleTypeId >= MODULE_TYPE_VALIDATOR && moduleTypeId <= MODULE_TYPE_FALLBACK;
    }

    /// @notice Installs a module. Only the EntryPoint or the account itself.
    /// @param moduleTypeId ERC-7579 module type.
    /// @param module The module.
    /// @param initData `onInstall` data (fallback handlers: 4-byte selector ‖ data).
    function installModule(uint256 moduleTypeId, address module, bytes calldata initData)
        external
        onlyEntryPointOrSelf
    {
        ++_getAccountStorage().modulesVersion;
        _installModule(moduleTypeId, module, initData);
    }

    /// @notice Uninstalls a module. Only the EntryPoint or the account itself; never the last validator, nor the last
    /// validator that can sign for the account (`LastSigningValidator`).
    /// @param moduleTypeId ERC-7579 module type.
    /// @param module The module.
    /// @param deInitData `onUninstall` data (fallback handlers: 4-byte selector ‖ data).
    function uninstallModule(uint256 moduleTypeId, address module, bytes calldata deInitData)
        external
        onlyEntryPointOrSelf
    {
        ++_getAccountStorage().modulesVersion;
        _uninstallModule(moduleTypeId, module, deInitData);
    }

    /// @notice Whether `module` is installed as `moduleTypeId` (fallbacks: `additionalContext` starts with the
    /// selector; empty, it asks whether `module` is the fallback handler of any selector).
    /// @param moduleTypeId ERC-7579 module type.
    /// @param module The module.
    /// @param additionalContext For fallback handlers, the 4-byte selector, or empty for any selector.
    function isModuleInstalled(uint256 moduleTypeId, address module, bytes calldata additionalContext)
        public
        view
        returns (bool)
    {
        AccountStorage storage $ = _getAccountStorage();
        if (moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR) {
            return _isInstalled(moduleTypeId, module);
        }
        if (moduleTypeId == MODULE_TYPE_FALLBACK) {
            if (additionalContext.length == 0) return $.modules[module] >> _FALLBACK_COUNT_SHIFT != 0;
            return additionalContext.length >= 4 && module != address(0)
                && $.fallbacks[bytes4(additionalContext[0:4])] == module;
        }
        return false;
    }

    /// @notice A counter bumped by every module install and uninstall after initialisation: a module that checked
    /// something about the account's modules (e.g. the SessionKeyValidator, that session targets are not modules)
    /// knows its check still holds while this is unchanged.
    function modulesVersion() external view returns (uint256) {
        return _getAccountStorage().modulesVersion;
    }

    /// @notice Bumps {modulesVersion} without changing the modules: lets an installed validator or executor make
    /// everything checked against the previous version be checked again (e.g. the SessionKeyValidator's
    /// revoke-all). Callable by the account itself, the EntryPoint and installed validators and executors.
    /// @return version The new version.
    function bumpModulesVersion() external returns (uint256 version) {
        if (
            msg.sender != address(this) && msg.sender != address(entryPoint())
                && !_isInstalled(MODULE_TYPE_VALIDATOR, msg.sender) && !_isInstalled(MODULE_TYPE_EXECUTOR, msg.sender)
        ) revert UnauthorizedVersionBump(msg.sender);
        version = ++_getAccountStorage().modulesVersion;
    }

    /// @notice The number of installed validators (never 0 once initialised).
    function validatorCount() external view returns (uint256) {
        return _getAccountStorage().validatorCount;
    }

    /// @notice The number of installed validators that can sign for the account (not scoped, see
    /// {IScopedValidator}); never 0 once initialised.
    function signingValidatorCount() external view returns (uint256) {
        return _getAccountStorage().signingValidatorCount;
    }

    /// @notice The fallback handler of `selector`, or address(0).
    /// @param selector The function selector.
    function fallbackHandler(bytes4 selector) external view returns (address) {
        return _getAccountStorage().fallbacks[selector];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Fallback, token receivers, ERC-165
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Forwards unknown selectors to their fallback handler (ERC-2771: the caller is appended).
    fallback() external payable {
        address handler = _getAccountStorage().fallbacks[msg.sig];
        if (handler == address(0)) revert MissingFallbackHandler(msg.sig);
        if (LowLevelCall.callNoReturn(handler, msg.value, abi.encodePacked(msg.data, msg.sender))) {
            bytes memory result = LowLevelCall.returnData();
            assembly ("memory-safe") {
                return(add(result, 0x20), mload(result))
            }
        }
        LowLevelCall.bubbleRevert();
    }

    /// @notice Accepts ERC-721 safe transfers.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }

    /// @notice Accepts ERC-1155 safe transfers.
    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC1155Receiver.onERC1155Received.selector;
    }

    /// @notice Accepts ERC-1155 safe batch transfers.
    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return IERC1155Receiver.onERC1155BatchReceived.selector;
    }

    /// @notice ERC-165 interface detection.
    /// @param interfaceId The interface id.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IAccount).interfaceId
            || interfaceId == type(IERC1271).interfaceId || interfaceId == type(IERC7579Execution).interfaceId
            || interfaceId == type(IERC7579AccountConfig).interfaceId
            || interfaceId == type(IERC7579ModuleConfig).interfaceId || interfaceId == type(IERC721Receiver).interfaceId
            || interfaceId == type(IERC1155Receiver).interfaceId;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /// @dev UUPS: only the account itself or the EntryPoint (i.e. a validated userOp) may upgrade.
    function _authorizeUpgrade(address) internal view override onlyEntryPointOrSelf {}

    /// @dev Share the first slot of our namespace with {Initializable} (see {AccountStorage}).
    function _initializableStorageSlot() internal pure override returns (bytes32) {
        return _ACCOUNT_STORAGE_SLOT;
    }

    function _getAccountStorage() private pure returns (AccountStorage storage $) {
        assembly ("memory-safe") {
            $.slot := _ACCOUNT_STORAGE_SLOT
        }
    }

    function _isValidatorInstalled(address validator) internal view returns (bool) {
        return _isInstalled(MODULE_TYPE_VALIDATOR, validator);
    }

    /// @dev Validators and executors: preset modules by their flag, others by their mapping slot.
    function _isInstalled(uint256 moduleTypeId, address module) internal view returns (bool) {
        AccountStorage storage $ = _getAccountStorage();
        uint256 flag = _presetFlag(moduleTypeId, module);
        if (flag != 0) return $.presetFlags & flag != 0;
        return $.modules[module] & (1 << moduleTypeId) != 0;
    }

    /// @dev Whether `module`'s parameterless view `selector` answers true (e.g. {IInstallBoundValidator-isInstallBound});
    /// like {_isScopedValidator}, anything but a clear true is false.
    function _answersTrue(address module, bytes4 selector) private view returns (bool) {
        (bool ok, bytes memory result) = module.staticcall{gas: 30_000}(abi.encodeWithSelector(selector));
        return ok && result.length >= 32 && abi.decode(result, (uint256)) == 1;
    }

    /// @dev Whether `validator` declares itself scoped ({IScopedValidator}). A module without the function, or one
    /// that reverts or answers anything but true, is not scoped: it counts as a validator that can sign.
    function _isScopedValidator(address validator) internal view returns (bool scoped) {
        (bool ok, bytes memory result) =
            validator.staticcall{gas: 30_000}(abi.encodeCall(IScopedValidator.isScopedValidator, ()));
        return ok && result.length >= 32 && abi.decode(result, (uint256)) == 1;
    }

    /// @dev The flag bit of a preset module (0 if `module` is not preset with that type). No storage read.
    function _presetFlag(uint256 moduleTypeId, address module) internal view returns (uint256) {
        uint256 packed = (moduleTypeId << 160) | uint160(module);
        uint256 count = _presetCount;
        if (count > 0 && packed == _preset0) return 1;
        if (count > 1 && packed == _preset1) return 2;
        if (count > 2 && packed == _preset2) return 4;
        if (count > 3 && packed == _preset3) return 8;
        return 0;
    }

    /// @notice The preset modules (their installed flags live in the account's first slot).
    /// @return moduleTypeIds Their module types.
    /// @return modules Their addresses.
    function presetModules() external view returns (uint256[] memory moduleTypeIds, address[] memory modules) {
        uint256 count = _presetCount;
        moduleTypeIds = new uint256[](count);
        modules = new address[](count);
        uint256[4] memory packed = [_preset0, _preset1, _preset2, _preset3];
        for (uint256 i = 0; i < count; ++i) {
            moduleTypeIds[i] = packed[i] >> 160;
            modules[i] = address(uint160(packed[i]));
        }
    }

    function _internalExecute(bytes32 mode, bytes calldata executionCalldata)
        internal
        returns (bytes[] memory returnData)
    {
        (CallType callType, ExecType execType,,) = Mode.wrap(mode).decodeMode();
        if (!(execType == ERC7579Utils.EXECTYPE_DEFAULT || execType == ERC7579Utils.EXECTYPE_TRY)) {
            revert UnsupportedExecutionMode(mode);
        }
        if (callType == ERC7579Utils.CALLTYPE_SINGLE) return executionCalldata.execSingle(execType);
        if (callType == ERC7579Utils.CALLTYPE_BATCH) return executionCalldata.execBatch(execType);
        revert UnsupportedExecutionMode(mode);
    }

    function _installModule(uint256 moduleTypeId, address module, bytes calldata initData) internal {
        if (!supportsModule(moduleTypeId)) revert ERC7579Utils.ERC7579UnsupportedModuleType(moduleTypeId);
        if (!IERC7579Module(module).isModuleType(moduleTypeId)) {
            revert ERC7579Utils.ERC7579MismatchedModuleTypeId(moduleTypeId, module);
        }
        AccountStorage storage $ = _getAccountStorage();
        if (moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR) {
            if (_isInstalled(moduleTypeId, module)) {
                revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, module);
            }
            uint256 flag = _presetFlag(moduleTypeId, module);
            // Whether the validator is counted as one that can sign is decided once, here, and remembered: what
            // the module answers later can't change the count.
            bool signing = moduleTypeId == MODULE_TYPE_VALIDATOR && !_isScopedValidator(module);
            if (flag != 0) {
                $.presetFlags = uint8($.presetFlags | flag | (signing ? flag << 4 : 0));
            } else {
                $.modules[module] |= (1 << moduleTypeId) | (signing ? _SIGNING_BIT : 0);
            }
            if (moduleTypeId == MODULE_TYPE_VALIDATOR) ++$.validatorCount;
            if (signing) ++$.signingValidatorCount;
        } else {
            if (initData.length < 4) revert InvalidFallbackData(initData.length);
            bytes4 selector = bytes4(initData[0:4]);
            if ($.fallbacks[selector] != address(0)) {
                revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, module);
            }
            $.fallbacks[selector] = module;
            $.modules[module] += 1 << _FALLBACK_COUNT_SHIFT;
            initData = initData[4:];
        }
        IERC7579Module(module).onInstall(initData);
        emit ModuleInstalled(moduleTypeId, module);
    }

    function _uninstallModule(uint256 moduleTypeId, address module, bytes calldata deInitData) internal {
        if (!supportsModule(moduleTypeId)) revert ERC7579Utils.ERC7579UnsupportedModuleType(moduleTypeId);
        AccountStorage storage $ = _getAccountStorage();
        if (moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR) {
            if (!_isInstalled(moduleTypeId, module)) {
                revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            }
            uint256 flag = _presetFlag(moduleTypeId, module);
            if (moduleTypeId == MODULE_TYPE_VALIDATOR) {
                if ($.validatorCount == 1) revert LastValidator(module);
                bool signing = flag != 0 ? $.presetFlags & (flag << 4) != 0 : $.modules[module] & _SIGNING_BIT != 0;
                if (signing) {
                    if ($.signingValidatorCount == 1) revert LastSigningValidator(module);
                    --$.signingValidatorCount;
                }
                --$.validatorCount;
            }
            if (flag != 0) {
                $.presetFlags = uint8($.presetFlags & ~(flag | (flag << 4)));
            } else {
                $.modules[module] &= ~((1 << moduleTypeId) | _SIGNING_BIT);
            }
        } else {
            if (deInitData.length < 4) revert InvalidFallbackData(deInitData.length);
            bytes4 selector = bytes4(deInitData[0:4]);
            if (module == address(0) || $.fallbacks[selector] != module) {
                revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            }
            delete $.fallbacks[selector];
            // Never blocks an uninstall (a handler installed before this count existed was not counted).
            if ($.modules[module] >> _FALLBACK_COUNT_SHIFT != 0) $.modules[module] -= 1 << _FALLBACK_COUNT_SHIFT;
            deInitData = deInitData[4:];
        }
        IERC7579Module(module).onUninstall(deInitData);
        emit ModuleUninstalled(moduleTypeId, module);
    }
}
