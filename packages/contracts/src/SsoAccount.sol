// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ModuleManager} from "./account/ModuleManager.sol";
import {IScopedValidator} from "./modules/IScopedValidator.sol";
import {IVersionedValidator} from "./modules/IVersionedValidator.sol";
import {IPasskeyStore} from "./webauthn/IPasskeyStore.sol";
import {WebAuthnSignatureLib} from "./webauthn/WebAuthnSignatureLib.sol";
import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {CallType, ERC7579Utils, ExecType, Mode} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IAccount, IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {
    Execution,
    IERC7579AccountConfig,
    IERC7579Execution,
    IERC7579Module,
    IERC7579ModuleConfig,
    IERC7579Validator,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_FALLBACK,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
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
/// - Passkeys: the preset passkey validator (the WebAuthnValidator, {IPasskeyStoreValidator}) keeps its passkeys in
///   the account ({IPasskeyStore}), and the account checks a passkey userOp in its own code with the validator's
///   rules ({WebAuthnSignatureLib}); anything that check does not accept goes to the validator as before
///   (docs/webauthn.md, "Where passkeys are stored").
/// - ERC-1271: `signature = validator (20 bytes) ‖ validatorSignature`, wrapped as ERC-7739 (nested
///   `TypedDataSign` or `PersonalSign`, see OpenZeppelin {ERC7739}); the validator checks the final ERC-7739 digest.
/// - Modules ({ModuleManager} keeps their records): validators (1), executors (2), fallback handlers (3). No hooks
///   (4): a global hook would cost a cold SLOAD on every execution, and the passkey transfer has a tight gas budget.
///   The last validator can never be removed, nor the last one that can sign for the account: a validator that
///   declares itself scoped ({IScopedValidator}, e.g. the SessionKeyValidator) does not count as one. Executions
///   never call a module's `onInstall` / `onUninstall` themselves ({ModuleHookCall}).
///
/// The initialised flag, the validator counts, the preset modules' installed flags and the modules version live in
/// the free bits of the ERC-1967 implementation slot ({ModuleManager-AccountHead}): deployment writes no slot for
/// them, and reading them costs a warm read. The module records and the passkeys live in one ERC-7201 namespace.
contract SsoAccount is
    Account,
    EIP712,
    ERC7739,
    UUPSUpgradeable,
    ModuleManager,
    IPasskeyStore,
    IERC7579Execution,
    IERC165,
    IERC721Receiver,
    IERC1155Receiver
{
    using ERC7579Utils for *;

    /// @notice Locks the implementation; proxies are initialised through {initialize}.
    /// @param presetModuleTypeIds Module type of each preset module (see {ModuleManager}).
    /// @param presetModuleAddresses Up to {MAX_PRESET_MODULES} modules.
    constructor(uint256[] memory presetModuleTypeIds, address[] memory presetModuleAddresses)
        EIP712("SsoAccount", "1")
        ModuleManager(presetModuleTypeIds, presetModuleAddresses)
    {
        _getAccountHead().initialized = true;
    }

    /// @notice Installs the initial modules. Called once by the factory in the deployment transaction.
    /// @param moduleTypeIds ERC-7579 module type of each module.
    /// @param modules Module addresses.
    /// @param initData `onInstall` data of each module (fallback handlers: selector ‖ data).
    function initialize(uint256[] calldata moduleTypeIds, address[] calldata modules, bytes[] calldata initData)
        external
    {
        AccountHead storage head = _getAccountHead();
        if (head.initialized) revert InvalidInitialization();
        head.initialized = true;
        if (moduleTypeIds.length != modules.length || modules.length != initData.length) {
            revert ModuleListLengthMismatch(moduleTypeIds.length, modules.length, initData.length);
        }
        for (uint256 i = 0; i < modules.length; ++i) {
            _installModule(moduleTypeIds[i], modules[i], initData[i]);
        }
        if (head.signingValidatorCount == 0) revert NoValidator();
    }

    // ------------------------------------------------------------------------------------------------------------
    // ERC-4337
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The ERC-4337 EntryPoint v0.8 this account trusts.
    function entryPoint() public pure override returns (IEntryPoint) {
        return ERC4337Utils.ENTRYPOINT_V08;
    }

    /// @notice ERC-4337 validation: the validator is the top 20 bytes of the nonce; an uninstalled one fails.
    /// @dev The passkey validator's userOps are first checked here, against the passkey stored in the account, with
    /// the P-256 precompile ({WebAuthnSignatureLib-verifyOnPrecompile}): accepted, no call is made; otherwise the
    /// validator decides (a bad signature, or a chain without the precompile, where it checks in Solidity).
    /// A preset validator bound to its installation ({IInstallBoundValidator}) is called without reading the
    /// installed flag (a cold slot): not installed, it holds no key for this account and fails by itself.
    /// Forwards this call's calldata to `IERC7579Validator.validateUserOp` with only the selector swapped:
    /// `(userOp, userOpHash, missingAccountFunds)` decodes as `(userOp, userOpHash)` (the userOp offset points into
    /// the same buffer), which saves re-encoding the userOp; a preset versioned validator gets
    /// `validateUserOpWithKnownVersion(userOp, userOpHash, modulesVersion)` the same way, the third word replaced
    /// (the version sits in the slot the installed check reads). A reverting validator reverts validation.
    /// @param userOp The user operation.
    /// @param userOpHash The hash the validator checks the signature of.
    /// @param missingAccountFunds The prefund to pay the EntryPoint.
    /// @return validationData 0 (success), 1 (SIG_VALIDATION_FAILED) or packed validity window.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash, uint256 missingAccountFunds)
        public
        override
        returns (uint256 validationData)
    {
        _checkEntryPoint();
        address validator = address(bytes20(bytes32(userOp.nonce)));
        uint256 flag = _presetFlag(MODULE_TYPE_VALIDATOR, validator);
        // The passkey validator's userOps accepted here need no call; validationData stays 0 (success).
        if (flag & _passkeyPreset == 0 || !_passkeyAccepts(userOpHash, userOp.signature)) {
            validationData = _validateWithModule(validator, flag);
        }
        _payPrefund(missingAccountFunds);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Passkeys kept in the account
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IPasskeyStore
    function passkeyEntry(address validator, bytes4 credentialKey) external view returns (uint256) {
        return _getAccountStorage().passkeys[validator][credentialKey];
    }

    /// @inheritdoc IPasskeyStore
    function setPasskeyEntry(bytes4 credentialKey, uint256 entry) external {
        if (msg.sender != _passkeyValidator || msg.sender == address(0)) revert NotPasskeyValidator(msg.sender);
        _getAccountStorage().passkeys[msg.sender][credentialKey] = entry;
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
    /// @dev Only the EntryPoint (after validation) or the account itself. The SDK's userOps call the same body
    /// through {executePacked_ezig}: packed arguments, a selector the dispatch reaches first.
    /// @param mode ERC-7579 execution mode.
    /// @param executionCalldata ERC-7579 encoded execution(s).
    function execute(bytes32 mode, bytes calldata executionCalldata) external payable onlyEntryPointOrSelf {
        _execute(mode, executionCalldata);
    }

    /// @notice {execute} with its arguments packed, under a selector (`0x00000017`, the name is mined for it) that the
    /// compiler's dispatch compares first. Calldata: `0x00000017 ‖ mode (32 bytes) ‖ executionCalldata (the rest)`,
    /// without the ABI's offset, length and padding words. The dispatch compares selectors one by one in ascending
    /// order and `execute` (`0xe9ae5c53`) comes 28th; with the words a plain transfer's callData is 164 bytes
    /// instead of 88. Same body and checks as {execute}; userOps built by the SDK call this one. The
    /// SessionKeyValidator accepts it only from SsoAccount's entry (`validateUserOpWithKnownVersion`).
    function executePacked_ezig() external payable onlyEntryPointOrSelf {
        if (msg.data.length < 36) revert ERC7579Utils.ERC7579DecodingError();
        _execute(bytes32(msg.data[4:36]), msg.data[36:]);
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
        return "sso.SsoAccount.1.1.0";
    }

    /// @notice Whether `encodedMode` is supported: call type single or batch, exec type default or try.
    /// @param encodedMode ERC-7579 execution mode.
    function supportsExecutionMode(bytes32 encodedMode) public pure returns (bool) {
        (CallType callType, ExecType execType,,) = Mode.wrap(encodedMode).decodeMode();
        return (callType == ERC7579Utils.CALLTYPE_SINGLE || callType == ERC7579Utils.CALLTYPE_BATCH)
            && (execType == ERC7579Utils.EXECTYPE_DEFAULT || execType == ERC7579Utils.EXECTYPE_TRY);
    }

    /// @notice Installs a module. Only the EntryPoint or the account itself.
    /// @param moduleTypeId ERC-7579 module type.
    /// @param module The module.
    /// @param initData `onInstall` data (fallback handlers: 4-byte selector ‖ data).
    function installModule(uint256 moduleTypeId, address module, bytes calldata initData)
        external
        onlyEntryPointOrSelf
    {
        ++_getAccountHead().modulesVersion;
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
        ++_getAccountHead().modulesVersion;
        _uninstallModule(moduleTypeId, module, deInitData);
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
        version = ++_getAccountHead().modulesVersion;
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
            || interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IPasskeyStore).interfaceId;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /// @dev UUPS: only the account itself or the EntryPoint (i.e. a validated userOp) may upgrade, and only to an
    /// implementation that keeps the account's head ({ModuleManager-ACCOUNT_HEAD_LAYOUT}).
    function _authorizeUpgrade(address newImplementation) internal view override onlyEntryPointOrSelf {
        (bool ok, bytes memory answer) =
            newImplementation.staticcall(abi.encodeWithSelector(this.ACCOUNT_HEAD_LAYOUT.selector));
        if (!ok || answer.length != 32 || abi.decode(answer, (uint256)) != ACCOUNT_HEAD_LAYOUT) {
            revert UpgradeLosesHead(newImplementation);
        }
    }

    /// @dev {execute}'s body: a single call with mode 0 on the hot path, anything else through {_internalExecute}.
    function _execute(bytes32 mode, bytes calldata executionCalldata) private {
        if (mode == bytes32(0)) {
            // Hot path, single call with default exec type: same semantics as ERC7579Utils.execSingle (bubble the
            // revert), without allocating the return data array.
            if (executionCalldata.length < 52) revert ERC7579Utils.ERC7579DecodingError();
            assembly ("memory-safe") {
                let target := shr(96, calldataload(executionCalldata.offset))
                let value := calldataload(add(executionCalldata.offset, 20))
                let length := sub(executionCalldata.length, 52)
                let m := mload(0x40)
                // No module hook call (see {_checkNotModuleHook}): onInstall(bytes), onUninstall(bytes).
                if gt(length, 3) {
                    let selector := shr(224, calldataload(add(executionCalldata.offset, 52)))
                    if or(eq(selector, 0x6d61fe70), eq(selector, 0x8a91b0e3)) {
                        mstore(m, shl(224, 0xd6ad9e9e)) // ModuleHookCall(address,bytes4)
                        mstore(add(m, 0x04), target)
                        mstore(add(m, 0x24), shl(224, selector))
                        revert(m, 0x44)
                    }
                }
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

    function _internalExecute(bytes32 mode, bytes calldata executionCalldata)
        internal
        returns (bytes[] memory returnData)
    {
        (CallType callType, ExecType execType,,) = Mode.wrap(mode).decodeMode();
        if (!(execType == ERC7579Utils.EXECTYPE_DEFAULT || execType == ERC7579Utils.EXECTYPE_TRY)) {
            revert UnsupportedExecutionMode(mode);
        }
        if (callType == ERC7579Utils.CALLTYPE_SINGLE) {
            if (executionCalldata.length < 52) revert ERC7579Utils.ERC7579DecodingError();
            _checkNotModuleHook(address(bytes20(executionCalldata[0:20])), executionCalldata[52:]);
            return executionCalldata.execSingle(execType);
        }
        if (callType == ERC7579Utils.CALLTYPE_BATCH) {
            Execution[] calldata calls = executionCalldata.decodeBatch();
            for (uint256 i = 0; i < calls.length; ++i) {
                _checkNotModuleHook(calls[i].target, calls[i].callData);
            }
            return executionCalldata.execBatch(execType);
        }
        revert UnsupportedExecutionMode(mode);
    }

    /// @dev The validator's answer for this call's userOp (see {validateUserOp}): SIG_VALIDATION_FAILED when it is not
    /// installed; a reverting validator reverts validation.
    function _validateWithModule(address validator, uint256 flag) private returns (uint256 validationData) {
        bool installed;
        uint256 version;
        if (flag != 0) {
            // One read of the head's word for the installed flag and the version (Solidity reads it per field).
            uint256 head;
            assembly ("memory-safe") {
                head := sload(_ACCOUNT_HEAD_SLOT)
            }
            installed = flag & _installBoundPresets != 0 || (head >> _HEAD_PRESET_FLAGS_SHIFT) & flag != 0;
            version = uint32(head >> _HEAD_MODULES_VERSION_SHIFT);
        } else {
            installed = _getAccountStorage().modules[validator] & (1 << MODULE_TYPE_VALIDATOR) != 0;
        }
        if (!installed) return ERC4337Utils.SIG_VALIDATION_FAILED;
        bytes4 selector = IERC7579Validator.validateUserOp.selector;
        bool versioned = flag & _versionedPresets != 0;
        if (versioned) selector = IVersionedValidator.validateUserOpWithKnownVersion.selector;
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

    /// @dev Whether the passkey stored under the signature's credential key signed `hash`, on the P-256 precompile.
    function _passkeyAccepts(bytes32 hash, bytes calldata signature) private view returns (bool) {
        if (signature.length < 4) return false;
        uint256 entry = _getAccountStorage().passkeys[_passkeyValidator][bytes4(signature[0:4])];
        return WebAuthnSignatureLib.verifyOnPrecompile(bytes32(entry), hash, signature);
    }

    /// @dev Refuses a call to a module's `onInstall` / `onUninstall` (see {ModuleHookCall}): made through `execute`,
    /// it would give a module state the account does not know of, such as a passkey that outlives the validator's
    /// uninstall (docs/webauthn.md, "Registering passkeys").
    function _checkNotModuleHook(address target, bytes calldata data) private pure {
        if (data.length < 4) return;
        bytes4 selector = bytes4(data[0:4]);
        if (selector == IERC7579Module.onInstall.selector || selector == IERC7579Module.onUninstall.selector) {
            revert ModuleHookCall(target, selector);
        }
    }
}
