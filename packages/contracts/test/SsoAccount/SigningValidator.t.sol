// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SessionKeyValidator} from "../../src/SessionKeyValidator.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {ISsoAccount} from "../../src/account/ISsoAccount.sol";
import {MockModule} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/// @dev A validator that says it is scoped when installed and not scoped afterwards.
contract FlippingScopedValidator is MockModule(1) {
    bool public scoped = true;

    function flip() external {
        scoped = !scoped;
    }

    function isScopedValidator() external view returns (bool) {
        return scoped;
    }
}

/// @dev The account never uninstalls its last validator that can sign: scoped validators (sessions) don't count.
contract SsoAccountSigningValidatorTest is SsoTest {
    Passkey internal key;
    SsoAccount internal account;
    SessionKeyValidator internal sessions;
    MockModule internal otherValidator;

    function setUp() public override {
        super.setUp();
        key = makePasskey("alice");
        account = createAccount(key);
        sessions = new SessionKeyValidator();
        otherValidator = new MockModule(1);
        vm.prank(address(account));
        account.installModule(1, address(sessions), "");
    }

    function credentialIds() internal view returns (bytes memory) {
        bytes[] memory ids = new bytes[](1);
        ids[0] = key.credentialId;
        return abi.encode(ids);
    }

    function test_sessionValidatorIsScoped() public view {
        vm.assertTrue(sessions.isScopedValidator());
        vm.assertEq(account.validatorCount(), 2);
        vm.assertEq(account.signingValidatorCount(), 1);
    }

    function test_uninstallLastSigningValidator_reverts() public {
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.LastSigningValidator.selector, address(validator)));
        account.uninstallModule(1, address(validator), credentialIds());
        vm.assertTrue(account.isModuleInstalled(1, address(validator), ""));
        vm.assertEq(account.validatorCount(), 2);
        vm.assertEq(account.signingValidatorCount(), 1);
    }

    /// @dev Through a userOp the passkey signed: the whole userOp reverts in execution, nothing changes.
    function test_uninstallLastSigningValidator_throughAUserOp() public {
        PackedUserOperation memory op = buildUserOp(
            address(account),
            address(validator),
            abi.encodeCall(SsoAccount.uninstallModule, (1, address(validator), credentialIds()))
        );
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
        handleOp(op);
        vm.assertTrue(account.isModuleInstalled(1, address(validator), ""));
        vm.assertEq(account.signingValidatorCount(), 1);
    }

    function test_scopedValidatorCanBeUninstalled() public {
        vm.prank(address(account));
        account.uninstallModule(1, address(sessions), "");
        vm.assertEq(account.validatorCount(), 1);
        vm.assertEq(account.signingValidatorCount(), 1);
    }

    function test_anotherSigningValidatorLetsThePasskeyGo() public {
        vm.startPrank(address(account));
        account.installModule(1, address(otherValidator), "");
        vm.assertEq(account.signingValidatorCount(), 2);
        account.uninstallModule(1, address(validator), credentialIds());
        vm.assertEq(account.signingValidatorCount(), 1);
        vm.assertEq(account.validatorCount(), 2);
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.LastSigningValidator.selector, address(otherValidator)));
        account.uninstallModule(1, address(otherValidator), "");
        vm.stopPrank();
    }

    /// @dev What a validator answers after its install can't change the count.
    function test_countIsDecidedAtInstall() public {
        FlippingScopedValidator flipping = new FlippingScopedValidator();
        vm.prank(address(account));
        account.installModule(1, address(flipping), "");
        vm.assertEq(account.signingValidatorCount(), 1);
        flipping.flip();
        vm.prank(address(account));
        account.uninstallModule(1, address(flipping), "");
        vm.assertEq(account.signingValidatorCount(), 1);
        vm.prank(address(account));
        vm.expectRevert(abi.encodeWithSelector(ISsoAccount.LastSigningValidator.selector, address(validator)));
        account.uninstallModule(1, address(validator), credentialIds());
    }

    /// @dev An account whose only validators would be scoped can't be created.
    function test_initialize_needsASigningValidator() public {
        uint256[] memory types = new uint256[](1);
        address[] memory modules = new address[](1);
        bytes[] memory data = new bytes[](1);
        (types[0], modules[0]) = (1, address(sessions));
        SsoAccount proxy = SsoAccount(payable(address(new Proxy(address(implementation)))));
        vm.expectRevert(ISsoAccount.NoValidator.selector);
        proxy.initialize(types, modules, data);
    }
}

/// @dev A minimal delegating proxy (the account's storage lives at the proxy).
contract Proxy {
    address private immutable _implementation;

    constructor(address implementation_) {
        _implementation = implementation_;
    }

    fallback() external payable {
        address target = _implementation;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
