// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A module of any type that records its install/uninstall calls.
contract MockModule {
    uint256 public immutable moduleType;
    bool public revertOnUninstall;
    mapping(address account => bytes data) public installData;
    mapping(address account => bool) public installed;
    uint256 public validationResult;

    constructor(uint256 moduleType_) {
        moduleType = moduleType_;
    }

    function setValidationResult(uint256 result) external {
        validationResult = result;
    }

    function setRevertOnUninstall(bool value) external {
        revertOnUninstall = value;
    }

    function onInstall(bytes calldata data) external {
        installed[msg.sender] = true;
        installData[msg.sender] = data;
    }

    function onUninstall(bytes calldata) external {
        require(!revertOnUninstall, "uninstall blocked");
        installed[msg.sender] = false;
    }

    function isModuleType(uint256 typeId) external view returns (bool) {
        return typeId == moduleType;
    }

    function validateUserOp(PackedUserOperation calldata, bytes32) external view returns (uint256) {
        return validationResult;
    }

    function isValidSignatureWithSender(address, bytes32, bytes calldata signature) external pure returns (bytes4) {
        return keccak256(signature) == keccak256("ok") ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }

    /// @dev Executor: runs calls on `account`.
    function run(address account, bytes32 mode, bytes calldata executionCalldata) external {
        IERC7579Execution(account).executeFromExecutor(mode, executionCalldata);
    }

    /// @dev Fallback handler function: returns the ERC-2771 sender appended by the account.
    function whoCalled() external pure returns (address sender) {
        assembly {
            sender := shr(96, calldataload(sub(calldatasize(), 20)))
        }
    }
}

/// @notice A call target that records calls and can revert.
contract MockTarget {
    uint256 public counter;
    address public lastCaller;
    uint256 public lastValue;

    error Boom(uint256 code);

    function hit(uint256 add) external payable returns (uint256) {
        counter += add;
        lastCaller = msg.sender;
        lastValue = msg.value;
        return counter;
    }

    function boom() external payable {
        revert Boom(42);
    }
}

contract MockERC20 is ERC20 {
    constructor() ERC20("Mock", "MCK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @dev Redeclared so that `MockERC20.transfer.selector` resolves.
    function transfer(address to, uint256 value) public override returns (bool) {
        return super.transfer(to, value);
    }
}

/// @notice A validator with empty install hooks, like the SessionKeyValidator (for gas measurements).
contract MockInertValidator {
    function onInstall(bytes calldata) external {}

    function onUninstall(bytes calldata) external {}

    function isModuleType(uint256 typeId) external pure returns (bool) {
        return typeId == 1;
    }
}

/// @notice The least of an ERC-7579 account a validator talks to: `isModuleInstalled` from a table the test sets.
/// It has no `modulesVersion()` (calls to it revert).
contract MockMinimalAccount {
    mapping(uint256 moduleType => mapping(address module => bool)) public installedModules;

    function setInstalled(uint256 moduleType, address module, bool installed) external {
        installedModules[moduleType][module] = installed;
    }

    function isModuleInstalled(uint256 moduleType, address module, bytes calldata) external view returns (bool) {
        return installedModules[moduleType][module];
    }
}

/// @notice A minimal account with a `modulesVersion()` the test sets (it may lie: nothing bumps it on its own).
contract MockVersionedAccount is MockMinimalAccount {
    uint256 public modulesVersion;

    function setModulesVersion(uint256 version) external {
        modulesVersion = version;
    }
}

/// @notice A contract that says every module is installed on it (an attacker's junk "account"), and keeps whatever
/// passkey words anyone writes to it.
contract MockInstalledEverywhere {
    mapping(address validator => mapping(bytes4 credentialKey => uint256 entry)) public passkeyEntry;

    function isModuleInstalled(uint256, address, bytes calldata) external pure returns (bool) {
        return true;
    }

    function setPasskeyEntry(bytes4 credentialKey, uint256 entry) external {
        passkeyEntry[msg.sender][credentialKey] = entry;
    }
}

/// @notice An account that says every module is installed and accepts any call without doing anything (a permissive
/// fallback): it does not keep passkeys.
contract MockPermissiveAccount {
    function isModuleInstalled(uint256, address, bytes calldata) external pure returns (bool) {
        return true;
    }

    fallback() external payable {}
}

/// @notice A validator that says it keeps its passkeys in the account with the given rules, bound to its
/// installation or not.
contract MockPasskeyStoreValidator {
    bool private immutable _installBound;
    bytes32 private immutable _rules;

    constructor(bool installBound, bytes32 rules) {
        _installBound = installBound;
        _rules = rules;
    }

    function passkeyRules() external view returns (bytes32) {
        return _rules;
    }

    function isInstallBound() external view returns (bool) {
        return _installBound;
    }

    function isModuleType(uint256 typeId) external pure returns (bool) {
        return typeId == 1;
    }

    function onInstall(bytes calldata) external {}

    function onUninstall(bytes calldata) external {}
}
