// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInstallBoundValidator} from "../modules/IInstallBoundValidator.sol";
import {IScopedValidator} from "../modules/IScopedValidator.sol";
import {IVersionedValidator} from "../modules/IVersionedValidator.sol";
import {IPasskeyStoreValidator, PASSKEY_RULES} from "../webauthn/IPasskeyStore.sol";
import {ISsoAccount} from "./ISsoAccount.sol";
import {ERC7579Utils} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {
    IERC7579AccountConfig,
    IERC7579Module,
    IERC7579ModuleConfig,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_FALLBACK,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/// @title ModuleManager
/// @notice The SsoAccount's ERC-7579 module records: which validators, executors and fallback handlers are installed,
/// the preset modules, the counts that keep the account signable and the modules version
/// (docs/architecture.md). Who may install and uninstall is the account's to decide ({SsoAccount-installModule}).
/// @dev Preset modules (e.g. the WebAuthnValidator and the SessionKeyValidator) keep their "installed" flag in the
/// account's head ({AccountHead}) instead of a mapping slot of their own: installing them at deployment writes no
/// extra slot. They are installed and uninstalled like any other module. An upgrade must keep the same preset list
/// (same order) or migrate the flags. Preset validators that declare themselves bound to their installation
/// ({IInstallBoundValidator}, e.g. the WebAuthnValidator) or versioned ({IVersionedValidator}, e.g. the
/// SessionKeyValidator) are asked once, at construction: userOp validation then calls the former without reading
/// the installed flag, and the latter with the modules version.
abstract contract ModuleManager is ISsoAccount, IERC7579AccountConfig, IERC7579ModuleConfig {
    /// @dev The account's head: its flags and counters, in the 96 bits of the ERC-1967 implementation slot that the
    /// implementation's address leaves free. The proxy reads that slot for every call, so the head costs a warm read
    /// (100 gas, not a cold 2,100), and the deployment writes no slot of its own for it. The implementation address
    /// is written by the clone's creation (a whole-word SSTORE, while the head is still empty) and by
    /// {UUPSUpgradeable-upgradeToAndCall} through OpenZeppelin's `StorageSlot` (a Solidity masked write, which keeps
    /// the other bits); the EVM calls the low 160 bits of the word, so the proxy needs no mask. An upgrade must keep
    /// this layout: it holds the initialised flag (lost, anyone could initialise the account again) and the modules
    /// version, which may never go back (see {modulesVersion}). The account therefore upgrades only to an
    /// implementation that declares this layout ({ACCOUNT_HEAD_LAYOUT}).
    struct AccountHead {
        address implementation;
        // The account was initialised ({SsoAccount-initialize}); the implementation sets it on itself.
        bool initialized;
        uint16 validatorCount;
        // Bit i: preset module i is installed (see {presetModules}); bit i + 4: it is a validator that can sign
        // (counted in `signingValidatorCount`).
        uint8 presetFlags;
        // Bumped by every install and uninstall after initialisation (see {modulesVersion}).
        uint32 modulesVersion;
        // Installed validators that are not scoped (see {IScopedValidator}): never 0 once initialised.
        uint16 signingValidatorCount;
    }

    /// @custom:storage-location erc7201:sso.storage.SsoAccount
    struct AccountStorage {
        // Bit 1: validator, bit 2: executor (modules that are not presets), bit 3: counted as a validator that can
        // sign; bits 8 and up: the number of selectors the module is the fallback handler of.
        mapping(address module => uint256 moduleTypes) modules;
        mapping(bytes4 selector => address handler) fallbacks;
        // Each passkey validator's word for each passkey, under the credential's 4-byte key (see {IPasskeyStore}).
        mapping(address validator => mapping(bytes4 credentialKey => uint256 entry)) passkeys;
    }

    /// @notice The version of the {AccountHead} layout this implementation keeps. An account upgrades only to an
    /// implementation answering the same (see {SsoAccount-_authorizeUpgrade}): one that wrote the ERC-1967 slot
    /// as a whole word (e.g. Solady's UUPS) would erase the head.
    uint256 public constant ACCOUNT_HEAD_LAYOUT = 1;

    // ERC-1967: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
    bytes32 internal constant _ACCOUNT_HEAD_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    /// @dev Where {AccountHead}'s `presetFlags` and `modulesVersion` sit in its word, for a read of the whole word
    /// (Solidity reads the slot again for each field): `presetFlags` after the address (160), `initialized` (8) and
    /// `validatorCount` (16); `modulesVersion` after it (8). test/SsoAccount/InstallModule.t.sol checks them.
    uint256 internal constant _HEAD_PRESET_FLAGS_SHIFT = 184;
    uint256 internal constant _HEAD_MODULES_VERSION_SHIFT = 192;

    // keccak256(abi.encode(uint256(keccak256("sso.storage.SsoAccount")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant _ACCOUNT_STORAGE_SLOT =
        0x8909f8f17a39fb3af28b6bbdc5a228fdccc4e85c64ab5e227fea48fb06e59100;

    /// @dev `modules[module] >> _FALLBACK_COUNT_SHIFT`: how many selectors `module` is the fallback handler of.
    uint256 private constant _FALLBACK_COUNT_SHIFT = 8;

    /// @dev `modules[module] & _SIGNING_BIT`: a validator that is not a preset and counts as one that can sign.
    uint256 private constant _SIGNING_BIT = 1 << 3;

    /// @notice The maximum number of preset modules.
    uint256 public constant MAX_PRESET_MODULES = 4;

    uint256 private immutable _presetCount;
    // Each: moduleTypeId << 160 | module.
    uint256 private immutable _preset0;
    uint256 private immutable _preset1;
    uint256 private immutable _preset2;
    uint256 private immutable _preset3;
    // Bit i (as in {_presetFlag}): preset i is a validator bound to its installation ({IInstallBoundValidator}).
    uint256 internal immutable _installBoundPresets;
    // Bit i: preset i is a validator that takes the modules version as an argument ({IVersionedValidator}).
    uint256 internal immutable _versionedPresets;
    // The preset validator that keeps its passkeys in the account ({IPasskeyStoreValidator}, answering the rules this
    // implementation applies), or address(0), and its flag bit.
    address internal immutable _passkeyValidator;
    uint256 internal immutable _passkeyPreset;

    /// @notice Reads the preset modules once.
    /// @dev Preset modules (e.g. the WebAuthnValidator and the SessionKeyValidator) keep their "installed" flag in
    /// the account's head ({AccountHead}) instead of a mapping slot of their own: installing them at deployment
    /// writes no extra slot. They are installed and uninstalled like any other module. An upgrade must keep the
    /// same preset list (same order) or migrate the flags.
    /// Preset validators that declare themselves bound to their installation ({IInstallBoundValidator}, e.g. the
    /// WebAuthnValidator) or versioned ({IVersionedValidator}, e.g. the SessionKeyValidator) are asked once, here:
    /// userOp validation then calls the former without reading the installed flag, and the latter with the modules
    /// version.
    /// @param presetModuleTypeIds Module type of each preset module (1 validator or 2 executor).
    /// @param presetModuleAddresses Up to {MAX_PRESET_MODULES} modules.
    constructor(uint256[] memory presetModuleTypeIds, address[] memory presetModuleAddresses) {
        if (
            presetModuleAddresses.length > MAX_PRESET_MODULES
                || presetModuleTypeIds.length != presetModuleAddresses.length
        ) {
            revert InvalidPresetModule(presetModuleTypeIds.length, address(0));
        }
        uint256[MAX_PRESET_MODULES] memory packed;
        uint256 installBound = 0;
        uint256 versioned = 0;
        uint256 passkeyPreset = 0;
        address passkeyValidator = address(0);
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
                if (
                    _answers(presetModuleAddresses[i], IPasskeyStoreValidator.passkeyRules.selector)
                        == uint256(PASSKEY_RULES)
                ) {
                    // One passkey validator, bound to its installation: its keys are cleared when it is uninstalled.
                    if (passkeyPreset != 0 || installBound & (1 << i) == 0) {
                        revert InvalidPresetModule(moduleTypeId, presetModuleAddresses[i]);
                    }
                    passkeyPreset = 1 << i;
                    passkeyValidator = presetModuleAddresses[i];
                }
            }
        }
        _installBoundPresets = installBound;
        _versionedPresets = versioned;
        _passkeyPreset = passkeyPreset;
        _passkeyValidator = passkeyValidator;
        _presetCount = presetModuleAddresses.length;
        _preset0 = packed[0];
        _preset1 = packed[1];
        _preset2 = packed[2];
        _preset3 = packed[3];
    }

    /// @notice Whether the account supports modules of `moduleTypeId` (1 validator, 2 executor, 3 fallback).
    /// @dev Hooks (4) are not supported: a global hook costs a cold SLOAD on every execution.
    /// @param moduleTypeId ERC-7579 module type.
    function supportsModule(uint256 moduleTypeId) public pure returns (bool) {
        return moduleTypeId >= MODULE_TYPE_VALIDATOR && moduleTypeId <= MODULE_TYPE_FALLBACK;
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
        return _getAccountHead().modulesVersion;
    }

    /// @notice The number of installed validators (never 0 once initialised).
    function validatorCount() external view returns (uint256) {
        return _getAccountHead().validatorCount;
    }

    /// @notice The number of installed validators that can sign for the account (not scoped, see
    /// {IScopedValidator}); never 0 once initialised.
    function signingValidatorCount() external view returns (uint256) {
        return _getAccountHead().signingValidatorCount;
    }

    /// @notice The fallback handler of `selector`, or address(0).
    /// @param selector The function selector.
    function fallbackHandler(bytes4 selector) external view returns (address) {
        return _getAccountStorage().fallbacks[selector];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    function _getAccountStorage() internal pure returns (AccountStorage storage $) {
        assembly ("memory-safe") {
            $.slot := _ACCOUNT_STORAGE_SLOT
        }
    }

    function _getAccountHead() internal pure returns (AccountHead storage head) {
        assembly ("memory-safe") {
            head.slot := _ACCOUNT_HEAD_SLOT
        }
    }

    function _isValidatorInstalled(address validator) internal view returns (bool) {
        return _isInstalled(MODULE_TYPE_VALIDATOR, validator);
    }

    /// @dev Validators and executors: preset modules by their flag, others by their mapping slot.
    function _isInstalled(uint256 moduleTypeId, address module) internal view returns (bool) {
        uint256 flag = _presetFlag(moduleTypeId, module);
        if (flag != 0) return _getAccountHead().presetFlags & flag != 0;
        return _getAccountStorage().modules[module] & (1 << moduleTypeId) != 0;
    }

    /// @dev Whether `module`'s parameterless view `selector` answers true (e.g. {IInstallBoundValidator-isInstallBound});
    /// like {_isScopedValidator}, anything but a clear true is false.
    function _answersTrue(address module, bytes4 selector) private view returns (bool) {
        return _answers(module, selector) == 1;
    }

    /// @dev The word `module`'s parameterless view `selector` answers (0 when it reverts or answers less than a word).
    function _answers(address module, bytes4 selector) private view returns (uint256) {
        (bool ok, bytes memory result) = module.staticcall{gas: 30_000}(abi.encodeWithSelector(selector));
        return ok && result.length >= 32 ? abi.decode(result, (uint256)) : 0;
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

    /// @notice The preset modules (their installed flags live in the account's head).
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

    function _installModule(uint256 moduleTypeId, address module, bytes calldata initData) internal {
        if (!supportsModule(moduleTypeId)) revert ERC7579Utils.ERC7579UnsupportedModuleType(moduleTypeId);
        if (!IERC7579Module(module).isModuleType(moduleTypeId)) {
            revert ERC7579Utils.ERC7579MismatchedModuleTypeId(moduleTypeId, module);
        }
        AccountStorage storage $ = _getAccountStorage();
        AccountHead storage head = _getAccountHead();
        if (moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR) {
            if (_isInstalled(moduleTypeId, module)) {
                revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, module);
            }
            uint256 flag = _presetFlag(moduleTypeId, module);
            // Whether the validator is counted as one that can sign is decided once, here, and remembered: what
            // the module answers later can't change the count.
            bool signing = moduleTypeId == MODULE_TYPE_VALIDATOR && !_isScopedValidator(module);
            if (flag != 0) {
                head.presetFlags = uint8(head.presetFlags | flag | (signing ? flag << 4 : 0));
            } else {
                $.modules[module] |= (1 << moduleTypeId) | (signing ? _SIGNING_BIT : 0);
            }
            if (moduleTypeId == MODULE_TYPE_VALIDATOR) ++head.validatorCount;
            if (signing) ++head.signingValidatorCount;
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
        AccountHead storage head = _getAccountHead();
        if (moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR) {
            if (!_isInstalled(moduleTypeId, module)) {
                revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            }
            uint256 flag = _presetFlag(moduleTypeId, module);
            if (moduleTypeId == MODULE_TYPE_VALIDATOR) {
                if (head.validatorCount == 1) revert LastValidator(module);
                bool signing = flag != 0 ? head.presetFlags & (flag << 4) != 0 : $.modules[module] & _SIGNING_BIT != 0;
                if (signing) {
                    if (head.signingValidatorCount == 1) revert LastSigningValidator(module);
                    --head.signingValidatorCount;
                }
                --head.validatorCount;
            }
            if (flag != 0) {
                head.presetFlags = uint8(head.presetFlags & ~(flag | (flag << 4)));
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
