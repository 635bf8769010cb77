// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SsoAccount} from "../../src/SsoAccount.sol";
import {WebAuthnValidator} from "../../src/WebAuthnValidator.sol";
import {MockModule} from "../mocks/Mocks.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {Test} from "../utils/Test.sol";

/// @notice Signs the proof of possession a passkey gives to join an account.
interface IProofSigner {
    function registrationProofOf(uint256 privateKey, bytes calldata credentialId, address account)
        external
        view
        returns (bytes memory);
}

/// @notice Drives random installs/uninstalls of validators and adds/removes of passkeys through the account, and
/// counts those that succeeded.
contract CountsHandler is Test {
    SsoAccount public account;
    WebAuthnValidator public webAuthn;
    MockModule[] public mocks;
    bytes[] public credentialIds;
    mapping(uint256 index => bool) public mockInstalled;
    mapping(bytes32 credentialIdHash => bool) public registered;
    bool public webAuthnInstalled = true;

    IProofSigner internal immutable _signer;
    // What succeeded.
    uint256 public installs;
    uint256 public uninstalls;
    uint256 public passkeysAdded;
    uint256 public passkeysRemoved;

    constructor(SsoAccount account_, WebAuthnValidator webAuthn_, bytes memory firstCredentialId) {
        _signer = IProofSigner(msg.sender);
        account = account_;
        webAuthn = webAuthn_;
        for (uint256 i = 0; i < 3; ++i) {
            mocks.push(new MockModule(1));
        }
        credentialIds.push(firstCredentialId);
        registered[keccak256(firstCredentialId)] = true;
    }

    function installMock(uint256 seed) external {
        uint256 i = seed % mocks.length;
        vm.prank(address(account));
        try account.installModule(1, address(mocks[i]), "") {
            mockInstalled[i] = true;
            ++installs;
        } catch {}
    }

    /// @dev Uninstalls an installed mock when there is one (starting the search at `seed`), else tries one anyway.
    function uninstallMock(uint256 seed) external {
        uint256 i = seed % mocks.length;
        for (uint256 k = 0; k < mocks.length && !mockInstalled[i]; ++k) {
            i = (i + 1) % mocks.length;
        }
        vm.prank(address(account));
        try account.uninstallModule(1, address(mocks[i]), "") {
            mockInstalled[i] = false;
            ++uninstalls;
        } catch {}
    }

    function addPasskey(uint256 seed) external {
        uint256 privateKey = bound(uint256(keccak256(abi.encode(seed % 8))), 1, P256_N - 1);
        (uint256 x, uint256 y) = vm.publicKeyP256(privateKey);
        bytes memory credentialId = abi.encodePacked(bytes16(keccak256(abi.encode("credential", seed % 8))));
        bytes memory proof = _signer.registrationProofOf(privateKey, credentialId, address(account));
        vm.prank(address(account));
        try webAuthn.addPasskey(credentialId, bytes32(x), bytes32(y), "localhost", "http://localhost:3002", proof) {
            credentialIds.push(credentialId);
            registered[keccak256(credentialId)] = true;
            ++passkeysAdded;
        } catch {}
    }

    /// @dev Removes a registered passkey when there is one (starting the search at `seed`), else tries one anyway.
    function removePasskey(uint256 seed) external {
        uint256 i = seed % credentialIds.length;
        for (uint256 k = 0; k < credentialIds.length && !registered[keccak256(credentialIds[i])]; ++k) {
            i = (i + 1) % credentialIds.length;
        }
        bytes memory id = credentialIds[i];
        vm.prank(address(account));
        try webAuthn.removePasskey(id) {
            registered[keccak256(id)] = false;
            ++passkeysRemoved;
        } catch {}
    }

    function installedValidators() external view returns (uint256 count) {
        if (webAuthnInstalled) ++count;
        for (uint256 i = 0; i < mocks.length; ++i) {
            if (mockInstalled[i]) ++count;
        }
    }

    function registeredPasskeys() external view returns (uint256 count) {
        for (uint256 i = 0; i < credentialIds.length; ++i) {
            bytes32 h = keccak256(credentialIds[i]);
            bool seen = false;
            for (uint256 j = 0; j < i; ++j) {
                if (keccak256(credentialIds[j]) == h) seen = true;
            }
            if (!seen && registered[h]) ++count;
        }
    }
}

/// @notice The account's validator count and the WebAuthnValidator's passkey count follow random installs,
/// uninstalls, additions and removals; every run must have done each at least once ({afterInvariant}).
/// forge-config: default.invariant.depth = 64
contract CountsInvariantTest is SsoTest, IProofSigner {
    CountsHandler internal handler;
    SsoAccount internal account;

    function setUp() public override {
        super.setUp();
        Passkey memory key = makePasskey("alice");
        account = createAccount(key);
        handler = new CountsHandler(account, validator, key.credentialId);
        targetContract(address(handler));
    }

    function registrationProofOf(uint256 privateKey, bytes calldata credentialId, address account_)
        external
        view
        returns (bytes memory)
    {
        (uint256 x, uint256 y) = vm.publicKeyP256(privateKey);
        Passkey memory key = Passkey(privateKey, credentialId, bytes32(x), bytes32(y), RP_ID, ORIGIN);
        return registrationProof(key, account_);
    }

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    address[] internal _targetedContracts;

    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    /// @dev A run in which every call reverted (or no install, uninstall, addition or removal succeeded) fails.
    function afterInvariant() public view {
        vm.assertGt(handler.installs(), 0, "no validator installed");
        vm.assertGt(handler.uninstalls(), 0, "no validator uninstalled");
        vm.assertGt(handler.passkeysAdded(), 0, "no passkey added");
        vm.assertGt(handler.passkeysRemoved(), 0, "no passkey removed");
    }

    function invariant_validatorCountMatchesInstalledValidators() public view {
        vm.assertEq(account.validatorCount(), handler.installedValidators());
        vm.assertGe(account.validatorCount(), 1);
    }

    function invariant_passkeyCountMatchesRegisteredKeys() public view {
        vm.assertEq(validator.passkeyCount(address(account)), handler.registeredPasskeys());
        vm.assertGe(validator.passkeyCount(address(account)), 1);
    }
}
