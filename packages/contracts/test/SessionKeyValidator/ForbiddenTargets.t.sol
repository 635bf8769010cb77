// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISessionKeyValidator} from "../../src/session/ISessionKeyValidator.sol";
import {MockModule} from "../mocks/Mocks.sol";
import {SessionTest} from "./SessionTest.sol";
import {IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/// @notice A session may never reach a module of its account (validator, executor, fallback handler), directly or
/// through the account's fallback, nor the account itself: single calls, batches, the try exec type, modules
/// installed before the session and after it. Every attack goes through the EntryPoint's handleOps, where it must
/// fail in validation (AA23) with the rule.
contract SessionForbiddenTargetsTest is SessionTest {
    MockModule internal executor;
    MockModule internal validatorModule;
    MockModule internal handler;

    function setUp() public override {
        super.setUp();
        executor = new MockModule(2);
        validatorModule = new MockModule(1);
        handler = new MockModule(3);
        vm.label(address(executor), "executor");
        vm.label(address(validatorModule), "validator module");
        vm.label(address(handler), "fallback handler");
    }

    /// @dev A session created before any of the three modules is installed, naming each of them: what a dapp could
    /// have been granted while they were ordinary contracts.
    function _attackSpec() internal view returns (ISessionKeyValidator.SessionSpec memory spec) {
        spec = baseSpec();
        addTransfer(spec, recipient, 1 ether, unlimited());
        addTransfer(spec, address(executor), 1 ether, unlimited());
        addTransfer(spec, address(validatorModule), 1 ether, unlimited());
        addTransfer(spec, address(handler), 1 ether, unlimited());
        addCall(spec, address(executor), MockModule.run.selector, 0, unlimited());
        addCall(spec, address(validatorModule), MockModule.onInstall.selector, 0, unlimited());
        addCall(spec, address(handler), MockModule.onInstall.selector, 0, unlimited());
        addCall(spec, address(handler), MockModule.whoCalled.selector, 0, unlimited());
    }

    /// @dev The owner installs a module with a passkey userOp (through the EntryPoint, as in production).
    function _install(uint256 moduleType, address module, bytes memory initData) internal {
        handleOp(ownerOp(abi.encodeCall(SsoAccount.installModule, (moduleType, module, initData))));
        vm.assertTrue(account.isModuleInstalled(moduleType, module, initData));
    }

    function _installAll() internal {
        _install(2, address(executor), "");
        _install(1, address(validatorModule), "");
        _install(3, address(handler), abi.encodePacked(MockModule.whoCalled.selector));
    }

    /// @dev The executor's `run`: the account executes whatever the caller asks (here: 5 ether to the attacker).
    function _drain() internal view returns (bytes memory) {
        return abi.encodeCall(
            MockModule.run, (address(account), mode(0x00, 0x00), abi.encodePacked(recipient, uint256(5 ether)))
        );
    }

    function _refused(PackedUserOperation memory op, address forbidden) internal {
        _refusedWith(op, abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, forbidden));
    }

    function _refusedWith(PackedUserOperation memory op, bytes memory err) internal {
        PackedUserOperation[] memory ops = new PackedUserOperation[](1);
        ops[0] = op;
        vm.expectRevert(abi.encodeWithSelector(IEntryPoint.FailedOpWithRevert.selector, 0, "AA23 reverted", err));
        vm.prank(bundler, bundler);
        ENTRYPOINT.handleOps(ops, bundler);
    }

    function _call(address to, uint256 value, bytes memory data) internal view returns (PackedUserOperation memory) {
        return sign(sessionOp(singleCall(to, value, data)), _attackSpec());
    }

    function _batch(Execution[] memory calls, bytes1 execType) internal view returns (PackedUserOperation memory) {
        bytes memory callData = abi.encodeCall(SsoAccount.execute, (mode(0x01, execType), abi.encode(calls)));
        return sign(sessionOp(callData), _attackSpec());
    }

    /// @dev An allowed transfer followed by `data` to `to`.
    function _pair(address to, uint256 value, bytes memory data) internal view returns (Execution[] memory calls) {
        calls = new Execution[](2);
        calls[0] = Execution(recipient, 1, "");
        calls[1] = Execution(to, value, data);
    }

    /// @dev Before the installs every policy of the attack spec is usable: the refusals below come from the
    /// installs alone.
    /// @dev The session's policies on contracts that are not modules hold: every userOp validates. A call to a module
    /// hook (`onInstall`) is then refused by the account itself in execution, whatever the target
    /// (`ModuleHookCall`): nothing is installed anywhere.
    function test_policiesWorkWhileTheyAreNotModules() public {
        create(_attackSpec());
        handleOp(_call(address(handler), 0, abi.encodeCall(MockModule.onInstall, ("x"))));
        handleOp(_call(address(validatorModule), 0, abi.encodeCall(MockModule.onInstall, ("x"))));
        handleOp(_call(address(handler), 0, abi.encodeCall(MockModule.whoCalled, ())));
        handleOp(_batch(_pair(address(handler), 0, abi.encodeCall(MockModule.onInstall, ("y"))), 0x00));
        vm.assertEq(handler.installData(address(account)), "");
        vm.assertEq(validatorModule.installData(address(account)), "");
    }

    // --------------------------------------------------------------------------------------------------------
    // Modules installed after the session was created (the modules version moved: every use looks them up)
    // --------------------------------------------------------------------------------------------------------

    function test_attack_executorInstalledLater() public {
        create(_attackSpec());
        _installAll();
        uint256 balance = address(account).balance;
        _refused(_call(address(executor), 0, _drain()), address(executor));
        _refused(_call(address(executor), 1, ""), address(executor));
        _refused(_batch(_pair(address(executor), 0, _drain()), 0x00), address(executor));
        _refused(_batch(_pair(address(executor), 0, _drain()), 0x01), address(executor));
        vm.assertEq(address(account).balance, balance);
    }

    function test_attack_validatorInstalledLater() public {
        create(_attackSpec());
        _installAll();
        bytes memory reinit = abi.encodeCall(MockModule.onInstall, ("attacker key"));
        _refused(_call(address(validatorModule), 0, reinit), address(validatorModule));
        _refused(_call(address(validatorModule), 1, ""), address(validatorModule));
        _refused(_batch(_pair(address(validatorModule), 0, reinit), 0x01), address(validatorModule));
        vm.assertEq(validatorModule.installData(address(account)), "");
    }

    /// @dev The handler is installed for `whoCalled`; calling it with that selector is refused.
    function test_attack_fallbackHandlerInstalledLater_itsSelector() public {
        create(_attackSpec());
        _installAll();
        _refused(_call(address(handler), 0, abi.encodeCall(MockModule.whoCalled, ())), address(handler));
    }

    /// @dev ... and with any other selector (its `onInstall`: the account would re-initialise it with the
    /// attacker's data), or a plain transfer, alone or in a batch.
    function test_attack_fallbackHandlerInstalledLater_otherSelector() public {
        create(_attackSpec());
        _installAll();
        bytes memory reinit = abi.encodeCall(MockModule.onInstall, ("attacker data"));
        _refused(_call(address(handler), 0, reinit), address(handler));
        _refused(_batch(_pair(address(handler), 0, reinit), 0x00), address(handler));
        _refused(_batch(_pair(address(handler), 0, reinit), 0x01), address(handler));
        vm.assertEq(handler.installData(address(account)), "");
    }

    function test_attack_fallbackHandlerInstalledLater_transfer() public {
        create(_attackSpec());
        _installAll();
        _refused(_call(address(handler), 1, ""), address(handler));
        _refused(_batch(_pair(address(handler), 1, ""), 0x01), address(handler));
    }

    // --------------------------------------------------------------------------------------------------------
    // Modules installed before the session: creation refuses to name them
    // --------------------------------------------------------------------------------------------------------

    function _expectCreateRevert(ISessionKeyValidator.SessionSpec memory spec, address forbidden) internal {
        bytes memory specBytes = packed(spec);
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISessionKeyValidator.ForbiddenTarget.selector, forbidden));
        sessions.createSession(specBytes);
    }

    function test_attack_fallbackHandlerInstalledBefore_otherSelectorOrTransfer() public {
        _installAll();
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addCall(spec, address(handler), MockModule.onInstall.selector, 0, unlimited());
        _expectCreateRevert(spec, address(handler));
        spec = baseSpec();
        addTransfer(spec, address(handler), 1, unlimited());
        _expectCreateRevert(spec, address(handler));
    }

    /// @dev Created after the installs, a session cannot name them; the fast path (version unchanged) then has no
    /// policy to let a call through.
    function test_attack_modulesInstalledBefore_fastPath() public {
        _installAll();
        ISessionKeyValidator.SessionSpec memory spec = baseSpec();
        addTransfer(spec, recipient, 1 ether, unlimited());
        create(spec);
        PackedUserOperation memory op = sign(sessionOp(singleCall(address(executor), 0, _drain())), spec);
        _refusedWith(
            op,
            abi.encodeWithSelector(
                ISessionKeyValidator.NoCallPolicy.selector, address(executor), MockModule.run.selector
            )
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // The account itself, and its fallback
    // --------------------------------------------------------------------------------------------------------

    /// @dev A call to the account whose selector routes to the fallback handler reaches the handler with the
    /// account's ERC-2771 sender: refused as a call to the account.
    function test_attack_throughTheAccountFallback() public {
        create(_attackSpec());
        _installAll();
        bytes memory routed = abi.encodeCall(MockModule.whoCalled, ());
        _refused(_call(address(account), 0, routed), address(account));
        _refused(_batch(_pair(address(account), 0, routed), 0x00), address(account));
        _refused(_batch(_pair(address(account), 0, routed), 0x01), address(account));
    }

    function test_attack_theAccountItself() public {
        create(_attackSpec());
        bytes memory install = abi.encodeCall(SsoAccount.installModule, (2, address(executor), ""));
        bytes memory execute = singleCall(recipient, 5 ether, "");
        _refused(_call(address(account), 0, install), address(account));
        _refused(_call(address(account), 0, execute), address(account));
        _refused(_call(address(account), 1, ""), address(account));
        _refused(_batch(_pair(address(account), 0, install), 0x00), address(account));
        _refused(_batch(_pair(address(account), 0, execute), 0x01), address(account));
        vm.assertFalse(account.isModuleInstalled(2, address(executor), ""));
    }

    /// @dev The validator and the EntryPoint, in a batch.
    function test_attack_validatorAndEntryPointInABatch() public {
        create(_attackSpec());
        bytes memory withdraw = abi.encodeWithSignature("withdrawTo(address,uint256)", recipient, 1);
        _refused(_batch(_pair(address(ENTRYPOINT), 0, withdraw), 0x01), address(ENTRYPOINT));
        _refused(
            _batch(_pair(address(sessions), 0, abi.encodeCall(sessions.revokeAllSessions, ())), 0x00), address(sessions)
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // The shared list (forbiddenSelectors, forbiddenTargets, isForbiddenCall) is what the validator enforces
    // --------------------------------------------------------------------------------------------------------

    function test_forbiddenSelectorsAreTheList() public view {
        bytes4[] memory selectors = sessions.forbiddenSelectors();
        vm.assertEq(selectors.length, 4);
        vm.assertEq(selectors[0], SsoAccount.installModule.selector);
        vm.assertEq(selectors[1], SsoAccount.uninstallModule.selector);
        vm.assertEq(selectors[2], bytes4(keccak256("upgradeToAndCall(address,bytes)")));
        vm.assertEq(selectors[3], bytes4(keccak256("upgradeTo(address)")));
        address[] memory targets = sessions.forbiddenTargets(address(account));
        vm.assertEq(targets.length, 3);
        vm.assertEq(targets[0], address(account));
        vm.assertEq(targets[1], address(sessions));
        vm.assertEq(targets[2], address(ENTRYPOINT));
    }

    /// @dev Every listed selector is refused on any target, at creation and at use; isForbiddenCall says so.
    function test_everyForbiddenSelectorIsRefused() public {
        bytes4[] memory selectors = sessions.forbiddenSelectors();
        ISessionKeyValidator.SessionSpec memory allowed = baseSpec();
        addTransfer(allowed, recipient, 1, unlimited());
        create(allowed);
        for (uint256 i = 0; i < selectors.length; ++i) {
            bytes memory err =
                abi.encodeWithSelector(ISessionKeyValidator.ForbiddenSelector.selector, address(target), selectors[i]);
            ISessionKeyValidator.SessionSpec memory spec = baseSpec();
            addCall(spec, address(target), selectors[i], 0, unlimited());
            bytes memory specBytes = packed(spec);
            vm.prank(address(account));
            vm.expectRevert(err);
            sessions.createSession(specBytes);
            bytes memory data = abi.encodePacked(selectors[i], uint256(0));
            _refusedWith(sign(sessionOp(singleCall(address(target), 0, data)), allowed), err);
            vm.assertTrue(sessions.isForbiddenCall(address(account), address(target), data));
        }
        vm.assertFalse(
            sessions.isForbiddenCall(address(account), address(target), abi.encodePacked(bytes4(0x12345678)))
        );
        vm.assertFalse(sessions.isForbiddenCall(address(account), recipient, ""));
        vm.assertTrue(sessions.isForbiddenCall(address(account), recipient, hex"12"));
    }

    /// @dev Every listed target is refused, for calls and transfers, at creation and at use.
    function test_everyForbiddenTargetIsRefused() public {
        address[] memory targets = sessions.forbiddenTargets(address(account));
        ISessionKeyValidator.SessionSpec memory allowed = baseSpec();
        addTransfer(allowed, recipient, 1, unlimited());
        create(allowed);
        bytes memory data = abi.encodeCall(MockModule.whoCalled, ());
        for (uint256 i = 0; i < targets.length; ++i) {
            ISessionKeyValidator.SessionSpec memory spec = baseSpec();
            addCall(spec, targets[i], MockModule.whoCalled.selector, 0, unlimited());
            _expectCreateRevert(spec, targets[i]);
            spec = baseSpec();
            addTransfer(spec, targets[i], 1, unlimited());
            _expectCreateRevert(spec, targets[i]);
            _refused(sign(sessionOp(singleCall(targets[i], 0, data)), allowed), targets[i]);
            _refused(sign(sessionOp(singleCall(targets[i], 1, "")), allowed), targets[i]);
            vm.assertTrue(sessions.isForbiddenCall(address(account), targets[i], data));
            vm.assertTrue(sessions.isForbiddenCall(address(account), targets[i], ""));
        }
    }

    /// @dev isForbiddenCall follows the modules: installed ones (any type, fallback handlers for any selector)
    /// are forbidden, whatever the calldata; once uninstalled they are not.
    function test_isForbiddenCallFollowsTheModules() public {
        bytes memory other = abi.encodeCall(MockModule.onInstall, (""));
        address[3] memory modules = [address(executor), address(validatorModule), address(handler)];
        for (uint256 i = 0; i < modules.length; ++i) {
            vm.assertFalse(sessions.isForbiddenCall(address(account), modules[i], other));
            vm.assertFalse(sessions.isForbiddenCall(address(account), modules[i], ""));
        }
        vm.assertTrue(sessions.isForbiddenCall(address(account), address(validator), ""));
        _installAll();
        for (uint256 i = 0; i < modules.length; ++i) {
            vm.assertTrue(sessions.isForbiddenCall(address(account), modules[i], other));
            vm.assertTrue(sessions.isForbiddenCall(address(account), modules[i], ""));
        }
        handleOp(
            ownerOp(
                abi.encodeCall(
                    SsoAccount.uninstallModule, (3, address(handler), abi.encodePacked(MockModule.whoCalled.selector))
                )
            )
        );
        vm.assertFalse(sessions.isForbiddenCall(address(account), address(handler), other));
        vm.assertFalse(account.isModuleInstalled(3, address(handler), ""));
    }

    /// @dev Uninstalled then installed again: the version moved twice, the module is found again.
    function test_attack_reinstalledModule() public {
        _install(2, address(executor), "");
        handleOp(ownerOp(abi.encodeCall(SsoAccount.uninstallModule, (2, address(executor), ""))));
        create(_attackSpec());
        handleOp(_call(address(executor), 1, ""));
        _install(2, address(executor), "");
        _refused(_call(address(executor), 0, _drain()), address(executor));
    }
}
