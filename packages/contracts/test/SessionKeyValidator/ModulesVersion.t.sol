// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {MockMinimalAccount, MockModule, MockVersionedAccount} from "../mocks/Mocks.sol";
import {SessionTest} from "./SessionTest.sol";
import {IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579ModuleConfig} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/// @notice The modules-version fast path: a session checks its targets against the account's modules at creation
/// and again at a use only when the account's `modulesVersion()` moved (or the account has none).
contract SessionModulesVersionTest is SessionTest {
    MockModule internal module;

    function setUp() public override {
        super.setUp();
        module = new MockModule(2);
    }

    /// @dev Transfers to `module` (not installed yet) and calls of its `whoCalled`.
    function _moduleSpec() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = baseSpec();
        addTransfer(spec, address(module), 1 ether, unlimited());
        addCall(spec, address(module), MockModule.whoCalled.selector, 0, unlimited());
        addTransfer(spec, recipient, 1 ether, lifetime(10 ether));
    }

    function _moduleCallOp() internal view returns (PackedUserOperation memory) {
        return sessionOp(singleCall(address(module), 0, abi.encodeCall(MockModule.whoCalled, ())));
    }

    function _expectValidateRevert(PackedUserOperation memory op, bytes memory err) internal {
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(address(account));
        vm.expectRevert(err);
        sessions.validateUserOp(op, hash);
    }

    function _forbidden(address what) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, what);
    }

    function _lookups() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IERC7579ModuleConfig.isModuleInstalled.selector);
    }

    function test_noModuleLookupsWhileTheVersionIsUnchanged() public {
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        create(spec);
        vm.expectCall(address(account), _lookups(), 0);
        validate(sign(transferOp(address(module), 1), spec));
        validate(sign(_moduleCallOp(), spec));
    }

    /// @dev Any install moves the version: the next uses look the targets up again.
    function test_lookupsAfterAnInstall() public {
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        create(spec);
        MockModule unrelated = new MockModule(2);
        vm.prank(address(ENTRYPOINT));
        account.installModule(2, address(unrelated), "");
        vm.expectCall(address(account), _lookups());
        validate(sign(transferOp(recipient, 1), spec));
    }

    /// @dev SsoAccount gives the validator its version ({IVersionedValidator}): a session userOp makes no call back
    /// into the account for it.
    function test_accountGivesItsVersion() public {
        vm.assertTrue(sessions.isVersionedValidator());
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        create(spec);
        PackedUserOperation memory op = sign(transferOp(recipient, 1), spec);
        uint256 before = recipient.balance;
        vm.expectCall(address(account), abi.encodeWithSignature("modulesVersion()"), 0);
        handleOp(op);
        vm.assertEq(recipient.balance, before + 1);
    }

    /// @dev The given version decides like the answer of `modulesVersion()` would: unchanged since creation, the
    /// targets are not looked up.
    function test_givenVersionUnchanged_noLookups() public {
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        create(spec);
        PackedUserOperation memory op = sign(transferOp(address(module), 1), spec);
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        uint256 version = account.modulesVersion();
        vm.prank(address(account));
        vm.expectCall(address(account), _lookups(), 0);
        sessions.validateUserOpWithKnownVersion(op, hash, version);
    }

    /// @dev Moved since creation, the targets are looked up again: a target installed as a module is refused.
    function test_givenVersionMoved_targetInstalledAsModuleIsRefused() public {
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        create(spec);
        vm.prank(address(ENTRYPOINT));
        account.installModule(2, address(module), "");
        PackedUserOperation memory op = sign(transferOp(address(module), 1), spec);
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        uint256 version = account.modulesVersion();
        vm.prank(address(account));
        vm.expectRevert(_forbidden(address(module)));
        sessions.validateUserOpWithKnownVersion(op, hash, version);
    }

    function test_targetInstalledAsExecutorIsRefused() public {
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        create(spec);
        validate(sign(transferOp(address(module), 1), spec));
        validate(sign(_moduleCallOp(), spec));

        vm.prank(address(ENTRYPOINT));
        account.installModule(2, address(module), "");
        _expectValidateRevert(sign(transferOp(address(module), 1), spec), _forbidden(address(module)));
        _expectValidateRevert(sign(_moduleCallOp(), spec), _forbidden(address(module)));
        // Other targets still work.
        validate(sign(transferOp(recipient, 1), spec));

        // Uninstalled again: no longer a module, the policy applies again.
        vm.prank(address(ENTRYPOINT));
        account.uninstallModule(2, address(module), "");
        validate(sign(transferOp(address(module), 1), spec));
    }

    /// @dev Installed as a validator by the owner's passkey userOp; the session userOp then fails in the
    /// EntryPoint with the rule.
    function test_targetInstalledAsValidatorThroughAnOwnerUserOp() public {
        MockModule validatorModule = new MockModule(1);
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, address(validatorModule), 1 ether, unlimited());
        create(spec);
        // Validates (MockModule takes no ETH, so the call itself fails without failing the bundle).
        vm.recordLogs();
        handleOp(sign(transferOp(address(validatorModule), 1), spec));
        vm.assertGt(vm.getRecordedLogs().length, 0);
        vm.assertEq(ENTRYPOINT.getNonce(address(account), nonceKey(address(sessions))) & type(uint64).max, 1);

        handleOp(ownerOp(abi.encodeCall(SsoAccount.installModule, (1, address(validatorModule), ""))));
        vm.assertTrue(account.isModuleInstalled(1, address(validatorModule), ""));

        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = sign(transferOp(address(validatorModule), 1), spec);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEntryPoint.FailedOpWithRevert.selector, 0, "AA23 reverted", _forbidden(address(validatorModule))
            )
        );
        vm.prank(bundler, bundler);
        ENTRYPOINT.handleOps(ops, bundler);
    }

    /// @dev A session created after the install records the new version: it cannot name the module at all.
    function test_sessionCreatedAfterAnInstall() public {
        vm.prank(address(ENTRYPOINT));
        account.installModule(2, address(module), "");
        vm.prank(address(account));
        vm.expectRevert(_forbidden(address(module)));
        sessions.createSession(packed(_moduleSpec()));

        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, 1 ether, unlimited());
        create(spec);
        vm.expectCall(address(account), _lookups(), 0);
        validate(sign(transferOp(recipient, 1), spec));
        // The installed module is refused at use whichever path runs.
        _expectValidateRevert(
            sign(transferOp(address(module), 1), spec),
            abi.encodeWithSelector(ISessionKeyValidator.NoTransferPolicy.selector, address(module))
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // Accounts without SsoAccount's counter
    // --------------------------------------------------------------------------------------------------------

    function _validateAs(address sender, PackedUserOperation memory op) internal returns (uint256) {
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(sender);
        return sessions.validateUserOp(op, hash);
    }

    function _expectValidateRevertAs(address sender, PackedUserOperation memory op, bytes memory err) internal {
        bytes32 hash = ENTRYPOINT.getUserOpHash(op);
        vm.prank(sender);
        vm.expectRevert(err);
        sessions.validateUserOp(op, hash);
    }

    function _opOf(address sender, PackedUserOperation memory op, ISessionKeyValidator.SessionSpec memory spec)
        internal
        view
        returns (PackedUserOperation memory)
    {
        op.sender = sender;
        op.nonce = 0;
        return sign(op, spec);
    }

    /// @dev An ERC-7579 account with no `modulesVersion()`: every use asks `isModuleInstalled` for each type.
    function test_accountWithoutModulesVersion() public {
        MockMinimalAccount minimal = new MockMinimalAccount();
        minimal.setInstalled(1, address(sessions), true);
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        vm.prank(address(minimal));
        sessions.createSession(packed(spec));

        PackedUserOperation memory transfer = _opOf(address(minimal), transferOp(address(module), 1), spec);
        PackedUserOperation memory call = _opOf(address(minimal), _moduleCallOp(), spec);
        vm.expectCall(address(minimal), _lookups());
        vm.assertEq(_validateAs(address(minimal), transfer), window(0, spec.expiresAt));
        _validateAs(address(minimal), call);

        // The target becomes a validator, an executor, a hook, then a fallback handler (the mock ignores the
        // selector context: it answers the "any selector" query too, so transfers to it are refused as well).
        uint256[4] memory types = [uint256(1), 2, 4, 3];
        for (uint256 i = 0; i < types.length; ++i) {
            minimal.setInstalled(types[i], address(module), true);
            _expectValidateRevertAs(address(minimal), call, _forbidden(address(module)));
            _expectValidateRevertAs(address(minimal), transfer, _forbidden(address(module)));
            minimal.setInstalled(types[i], address(module), false);
            _validateAs(address(minimal), transfer);
        }
    }

    /// @dev A MockVersionedAccount at `version` with the SessionKeyValidator installed, one session of
    /// `_moduleSpec()` created, and a signed transfer of 1 wei to `to` under it.
    function _versionedSession(uint256 version, address to)
        internal
        returns (MockVersionedAccount versioned, PackedUserOperation memory transfer, bytes32 id)
    {
        versioned = new MockVersionedAccount();
        versioned.setInstalled(1, address(sessions), true);
        versioned.setModulesVersion(version);
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        vm.prank(address(versioned));
        id = sessions.createSession(packed(spec));
        transfer = _opOf(address(versioned), transferOp(to, 1), spec);
    }

    /// @dev A versioned account is trusted while its version is unchanged; any move brings the lookups back, and
    /// a version too large to record means lookups at every use.
    function test_versionedMinimalAccount() public {
        (MockVersionedAccount versioned, PackedUserOperation memory transfer,) = _versionedSession(7, address(module));

        _validateAs(address(versioned), transfer);

        versioned.setInstalled(2, address(module), true);
        versioned.setModulesVersion(8);
        _expectValidateRevertAs(address(versioned), transfer, _forbidden(address(module)));
        versioned.setInstalled(2, address(module), false);
        _validateAs(address(versioned), transfer);
    }

    function test_versionedMinimalAccount_noLookupsWhileUnchanged() public {
        (MockVersionedAccount versioned, PackedUserOperation memory transfer,) = _versionedSession(7, address(module));
        vm.expectCall(address(versioned), _lookups(), 0);
        _validateAs(address(versioned), transfer);
    }

    /// @dev A version too large to record: the session cannot rely on it and looks up at every use.
    function test_versionedMinimalAccount_hugeVersion() public {
        (MockVersionedAccount versioned, PackedUserOperation memory transfer,) =
            _versionedSession(type(uint256).max, address(module));
        vm.expectCall(address(versioned), _lookups());
        _validateAs(address(versioned), transfer);
        versioned.setInstalled(2, address(module), true);
        _expectValidateRevertAs(address(versioned), transfer, _forbidden(address(module)));
    }

    // --------------------------------------------------------------------------------------------------------
    // Revoke-all and the version
    // --------------------------------------------------------------------------------------------------------

    /// @dev SsoAccount: revoke-all bumps the version (the validator is an installed module), so the fast path ends
    /// for the old sessions; a session created again starts clean and uses the fast path again.
    function test_revokeAllBumpsTheVersion() public {
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        bytes32 id = create(spec);
        validate(sign(transferOp(recipient, 1 ether), spec));
        uint256 before = account.modulesVersion();
        vm.prank(address(account));
        sessions.revokeAllSessions();
        vm.assertEq(account.modulesVersion(), before + 1);
        _expectValidateRevert(
            sign(transferOp(recipient, 1), spec),
            abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, id)
        );
        create(spec);
        vm.assertEq(state(spec).transferValueRemaining[1], 10 ether);
        vm.expectCall(address(account), _lookups(), 0);
        validate(sign(transferOp(recipient, 1), spec));
    }

    /// @dev An account without a modules version: revoke-all moves the session nonce.
    function test_revokeAllOnAnUnversionedAccount() public {
        MockMinimalAccount minimal = new MockMinimalAccount();
        minimal.setInstalled(1, address(sessions), true);
        ISessionKeyValidator.SessionSpec memory spec = _moduleSpec();
        vm.prank(address(minimal));
        bytes32 id = sessions.createSession(packed(spec));
        PackedUserOperation memory transfer = _opOf(address(minimal), transferOp(recipient, 1 ether), spec);
        _validateAs(address(minimal), transfer);

        vm.prank(address(minimal));
        sessions.revokeAllSessions();
        vm.assertEq(sessions.sessionNonce(address(minimal)), 1);
        vm.assertEq(uint256(sessions.sessionStatus(address(minimal), id)), uint256(ISessionKeyValidator.Status.Revoked));
        _expectValidateRevertAs(
            address(minimal), transfer, abi.encodeWithSelector(ISessionKeyValidator.SessionNotActive.selector, id)
        );

        vm.prank(address(minimal));
        sessions.createSession(packed(spec));
        vm.assertEq(sessions.sessionState(address(minimal), packed(spec)).transferValueRemaining[1], 10 ether);
        _validateAs(address(minimal), transfer);
        _validateAs(address(minimal), transfer);
        vm.assertEq(sessions.sessionState(address(minimal), packed(spec)).transferValueRemaining[1], 8 ether);
    }

    /// @dev An account with `modulesVersion()` but no `bumpModulesVersion()` (any ERC-7579 account may expose the
    /// first): revoke-all cannot end its sessions (the version does not move), so it is refused with a clear error.
    function test_revokeAllOnAVersionedAccountThatCannotBump() public {
        (MockVersionedAccount versioned, PackedUserOperation memory transfer, bytes32 id) =
            _versionedSession(7, recipient);
        _validateAs(address(versioned), transfer);

        // Revoke-all cannot be enforced without a bump (the fast path trusts an unchanged version): refused, and the
        // session keeps working as before.
        vm.prank(address(versioned));
        vm.expectRevert(
            abi.encodeWithSelector(ISessionKeyValidator.ModulesVersionNotBumped.selector, address(versioned))
        );
        sessions.revokeAllSessions();
        vm.assertEq(versioned.modulesVersion(), 7);
        vm.assertEq(
            uint256(sessions.sessionStatus(address(versioned), id)), uint256(ISessionKeyValidator.Status.Active)
        );
        _validateAs(address(versioned), transfer);
    }
}
