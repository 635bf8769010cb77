// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IScopedValidator} from "./modules/IScopedValidator.sol";
import {IVersionedValidator} from "./modules/IVersionedValidator.sol";
import {ISessionKeyValidator} from "./session/ISessionKeyValidator.sol";
import {CallType, ERC7579Utils, ExecType} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {
    Execution,
    IERC7579Execution,
    IERC7579ModuleConfig,
    IERC7579Validator,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

// Casts below narrow values that are range-checked first (timestamps, bounded limits) or take the leading
// bytes of calldata on purpose (selectors, addresses).
// forge-lint: disable-start(unsafe-typecast)
/// @title SessionKeyValidator
/// @notice ERC-7579 validator (module type 1) that lets a key held by a dapp send userOps for an account within
/// an on-chain policy: expiry, a fee limit, call policies (target, selector, value, calldata constraints) and
/// transfer policies, each amount capped by a usage limit (unlimited, lifetime or per-period allowance).
///
/// @dev **Specs.** A spec travels packed (see {SessionSpecLib} and docs/interfaces.md): fixed-width big-endian
/// fields, no padding. The session id is `keccak256(spec)`. The account creates a session by calling
/// {createSession} itself (`msg.sender` is the account), which checks every rule and the exact layout; only the id
/// and one slot of state are stored, the spec travels in every session userOp signature and in {SessionCreated}.
/// Since an id is only ever active for bytes that passed those checks, validation reads the spec without bounds
/// checks.
///
/// **UserOp signature** (`userOp.signature`, the validator is selected through the nonce key as usual):
/// `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature` where
/// - `timestamp` is the current time claimed by the signer (the latest block time): it selects the period of every
///   `Allowance` limit the userOp consumes (`periodIndex = timestamp / period`) and must not be past `expiresAt`;
/// - `signerSignature` signs `digest = keccak256(abi.encode(userOpHash, sessionId))`:
///   * secp256k1 signer (kind 1): a 65-byte `r ‖ s ‖ v` ECDSA signature over `digest` itself (no prefix);
///   * P-256 signer (kind 2, `x ‖ y`): a 64-byte `r ‖ s` signature over `sha256(digest)`, i.e. what WebCrypto's
///     `sign({ name: 'ECDSA', hash: 'SHA-256' }, key, digest)` returns for the 32 digest bytes. High-s signatures
///     are accepted (normalised here), so WebCrypto output needs no post-processing.
///
/// **Time.** Validation cannot read TIMESTAMP (ERC-7562), so time is carried by the returned validation data: the
/// userOp is valid from the latest start of the allowance periods it consumed until `validUntil` = the earliest of
/// `expiresAt` and the ends of those periods (EntryPoint v0.8 accepts `validAfter < block.timestamp <= validUntil`,
/// so `validAfter` is that start - 1, or 0). The EntryPoint rejects the userOp outside that window, so a wrong
/// claimed period can never be charged on chain. The window is never unbounded (`validUntil` is never 0: a claim
/// whose period would end at time 0 reverts `InvalidTimestamp`) and never extends past `expiresAt`.
///
/// **Fee.** When the userOp has no paymaster, `fee = maxFeePerGas × (verificationGasLimit + callGasLimit +
/// preVerificationGas)` (the most the account can pay the EntryPoint) is counted against `feeLimit`. With a paymaster
/// the account pays no gas and nothing is counted. `feeLimit` may not be `Unlimited`.
///
/// **Calls.** `userOp.callData` must be the account's ERC-7579 `execute(bytes32 mode, bytes executionCalldata)` with
/// a single or batch call type (default or try exec type; no delegatecall). Every call must match a policy: empty
/// calldata -> the transfer policy of `target`; otherwise the call policy of (`target`, selector). A session may
/// never call the targets of {forbiddenTargets} (the account itself, this validator, the EntryPoint: deposits,
/// stake, withdrawals) or any module installed on the account (`isModuleInstalled` of every type; fallback handlers
/// of any selector through `isModuleInstalled(3, target, "")`, which SsoAccount answers, and of the called
/// selector), nor use the selectors of {forbiddenSelectors} on any target. Checked at creation and again at every
/// use: the session records the account's `modulesVersion()` (SsoAccount bumps it on every install and uninstall)
/// and a use repeats the `isModuleInstalled` calls only when it changed, or when the account has no such counter.
///
/// **Storage** is ERC-7562-friendly: every slot is keyed by the account as the innermost mapping key. Per session:
/// one slot with the state tag, the fee counter and the first limit's counter (so a session with one limit touches
/// one slot per userOp); limits 2k and 2k+1 share one more slot each. A counter is `spent` plus a 24-bit period tag
/// `(timestamp / period) mod 2^24`; a new tag resets `spent` (an older period cannot land: its window is past).
/// Per account: what revoke-all moved (a nonce, and for accounts with `modulesVersion()` the version below which
/// sessions are revoked: revoke-all bumps the account's version through `bumpModulesVersion()`). That slot is only
/// read when the account's modules version moved since the session was created, or the account has none: an
/// unchanged version means no module change and no revoke-all since creation.
///
/// **Errors.** A bad signer signature returns `SIG_VALIDATION_FAILED` (so gas estimation with a dummy signature
/// works); every policy violation reverts with a custom error naming the rule, which the bundler returns to the
/// client during simulation.
contract SessionKeyValidator is ISessionKeyValidator, IERC7579Validator, IScopedValidator, IVersionedValidator {
    /// @dev The canonical ERC-4337 v0.8 EntryPoint: a session may never call it.
    address internal constant ENTRY_POINT = 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108;

    /// @dev Session slot layout (low to high bits): tag (24) ‖ fee spent (80) ‖ fee period tag (24) ‖ counter 1
    /// spent (104) ‖ counter 1 period tag (24). The tag: bit 20 set once created, bit 21 set when `epoch` (bits
    /// 0..19) is the account's `modulesVersion()` at creation (otherwise it is the account's session nonce then),
    /// bit 22 set when revoked one by one.
    uint256 private constant _TAG_MASK = 0xffffff;
    uint256 private constant _TAG_EXISTS = 1 << 20;
    uint256 private constant _TAG_VERSIONED = 1 << 21;
    uint256 private constant _TAG_REVOKED = 1 << 22;
    uint256 private constant _EPOCH_MASK = (1 << 20) - 1;
    uint256 private constant _FEE_SHIFT = 24;
    uint256 private constant _FEE_BITS = 80;
    uint256 private constant _COUNTER_BITS = 104;
    uint256 private constant _PERIOD_TAG_MASK = 0xffffff;

    uint256 private constant _MAX_FEE_LIMIT = (1 << _FEE_BITS) - 1;
    uint256 private constant _MAX_LIMIT = (1 << _COUNTER_BITS) - 1;

    uint256 private constant _SIGNER_SECP256K1 = 1;
    uint256 private constant _SIGNER_P256 = 2;

    // Packed sizes.
    uint256 private constant _LIMIT_SIZE = 18;
    uint256 private constant _CALL_POLICY_SIZE = 56;
    uint256 private constant _CONSTRAINT_SIZE = 53;
    uint256 private constant _TRANSFER_POLICY_SIZE = 51;

    /// @dev Selectors a session may never call on any target: the one list, published by {forbiddenSelectors} and
    /// checked by {_isForbiddenSelector} (keep the three in step; docs/interfaces.md describes it).
    bytes4 private constant _INSTALL_MODULE = IERC7579ModuleConfig.installModule.selector;
    bytes4 private constant _UNINSTALL_MODULE = IERC7579ModuleConfig.uninstallModule.selector;
    bytes4 private constant _UPGRADE_TO_AND_CALL = bytes4(keccak256("upgradeToAndCall(address,bytes)"));
    bytes4 private constant _UPGRADE_TO = bytes4(keccak256("upgradeTo(address)"));
    /// @dev `modulesVersion()` and `bumpModulesVersion()` of SsoAccount.
    bytes4 private constant _MODULES_VERSION = bytes4(keccak256("modulesVersion()"));
    bytes4 private constant _BUMP_MODULES_VERSION = bytes4(keccak256("bumpModulesVersion()"));

    /// @dev Per-userOp validation state. `word` is the session slot, written back once at the end.
    struct Context {
        address account;
        bytes32 id;
        uint256 word;
        uint256 tag;
        uint256 header;
        uint256 timestamp;
        uint256 validAfter;
        uint256 validUntil;
        bool modulesUnchanged;
    }

    /// @dev What revoke-all moved: sessions of an unversioned epoch other than `nonce`, and versioned sessions of
    /// an epoch below `revokedBeforeVersion`, are revoked.
    struct AccountState {
        uint32 nonce;
        uint32 revokedBeforeVersion;
    }

    mapping(address account => AccountState) private _accounts;
    mapping(bytes32 sessionId => mapping(address account => uint256)) private _sessions;
    mapping(bytes32 counterKey => mapping(address account => uint256)) private _counters;

    // ---------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Called by the account when it installs the module. Nothing to set up; `data` is ignored.
    function onInstall(bytes calldata) external override {}

    /// @notice Called by the account when it uninstalls the module: revokes every session of the account.
    function onUninstall(bytes calldata) external override {
        _revokeAll(msg.sender, true);
    }

    /// @notice This module is a validator (type 1) only.
    function isModuleType(uint256 moduleTypeId) external pure override returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    /// @notice True: a session can never change the account's configuration (install or uninstall modules, upgrade,
    /// call its modules), so the account never counts this validator as one that can sign for it.
    function isScopedValidator() external pure override returns (bool) {
        return true;
    }

    /// @notice True: SsoAccount passes its `modulesVersion()` ({validateUserOpWithModulesVersion}) instead of being
    /// called back for it.
    function isVersionedValidator() external pure override returns (bool) {
        return true;
    }

    /// @notice Validates a session userOp of the calling account (see the contract documentation for the
    /// signature encoding). Returns `SIG_VALIDATION_FAILED` for a bad signer signature and reverts with a custom
    /// error for any policy violation. Asks the account its `modulesVersion()` when the session is versioned.
    /// @param userOp The user operation; `userOp.signature` is `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ sig`.
    /// @param userOpHash The hash the account asks to validate.
    /// @return validationData Packed signature result and the `validAfter` / `validUntil` window.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        override
        returns (uint256 validationData)
    {
        return _validateUserOp(userOp, userOpHash, false, 0);
    }

    /// @notice {validateUserOp} with the calling account's current `modulesVersion()` given by the account (its word
    /// about its own modules, as its answer to `modulesVersion()` would be): no call back into the account.
    /// @param userOp The user operation.
    /// @param userOpHash The hash the account asks to validate.
    /// @param modulesVersion The calling account's `modulesVersion()` now.
    /// @return validationData Packed signature result and the `validAfter` / `validUntil` window.
    function validateUserOpWithModulesVersion(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        uint256 modulesVersion
    ) external override returns (uint256 validationData) {
        return _validateUserOp(userOp, userOpHash, true, modulesVersion);
    }

    function _validateUserOp(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        bool versionGiven,
        uint256 modulesVersion
    ) internal returns (uint256 validationData) {
        (bytes calldata spec, uint256 timestamp, bytes calldata signerSignature) = _splitSignature(userOp.signature);
        Context memory ctx = _loadActiveSession(spec, timestamp, versionGiven, modulesVersion);
        bool signatureValid = _verifySigner(spec, _digest(userOpHash, ctx.id), signerSignature);
        if (userOp.paymasterAndData.length == 0) _consumeFee(ctx, spec, userOp);
        _checkExecution(ctx, spec, userOp.callData);
        _sessions[ctx.id][msg.sender] = ctx.word;
        // The op is valid from ctx.validAfter to ctx.validUntil inclusive (every consumed period, the expiry);
        // EntryPoint v0.8 accepts `validAfter < block.timestamp <= validUntil`, hence validAfter - 1 (0 stays 0).
        // validUntil is at least the claimed time, so it is 0 only for a 1-second period claimed at time 0, which
        // the EntryPoint would read as "forever".
        uint256 validAfter = ctx.validAfter;
        uint256 validUntil = ctx.validUntil;
        if (validUntil == 0) revert InvalidTimestamp(uint48(timestamp));
        // Both fit 48 bits: validAfter <= timestamp <= validUntil <= expiresAt (all uint48). Bit 0: signature failed.
        assembly ("memory-safe") {
            validAfter := sub(validAfter, iszero(iszero(validAfter)))
            validationData := or(or(shl(208, validAfter), shl(160, validUntil)), iszero(signatureValid))
        }
    }

    /// @notice Sessions do not sign messages: always returns `0xffffffff`.
    function isValidSignatureWithSender(address, bytes32, bytes calldata) external pure override returns (bytes4) {
        return 0xffffffff;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Session management (called by the account)
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ISessionKeyValidator
    function createSession(bytes calldata spec) external returns (bytes32 id) {
        address account = msg.sender;
        if (!IERC7579ModuleConfig(account).isModuleInstalled(MODULE_TYPE_VALIDATOR, address(this), "")) {
            revert SessionValidatorNotInstalled(account);
        }
        _validateSpec(account, spec);

        id = _hash(spec);
        uint256 tag = _sessions[id][account] & _TAG_MASK;
        AccountState memory accountState = _accounts[account];
        // A session revoked by a revoke-all may be created again (with fresh counters); one revoked alone may not.
        if (tag != 0 && !_revokedByAll(accountState, tag)) revert SessionAlreadyExists(id);
        (bool versioned, uint256 version) = _call(account, _MODULES_VERSION);
        if (versioned && version >= accountState.revokedBeforeVersion && version <= _EPOCH_MASK) {
            tag = _TAG_EXISTS | _TAG_VERSIONED | version;
        } else {
            if (accountState.nonce > _EPOCH_MASK) revert SessionNonceExhausted();
            tag = _TAG_EXISTS | accountState.nonce;
        }
        _sessions[id][account] = tag;
        emit SessionCreated(account, id, spec);
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeSession(bytes32 id) external {
        _revoke(msg.sender, id);
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeSessions(bytes32[] calldata ids) external {
        for (uint256 i = 0; i < ids.length; ++i) {
            _revoke(msg.sender, ids[i]);
        }
    }

    /// @inheritdoc ISessionKeyValidator
    function revokeAllSessions() external {
        _revokeAll(msg.sender, false);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ISessionKeyValidator
    function sessionId(bytes calldata spec) external pure returns (bytes32) {
        return keccak256(spec);
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionStatus(address account, bytes32 id) public view returns (Status) {
        uint256 tag = _sessions[id][account] & _TAG_MASK;
        if (tag == 0) return Status.None;
        if (tag & _TAG_REVOKED != 0 || _revokedByAll(_accounts[account], tag)) return Status.Revoked;
        return Status.Active;
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionState(address account, bytes calldata spec) external view returns (SessionState memory state) {
        _validateLayout(spec);
        Context memory ctx;
        ctx.account = account;
        ctx.id = keccak256(spec);
        ctx.word = _sessions[ctx.id][account];
        ctx.tag = ctx.word & _TAG_MASK;
        ctx.timestamp = block.timestamp;

        uint256 header = 1 + (_u8(spec, 0) == _SIGNER_SECP256K1 ? 20 : 64);
        state.status = sessionStatus(account, ctx.id);
        // forge-lint: disable-next-line(block-timestamp)
        if (state.status == Status.Active && block.timestamp > _u48(spec, header)) state.status = Status.Expired;
        state.feeRemaining = _remainingIn(ctx, ctx.word, _FEE_SHIFT, _FEE_BITS, spec, header + 6);

        uint256 p = header + 25;
        uint256 counter = 1;
        state.callPolicies = new CallPolicyState[](_u8(spec, p - 1));
        for (uint256 i = 0; i < state.callPolicies.length; ++i) {
            (state.callPolicies[i].valueRemaining, counter) = _remainingOf(ctx, counter, spec, p + 37);
            uint256 constraints = _u8(spec, p + 55);
            state.callPolicies[i].constraintRemaining = new uint256[](constraints);
            for (uint256 j = 0; j < constraints; ++j) {
                (state.callPolicies[i].constraintRemaining[j], counter) =
                    _remainingOf(ctx, counter, spec, p + _CALL_POLICY_SIZE + j * _CONSTRAINT_SIZE + 35);
            }
            p += _CALL_POLICY_SIZE + constraints * _CONSTRAINT_SIZE;
        }
        state.transferValueRemaining = new uint256[](_u8(spec, p));
        p += 1;
        for (uint256 i = 0; i < state.transferValueRemaining.length; ++i) {
            (state.transferValueRemaining[i], counter) = _remainingOf(ctx, counter, spec, p + 33);
            p += _TRANSFER_POLICY_SIZE;
        }
    }

    /// @inheritdoc ISessionKeyValidator
    function sessionNonce(address account) external view returns (uint256) {
        return _accounts[account].nonce;
    }

    /// @inheritdoc ISessionKeyValidator
    function forbiddenSelectors() external pure returns (bytes4[] memory selectors) {
        selectors = new bytes4[](4);
        selectors[0] = _INSTALL_MODULE;
        selectors[1] = _UNINSTALL_MODULE;
        selectors[2] = _UPGRADE_TO_AND_CALL;
        selectors[3] = _UPGRADE_TO;
    }

    /// @inheritdoc ISessionKeyValidator
    function forbiddenTargets(address account) external view returns (address[] memory targets) {
        targets = new address[](3);
        targets[0] = account;
        targets[1] = address(this);
        targets[2] = ENTRY_POINT;
    }

    /// @inheritdoc ISessionKeyValidator
    function isForbiddenCall(address account, address target, bytes calldata data) external view returns (bool) {
        bool isCall = data.length != 0;
        if (isCall && data.length < 4) return true;
        bytes4 selector = isCall ? bytes4(data) : bytes4(0);
        return _isForbiddenTarget(account, target) || (isCall && _isForbiddenSelector(selector))
            || _isInstalledModule(account, target, selector, isCall);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: validation
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Splits `uint16 specLength ‖ spec ‖ uint48 timestamp ‖ signerSignature`.
    function _splitSignature(bytes calldata signature)
        internal
        pure
        returns (bytes calldata spec, uint256 claimedTime, bytes calldata signerSignature)
    {
        bool malformed;
        assembly ("memory-safe") {
            let length := signature.length
            let head := calldataload(signature.offset)
            let specEnd := add(2, shr(240, head))
            malformed := or(lt(length, 2), lt(length, add(specEnd, 6)))
            spec.offset := add(signature.offset, 2)
            spec.length := sub(specEnd, 2)
            claimedTime := shr(208, calldataload(add(signature.offset, specEnd)))
            signerSignature.offset := add(signature.offset, add(specEnd, 6))
            signerSignature.length := sub(length, add(specEnd, 6))
        }
        if (malformed) revert InvalidSessionSignatureEncoding();
    }

    /// @dev Loads the session of `spec` for the calling account; reverts unless it is active (created, not revoked
    /// alone nor by a revoke-all) and `timestamp` is not past its expiry. The account's state in this contract is
    /// only read when its modules version moved since creation (or it has none). The version is asked from the
    /// account unless `versionGiven` (then it is `version`).
    function _loadActiveSession(bytes calldata spec, uint256 timestamp, bool versionGiven, uint256 version)
        internal
        view
        returns (Context memory ctx)
    {
        ctx.account = msg.sender;
        ctx.id = _hash(spec);
        ctx.word = _sessions[ctx.id][msg.sender];
        ctx.tag = ctx.word & _TAG_MASK;
        if (ctx.tag & (_TAG_EXISTS | _TAG_REVOKED) != _TAG_EXISTS) revert SessionNotActive(ctx.id);
        if (ctx.tag & _TAG_VERSIONED != 0) {
            // No module installed, uninstalled or revoke-all since creation: the creation checks still hold.
            bool ok = true;
            if (!versionGiven) (ok, version) = _call(msg.sender, _MODULES_VERSION);
            ctx.modulesUnchanged = ok && version == ctx.tag & _EPOCH_MASK;
        }
        if (!ctx.modulesUnchanged && _revokedByAll(_accounts[msg.sender], ctx.tag)) revert SessionNotActive(ctx.id);
        ctx.header = _u8(spec, 0) == _SIGNER_SECP256K1 ? 21 : 65;
        uint256 expiresAt = _u48(spec, ctx.header);
        if (timestamp > expiresAt) revert SessionExpired(ctx.id, uint48(expiresAt));
        ctx.timestamp = timestamp;
        ctx.validUntil = expiresAt;
    }

    /// @dev What the session signer signs: `keccak256(abi.encode(userOpHash, id))`.
    function _digest(bytes32 userOpHash, bytes32 id) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            mstore(0x00, userOpHash)
            mstore(0x20, id)
            digest := keccak256(0x00, 0x40)
        }
    }

    /// @dev Counts the most the account can pay for `userOp` against the fee limit (its counter is in the word).
    function _consumeFee(Context memory ctx, bytes calldata spec, PackedUserOperation calldata userOp) internal pure {
        uint256 fee;
        assembly ("memory-safe") {
            // accountGasLimits = verificationGasLimit ‖ callGasLimit; gasFees = maxPriorityFeePerGas ‖ maxFeePerGas
            let gasLimits := calldataload(add(userOp, 0x80))
            let gas_ :=
                add(
                    add(shr(128, gasLimits), and(gasLimits, 0xffffffffffffffffffffffffffffffff)),
                    calldataload(add(userOp, 0xa0))
                )
            let maxFee := and(calldataload(add(userOp, 0xc0)), 0xffffffffffffffffffffffffffffffff)
            fee := mul(maxFee, gas_)
            // 128-bit fee × (two 128-bit limits + preVerificationGas): refuse what could wrap.
            if or(
                gt(calldataload(add(userOp, 0xa0)), 0xffffffffffffffffffffffffffffffff),
                iszero(or(iszero(maxFee), eq(div(fee, maxFee), gas_)))
            ) {
                fee := not(0)
            }
        }
        if (fee == 0) return;
        uint256 remaining;
        (ctx.word, remaining) = _consumeIn(ctx, ctx.word, _FEE_SHIFT, _FEE_BITS, spec, ctx.header + 6, fee);
        if (fee > remaining) revert FeeLimitExceeded(fee, remaining);
    }

    /// @dev Verifies the session signer's signature of `digest` (see the contract documentation).
    function _verifySigner(bytes calldata spec, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        if (_u8(spec, 0) == _SIGNER_SECP256K1) {
            address signer = _address(spec, 1);
            bool valid;
            assembly ("memory-safe") {
                // 65-byte r ‖ s ‖ v, low s (as OpenZeppelin's ECDSA), v 27 or 28.
                let s_ := calldataload(add(signature.offset, 0x20))
                let v := byte(0, calldataload(add(signature.offset, 0x40)))
                if and(
                    eq(signature.length, 65),
                    and(
                        lt(s_, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1),
                        or(eq(v, 27), eq(v, 28))
                    )
                ) {
                    let m := mload(0x40)
                    mstore(m, digest)
                    mstore(add(m, 0x20), v)
                    mstore(add(m, 0x40), calldataload(signature.offset))
                    mstore(add(m, 0x60), s_)
                    // ecrecover returns nothing for an invalid signature: the zero address never matches signer.
                    mstore(0x00, 0)
                    if staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20) { valid := eq(mload(0x00), signer) }
                }
            }
            return valid;
        }
        if (signature.length != 64) return false;
        bytes32 r = bytes32(signature[0x00:0x20]);
        uint256 s = uint256(bytes32(signature[0x20:0x40]));
        // WebCrypto does not normalise s; (r, N - s) is the same signature.
        if (s > P256.N / 2 && s < P256.N) s = P256.N - s;
        bytes32 message;
        assembly ("memory-safe") {
            mstore(0x00, digest)
            if iszero(staticcall(gas(), 0x02, 0x00, 0x20, 0x00, 0x20)) { revert(0, 0) }
            message := mload(0x00)
        }
        return P256.verify(message, r, bytes32(s), bytes32(spec[1:33]), bytes32(spec[33:65]));
    }

    /// @dev Checks every call of the account's `execute(bytes32,bytes)` calldata against the session's policies.
    function _checkExecution(Context memory ctx, bytes calldata spec, bytes calldata callData) internal {
        uint256 policies = ctx.header + 25; // the first call policy, after the call policy count
        (bytes32 mode, bytes calldata executionCalldata) = _decodeExecute(callData);
        bytes1 callType = mode[0];
        bytes1 execType = mode[1];
        if (
            execType != ExecType.unwrap(ERC7579Utils.EXECTYPE_DEFAULT)
                && execType != ExecType.unwrap(ERC7579Utils.EXECTYPE_TRY)
        ) revert UnsupportedExecutionMode(mode);

        if (callType == CallType.unwrap(ERC7579Utils.CALLTYPE_SINGLE)) {
            (address target, uint256 value, bytes calldata data) = ERC7579Utils.decodeSingle(executionCalldata);
            _checkCall(ctx, spec, policies, target, value, data);
        } else if (callType == CallType.unwrap(ERC7579Utils.CALLTYPE_BATCH)) {
            Execution[] calldata batch = ERC7579Utils.decodeBatch(executionCalldata);
            for (uint256 i = 0; i < batch.length; ++i) {
                Execution calldata execution = batch[i];
                _checkCall(ctx, spec, policies, execution.target, execution.value, execution.callData);
            }
        } else {
            revert UnsupportedExecutionMode(mode);
        }
    }

    /// @dev Decodes `execute(bytes32 mode, bytes executionCalldata)` exactly as the account's ABI decoder reads it
    /// (head offset, then length word), so the calls checked here are the calls the account executes.
    function _decodeExecute(bytes calldata callData)
        internal
        pure
        returns (bytes32 mode, bytes calldata executionCalldata)
    {
        bytes4 selector = bytes4(callData);
        if (callData.length < 0x44 || selector != IERC7579Execution.execute.selector) {
            revert UnsupportedCallData(selector);
        }
        mode = bytes32(callData[0x04:0x24]);
        uint256 offset = uint256(bytes32(callData[0x24:0x44]));
        if (offset > callData.length) revert UnsupportedCallData(selector);
        uint256 lengthAt = 0x04 + offset;
        uint256 length = uint256(bytes32(callData[lengthAt:lengthAt + 0x20]));
        executionCalldata = callData[lengthAt + 0x20:lengthAt + 0x20 + length];
    }

    /// @dev Checks one call (target, value, data) of the userOp against its policy and counts it against the
    /// policy's limits. Walks the policies in spec order, numbering the limited counters on the way.
    function _checkCall(
        Context memory ctx,
        bytes calldata spec,
        uint256 p,
        address target,
        uint256 value,
        bytes calldata data
    ) internal {
        bool isCall = data.length != 0;
        if (isCall && data.length < 4) revert InvalidCallData(target);
        bytes4 selector = isCall ? bytes4(data) : bytes4(0);
        _checkTarget(ctx.account, target, selector, isCall, !ctx.modulesUnchanged);

        uint256 counter = 1;
        uint256 count = _u8(spec, p - 1);
        for (uint256 i = 0; i < count; ++i) {
            uint256 constraints = _u8(spec, p + 55);
            if (isCall && _address(spec, p) == target && bytes4(bytes32(_word(spec, p + 20))) == selector) {
                _checkFunctionCall(ctx, spec, p, counter, target, value, data);
                return;
            }
            counter += _limitedCounters(spec, p, constraints);
            p += _CALL_POLICY_SIZE + constraints * _CONSTRAINT_SIZE;
        }
        if (isCall) revert NoCallPolicy(target, selector);
        _checkTransfer(ctx, spec, p, counter, target, value);
    }

    /// @dev Checks a plain transfer against the transfer policies, which start at `p` (their count), and counts
    /// it; `counter` is the number of the first counter after the call policies'.
    function _checkTransfer(
        Context memory ctx,
        bytes calldata spec,
        uint256 p,
        uint256 counter,
        address target,
        uint256 value
    ) internal {
        uint256 count = _u8(spec, p);
        p += 1;
        for (uint256 i = 0; i < count; ++i) {
            if (_address(spec, p) == target) {
                uint256 maxValuePerUse = _u104(spec, p + 20);
                if (value > maxValuePerUse) revert TransferValuePerUseExceeded(target, value, maxValuePerUse);
                (bool ok, uint256 remaining) =
                    _u8(spec, p + 33) == 0 ? (true, 0) : _consume(ctx, counter, spec, p + 33, value);
                if (!ok) revert TransferValueLimitExceeded(target, value, remaining);
                return;
            }
            if (_u8(spec, p + 33) != 0) ++counter;
            p += _TRANSFER_POLICY_SIZE;
        }
        revert NoTransferPolicy(target);
    }

    /// @dev How many limits of the call policy at `p` (value limit and constraints) are not Unlimited.
    function _limitedCounters(bytes calldata spec, uint256 p, uint256 constraints) internal pure returns (uint256 n) {
        if (_u8(spec, p + 37) != 0) ++n;
        for (
            uint256 c = p + _CALL_POLICY_SIZE + 35;
            c < p + _CALL_POLICY_SIZE + constraints * _CONSTRAINT_SIZE;
            c += _CONSTRAINT_SIZE
        ) {
            if (_u8(spec, c) != 0) ++n;
        }
    }

    /// @dev Checks a call against the call policy at `p` whose first limited counter is `counter`.
    function _checkFunctionCall(
        Context memory ctx,
        bytes calldata spec,
        uint256 p,
        uint256 counter,
        address target,
        uint256 value,
        bytes calldata data
    ) internal {
        bytes4 selector = bytes4(data);
        uint256 maxValuePerUse = _u104(spec, p + 24);
        if (value > maxValuePerUse) revert CallValuePerUseExceeded(target, selector, value, maxValuePerUse);
        if (_u8(spec, p + 37) != 0) {
            (bool ok, uint256 remaining) = _consume(ctx, counter, spec, p + 37, value);
            if (!ok) revert CallValueLimitExceeded(target, selector, value, remaining);
            ++counter;
        }
        uint256 constraints = _u8(spec, p + 55);
        for (uint256 j = 0; j < constraints; ++j) {
            counter =
                _checkConstraint(ctx, spec, p + _CALL_POLICY_SIZE + j * _CONSTRAINT_SIZE, j, counter, target, data);
        }
    }

    /// @dev Checks the constraint at `c` (number `j` of its policy) on `data` and counts the constrained word if
    /// its limit is not Unlimited; returns the next counter number.
    function _checkConstraint(
        Context memory ctx,
        bytes calldata spec,
        uint256 c,
        uint256 j,
        uint256 counter,
        address target,
        bytes calldata data
    ) internal returns (uint256) {
        bytes32 word;
        {
            uint256 index = _u16(spec, c + 1);
            uint256 start = 4 + 32 * index;
            if (data.length < start + 32) revert ConstraintOutOfBounds(target, bytes4(data), j, index);
            word = bytes32(data[start:start + 32]);
        }
        {
            bytes32 refValue = bytes32(_word(spec, c + 3));
            uint256 condition = _u8(spec, c);
            if (!_holds(condition, word, refValue)) {
                revert ConstraintViolated(target, bytes4(data), j, Condition(condition), word, refValue);
            }
        }
        if (_u8(spec, c + 35) == 0) return counter;
        (bool ok, uint256 remaining) = _consume(ctx, counter, spec, c + 35, uint256(word));
        if (!ok) revert ConstraintLimitExceeded(target, bytes4(data), j, uint256(word), remaining);
        return counter + 1;
    }

    function _holds(uint256 condition, bytes32 word, bytes32 refValue) internal pure returns (bool) {
        if (condition == uint256(Condition.Unconstrained)) return true;
        if (condition == uint256(Condition.Equal)) return word == refValue;
        if (condition == uint256(Condition.NotEqual)) return word != refValue;
        if (condition == uint256(Condition.Greater)) return uint256(word) > uint256(refValue);
        if (condition == uint256(Condition.GreaterOrEqual)) return uint256(word) >= uint256(refValue);
        if (condition == uint256(Condition.Less)) return uint256(word) < uint256(refValue);
        return uint256(word) <= uint256(refValue); // LessOrEqual
    }

    /// @dev Reverts when `target` / `selector` is forbidden for any session of `account` (`isCall`: a call with a
    /// selector, not a plain transfer); `checkModules` asks the account whether `target` is one of its modules.
    function _checkTarget(address account, address target, bytes4 selector, bool isCall, bool checkModules)
        internal
        view
    {
        if (_isForbiddenTarget(account, target)) revert ForbiddenTarget(target);
        if (isCall && _isForbiddenSelector(selector)) revert ForbiddenSelector(target, selector);
        if (checkModules && _isInstalledModule(account, target, selector, isCall)) revert ForbiddenTarget(target);
    }

    /// @dev The targets of {forbiddenTargets}.
    function _isForbiddenTarget(address account, address target) internal view returns (bool) {
        return target == account || target == address(this) || target == ENTRY_POINT;
    }

    /// @dev The selectors of {forbiddenSelectors}.
    function _isForbiddenSelector(bytes4 selector) internal pure returns (bool) {
        return selector == _INSTALL_MODULE || selector == _UNINSTALL_MODULE || selector == _UPGRADE_TO_AND_CALL
            || selector == _UPGRADE_TO;
    }

    /// @dev Whether `target` is installed on `account` as a validator, executor, hook or fallback handler: of any
    /// selector (`isModuleInstalled(3, target, "")`, which SsoAccount answers; other ERC-7579 accounts return false)
    /// and, for a call, of the call's `selector` (the standard lookup). Plain `isModuleInstalled` static calls into
    /// the account (ERC-7562: the sender's storage), written in assembly to reuse one buffer. A failing call counts
    /// as installed.
    function _isInstalledModule(address account, address target, bytes4 selector, bool isCall)
        internal
        view
        returns (bool installed)
    {
        assembly ("memory-safe") {
            // isModuleInstalled(uint256 moduleTypeId, address module, bytes additionalContext), additionalContext
            // being empty or the 4-byte selector; true (or a failed call) means installed.
            function query(m, acc, moduleType, contextLength) -> yes {
                mstore(add(m, 0x04), moduleType)
                mstore(add(m, 0x64), contextLength)
                let ok := staticcall(gas(), acc, m, add(0x84, contextLength), 0x00, 0x20)
                yes := or(or(iszero(ok), lt(returndatasize(), 0x20)), iszero(iszero(mload(0x00))))
            }
            let m := mload(0x40)
            mstore(m, shl(224, 0x112d3a7d))
            mstore(add(m, 0x24), target)
            mstore(add(m, 0x44), 0x60)
            mstore(add(m, 0x84), selector)
            installed := query(m, account, 1, 4)
            if iszero(installed) { installed := query(m, account, 2, 4) }
            if iszero(installed) { installed := query(m, account, 3, 0) }
            if and(iszero(installed), isCall) { installed := query(m, account, 3, 4) }
            if iszero(installed) { installed := query(m, account, 4, 4) }
        }
    }

    /// @dev Calls a parameterless function of `account` returning one word (`modulesVersion()` as a static call,
    /// `bumpModulesVersion()` otherwise); `ok` is false when it reverts or returns less than a word.
    function _call(address account, bytes4 selector) internal view returns (bool ok, uint256 result) {
        assembly ("memory-safe") {
            mstore(0x00, selector)
            // Yul evaluates arguments right to left: make the call before reading its return data size.
            ok := staticcall(gas(), account, 0x00, 0x04, 0x00, 0x20)
            ok := and(ok, gt(returndatasize(), 0x1f))
            result := mload(0x00)
        }
    }

    function _bumpModulesVersion(address account) internal returns (bool ok, uint256 version) {
        bytes4 selector = _BUMP_MODULES_VERSION;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            ok := call(gas(), account, 0, 0x00, 0x04, 0x00, 0x20)
            ok := and(ok, gt(returndatasize(), 0x1f))
            version := mload(0x00)
        }
    }

    /// @dev Whether a session with `tag` was revoked by a revoke-all of the account.
    function _revokedByAll(AccountState memory accountState, uint256 tag) internal pure returns (bool) {
        uint256 epoch = tag & _EPOCH_MASK;
        return tag & _TAG_VERSIONED != 0 ? epoch < accountState.revokedBeforeVersion : epoch != accountState.nonce;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: limits
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Counts `amount` against counter `counter` whose limit is at `limitAt` in `spec`; returns false and the
    /// remaining amount when it does not fit. Counter 1 lives in the session word, counters 2k and 2k+1 in slot k.
    function _consume(Context memory ctx, uint256 counter, bytes calldata spec, uint256 limitAt, uint256 amount)
        internal
        returns (bool ok, uint256 remaining)
    {
        if (amount == 0) return (true, _u104(spec, limitAt + 1));
        if (counter == 1) {
            (ctx.word, remaining) = _consumeIn(ctx, ctx.word, 128, _COUNTER_BITS, spec, limitAt, amount);
        } else {
            mapping(address => uint256) storage slots = _counters[_counterKey(ctx.id, ctx.tag, counter >> 1)];
            uint256 word;
            (word, remaining) =
                _consumeIn(ctx, slots[ctx.account], (counter & 1) * 128, _COUNTER_BITS, spec, limitAt, amount);
            if (amount <= remaining) slots[ctx.account] = word;
        }
        return (amount <= remaining, remaining);
    }

    /// @dev Counts `amount` against the counter at bit `shift` of `word` (`bits` of spent, then a 24-bit period
    /// tag) under the limit at `limitAt`; returns the updated word (unchanged when it does not fit) and what
    /// remained before. Moves an allowance to the claimed period and narrows the validity window to it.
    function _consumeIn(
        Context memory ctx,
        uint256 word,
        uint256 shift,
        uint256 bits,
        bytes calldata spec,
        uint256 limitAt,
        uint256 amount
    ) internal pure returns (uint256, uint256 remaining) {
        uint256 spent = (word >> shift) & ((1 << bits) - 1);
        uint256 periodTag = (word >> (shift + bits)) & _PERIOD_TAG_MASK;
        if (_u8(spec, limitAt) == uint256(LimitType.Allowance)) {
            uint256 newTag = _enterPeriod(ctx, _u32(spec, limitAt + 14));
            if (newTag != periodTag) (periodTag, spent) = (newTag, 0);
        }
        remaining = _u104(spec, limitAt + 1) - spent;
        if (amount > remaining) return (word, remaining);
        uint256 mask = ((1 << (bits + 24)) - 1) << shift;
        word = (word & ~mask) | (((periodTag << bits) | (spent + amount)) << shift);
        return (word, remaining);
    }

    /// @dev Narrows the validity window (its first and last second) to the period of the claimed time; returns
    /// that period's tag.
    function _enterPeriod(Context memory ctx, uint256 period) internal pure returns (uint256) {
        uint256 periodIndex = ctx.timestamp / period;
        uint256 start = periodIndex * period;
        uint256 end = start + period - 1;
        if (start > ctx.validAfter) ctx.validAfter = start;
        if (end < ctx.validUntil) ctx.validUntil = end;
        return periodIndex & _PERIOD_TAG_MASK;
    }

    /// @dev The remaining amount of counter `counter` (if its limit at `limitAt` is not Unlimited) at the
    /// context's time, and the next counter number.
    function _remainingOf(Context memory ctx, uint256 counter, bytes calldata spec, uint256 limitAt)
        internal
        view
        returns (uint256 remaining, uint256 next)
    {
        if (_u8(spec, limitAt) == uint256(LimitType.Unlimited)) return (type(uint256).max, counter);
        uint256 word = counter == 1 ? ctx.word : _counters[_counterKey(ctx.id, ctx.tag, counter >> 1)][ctx.account];
        uint256 shift = counter == 1 ? 128 : (counter & 1) * 128;
        return (_remainingIn(ctx, word, shift, _COUNTER_BITS, spec, limitAt), counter + 1);
    }

    function _remainingIn(
        Context memory ctx,
        uint256 word,
        uint256 shift,
        uint256 bits,
        bytes calldata spec,
        uint256 limitAt
    ) internal pure returns (uint256) {
        uint256 limitType = _u8(spec, limitAt);
        if (limitType == uint256(LimitType.Unlimited)) return type(uint256).max;
        uint256 limit = _u104(spec, limitAt + 1);
        uint256 spent = (word >> shift) & ((1 << bits) - 1);
        if (limitType == uint256(LimitType.Allowance)) {
            uint256 periodTag = (word >> (shift + bits)) & _PERIOD_TAG_MASK;
            if ((ctx.timestamp / _u32(spec, limitAt + 14)) & _PERIOD_TAG_MASK != periodTag) return limit;
        }
        return limit - spent;
    }

    /// @dev The key of extra counter slot `slot` of the session `id` created with `tag` (fresh when it is created
    /// again after a revoke-all).
    function _counterKey(bytes32 id, uint256 tag, uint256 slot) internal pure returns (bytes32) {
        return keccak256(abi.encode(id, tag & (_TAG_VERSIONED | _EPOCH_MASK), slot));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: creation and revocation
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Checks the exact layout and every rule of a packed spec for `account`.
    function _validateSpec(address account, bytes calldata spec) internal view {
        _validateLayout(spec);
        uint256 signerKind = _u8(spec, 0);
        if (signerKind == _SIGNER_SECP256K1) {
            if (_address(spec, 1) == address(0)) revert InvalidSigner(spec[1:21]);
        } else if (!P256.isValidPublicKey(bytes32(spec[1:33]), bytes32(spec[33:65]))) {
            revert InvalidSigner(spec[1:65]);
        }
        uint256 header = signerKind == _SIGNER_SECP256K1 ? 21 : 65;
        uint256 expiresAt = _u48(spec, header);
        // forge-lint: disable-next-line(block-timestamp)
        if (expiresAt <= block.timestamp) revert InvalidExpiry(uint48(expiresAt));
        if (_u8(spec, header + 6) == uint256(LimitType.Unlimited)) revert UnlimitedFeeLimit();
        _validateLimit(spec, header + 6, _MAX_FEE_LIMIT);

        uint256 p = header + 25;
        uint256 count = _u8(spec, p - 1);
        uint256[] memory seen = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            address target = _address(spec, p);
            bytes4 selector = bytes4(bytes32(_word(spec, p + 20)));
            _checkTarget(account, target, selector, true, true);
            seen[i] = p;
            for (uint256 k = 0; k < i; ++k) {
                if (_address(spec, seen[k]) == target && bytes4(bytes32(_word(spec, seen[k] + 20))) == selector) {
                    revert DuplicatePolicy(target, selector);
                }
            }
            _validateLimit(spec, p + 37, _MAX_LIMIT);
            uint256 constraints = _u8(spec, p + 55);
            for (uint256 j = 0; j < constraints; ++j) {
                uint256 c = p + _CALL_POLICY_SIZE + j * _CONSTRAINT_SIZE;
                _validateLimit(spec, c + 35, _MAX_LIMIT);
            }
            p += _CALL_POLICY_SIZE + constraints * _CONSTRAINT_SIZE;
        }

        count = _u8(spec, p);
        p += 1;
        seen = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            address target = _address(spec, p);
            _checkTarget(account, target, bytes4(0), false, true);
            seen[i] = p;
            for (uint256 k = 0; k < i; ++k) {
                if (_address(spec, seen[k]) == target) revert DuplicatePolicy(target, bytes4(0));
            }
            _validateLimit(spec, p + 33, _MAX_LIMIT);
            p += _TRANSFER_POLICY_SIZE;
        }
    }

    /// @dev Checks that `spec` is exactly one packed spec (every count and enum in range, no trailing bytes).
    function _validateLayout(bytes calldata spec) internal pure {
        uint256 length = spec.length;
        if (length == 0) revert InvalidSpecEncoding(0);
        uint256 signerKind = _u8(spec, 0);
        if (signerKind != _SIGNER_SECP256K1 && signerKind != _SIGNER_P256) revert InvalidSigner(spec[0:1]);
        uint256 p = (signerKind == _SIGNER_SECP256K1 ? 21 : 65) + 25;
        if (length < p) revert InvalidSpecEncoding(length);
        uint256 count = _u8(spec, p - 1);
        for (uint256 i = 0; i < count; ++i) {
            if (length < p + _CALL_POLICY_SIZE) revert InvalidSpecEncoding(length);
            uint256 constraints = _u8(spec, p + 55);
            uint256 end = p + _CALL_POLICY_SIZE + constraints * _CONSTRAINT_SIZE;
            if (length < end) revert InvalidSpecEncoding(length);
            for (uint256 c = p + _CALL_POLICY_SIZE; c < end; c += _CONSTRAINT_SIZE) {
                if (_u8(spec, c) > uint256(Condition.LessOrEqual)) revert InvalidSpecEncoding(c);
            }
            p = end;
        }
        if (length < p + 1) revert InvalidSpecEncoding(length);
        p += 1 + _u8(spec, p) * _TRANSFER_POLICY_SIZE;
        if (length != p) revert InvalidSpecEncoding(length < p ? length : p);
    }

    /// @dev Unlimited: no limit and no period; Lifetime: no period; Allowance: a period; the limit within `maxLimit`.
    function _validateLimit(bytes calldata spec, uint256 at, uint256 maxLimit) internal pure {
        uint256 limitType = _u8(spec, at);
        uint256 limit = _u104(spec, at + 1);
        uint256 period = _u32(spec, at + 14);
        bool valid = limitType == uint256(LimitType.Unlimited)
            ? limit == 0 && period == 0
            : limitType <= uint256(LimitType.Allowance) && limit <= maxLimit
                && (limitType == uint256(LimitType.Lifetime) ? period == 0 : period != 0);
        if (!valid) revert InvalidUsageLimit(limitType, limit, period, maxLimit);
    }

    function _revoke(address account, bytes32 id) internal {
        uint256 word = _sessions[id][account];
        if (word & (_TAG_EXISTS | _TAG_REVOKED) != _TAG_EXISTS || _revokedByAll(_accounts[account], word & _TAG_MASK)) {
            revert SessionNotActive(id);
        }
        _sessions[id][account] = word | _TAG_REVOKED;
        emit SessionRevoked(account, id);
    }

    /// @dev Revokes every session of `account`: moves its nonce (unversioned sessions) and, for an account with a
    /// modules version, revokes the sessions created before the version it bumps to now. While this module is being
    /// uninstalled it cannot bump (it is no longer installed), but the uninstall itself moved the version: sessions
    /// up to the current version are revoked. A versioned account that cannot bump otherwise would keep its
    /// sessions on the fast path (which trusts an unchanged version), so revoke-all refuses it.
    function _revokeAll(address account, bool uninstalling) internal {
        AccountState memory accountState = _accounts[account];
        ++accountState.nonce;
        (bool bumped, uint256 version) = _bumpModulesVersion(account);
        if (!bumped) {
            (bool versioned, uint256 current) = _call(account, _MODULES_VERSION);
            if (versioned && !uninstalling) revert ModulesVersionNotBumped(account);
            version = versioned && current < type(uint32).max ? current + 1 : type(uint32).max;
        }
        if (version > type(uint32).max) version = type(uint32).max;
        if (version > accountState.revokedBeforeVersion) accountState.revokedBeforeVersion = uint32(version);
        _accounts[account] = accountState;
        emit AllSessionsRevoked(account, accountState.nonce);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internal: packed reads (offsets inside `spec`; reading past its end yields the next calldata bytes, which
    // only happens for layouts {_validateLayout} rejects)
    // ---------------------------------------------------------------------------------------------------------

    function _hash(bytes calldata data) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, data.offset, data.length)
            digest := keccak256(m, data.length)
        }
    }

    function _word(bytes calldata spec, uint256 at) internal pure returns (uint256 word) {
        assembly ("memory-safe") {
            word := calldataload(add(spec.offset, at))
        }
    }

    function _u8(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return _word(spec, at) >> 248;
    }

    function _u16(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return _word(spec, at) >> 240;
    }

    function _u32(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return _word(spec, at) >> 224;
    }

    function _u48(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return _word(spec, at) >> 208;
    }

    function _u104(bytes calldata spec, uint256 at) internal pure returns (uint256) {
        return _word(spec, at) >> 152;
    }

    function _address(bytes calldata spec, uint256 at) internal pure returns (address) {
        return address(uint160(_word(spec, at) >> 96));
    }
}
// forge-lint: disable-end(unsafe-typecast)
