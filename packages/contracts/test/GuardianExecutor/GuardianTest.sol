// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccountFactory} from "../../src/AccountFactory.sol";
import {GuardianExecutor} from "../../src/GuardianExecutor.sol";
import {SessionKeyValidator} from "../../src/SessionKeyValidator.sol";
import {SsoAccount} from "../../src/SsoAccount.sol";
import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {SsoTest} from "../utils/SsoTest.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

// Tests drive time on purpose.
// forge-lint: disable-start(block-timestamp)

/// @notice Shared base for the GuardianExecutor tests: accounts as deployed (the WebAuthnValidator, the
/// SessionKeyValidator and the GuardianExecutor as presets and default modules), EOA guardians with their keys,
/// an SSO account as a guardian, and recovery proposals with real proofs of possession.
abstract contract GuardianTest is SsoTest {
    GuardianExecutor internal executor;
    SessionKeyValidator internal sessions;
    Passkey internal owner;
    SsoAccount internal account;

    // EOA guardians.
    address internal alice;
    uint256 internal aliceKey;
    address internal bob;
    uint256 internal bobKey;
    address internal carol;
    uint256 internal carolKey;

    // The passkey a recovery adds (on the user's new device).
    Passkey internal newKey;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string internal constant APPROVE_RECOVERY_TYPE =
        "ApproveRecovery(address account,uint256 nonce,bytes credentialId,bytes32 x,bytes32 y,string rpId,string origin,bytes proof,bytes[] removedCredentialIds,bool revokeSessions)";
    string internal constant ACCEPT_GUARDIAN_TYPE = "AcceptGuardian(address account,address guardian,uint256 proposal)";

    function setUp() public virtual override {
        super.setUp();
        vm.warp(1_700_000_000);
        sessions = new SessionKeyValidator();
        executor = new GuardianExecutor(validator, sessions);
        uint256[] memory types = new uint256[](3);
        address[] memory modules = new address[](3);
        (types[0], modules[0]) = (1, address(validator));
        (types[1], modules[1]) = (1, address(sessions));
        (types[2], modules[2]) = (2, address(executor));
        implementation = new SsoAccount(types, modules);
        uint256[] memory defaultTypes = new uint256[](2);
        address[] memory defaults = new address[](2);
        (defaultTypes[0], defaults[0]) = (1, address(sessions));
        (defaultTypes[1], defaults[1]) = (2, address(executor));
        factory = new AccountFactory(address(this), address(implementation), address(validator), defaultTypes, defaults);
        vm.label(address(sessions), "SessionKeyValidator");
        vm.label(address(executor), "GuardianExecutor");

        owner = makePasskey("owner");
        account = createAccount(owner);
        (alice, aliceKey) = makeAddrAndKey("alice");
        (bob, bobKey) = makeAddrAndKey("bob");
        (carol, carolKey) = makeAddrAndKey("carol");
        newKey = makePasskey("new device");
    }

    // --------------------------------------------------------------------------------------------------------
    // Guardians
    // --------------------------------------------------------------------------------------------------------

    function propose(address guardian) internal {
        vm.prank(address(account));
        executor.proposeGuardian(guardian);
    }

    function accept(address guardian) internal {
        vm.prank(guardian);
        executor.acceptGuardian(address(account));
    }

    function addGuardian(address guardian) internal {
        propose(guardian);
        accept(guardian);
    }

    function setThreshold(uint256 threshold) internal {
        vm.prank(address(account));
        executor.setThreshold(threshold);
    }

    /// @dev alice, bob and carol accepted, threshold `threshold`.
    function threeGuardians(uint256 threshold) internal {
        addGuardian(alice);
        addGuardian(bob);
        addGuardian(carol);
        setThreshold(threshold);
    }

    // --------------------------------------------------------------------------------------------------------
    // Proposals
    // --------------------------------------------------------------------------------------------------------

    /// @dev A proposal adding `key` to the account with its proof, no removal, sessions kept.
    function proposalFor(Passkey memory key) internal view returns (IGuardianExecutor.RecoveryProposal memory p) {
        p.credentialId = key.credentialId;
        p.x = key.x;
        p.y = key.y;
        p.rpId = key.rpId;
        p.origin = key.origin;
        p.proof = registrationProof(key, address(account));
    }

    function defaultProposal() internal view returns (IGuardianExecutor.RecoveryProposal memory) {
        return proposalFor(newKey);
    }

    function start(address guardian, IGuardianExecutor.RecoveryProposal memory p) internal returns (bytes32 id) {
        vm.prank(guardian);
        id = executor.startRecovery(address(account), p);
    }

    function approve(address guardian, bytes32 id) internal {
        vm.prank(guardian);
        executor.approveRecovery(address(account), id);
    }

    function finalize(IGuardianExecutor.RecoveryProposal memory p) internal {
        executor.finalizeRecovery(address(account), p);
    }

    /// @dev The recovery id computed here from the EIP-712 text (not with the contract's helper).
    function idOf(IGuardianExecutor.RecoveryProposal memory p, uint256 nonce) internal view returns (bytes32) {
        bytes32[] memory removed = new bytes32[](p.removedCredentialIds.length);
        for (uint256 i = 0; i < removed.length; ++i) {
            removed[i] = keccak256(p.removedCredentialIds[i]);
        }
        return keccak256(
            abi.encode(
                keccak256(bytes(APPROVE_RECOVERY_TYPE)),
                address(account),
                nonce,
                keccak256(p.credentialId),
                p.x,
                p.y,
                keccak256(bytes(p.rpId)),
                keccak256(bytes(p.origin)),
                keccak256(p.proof),
                keccak256(abi.encodePacked(removed)),
                p.revokeSessions
            )
        );
    }

    function status() internal view returns (IGuardianExecutor.RecoveryStatus) {
        return executor.recoveryState(address(account)).status;
    }

    // --------------------------------------------------------------------------------------------------------
    // Signatures
    // --------------------------------------------------------------------------------------------------------

    function domainSeparator() internal view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("GuardianExecutor"), keccak256("1"), block.chainid, address(executor))
        );
    }

    function typedDigest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    function ecdsa(uint256 privateKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, digest);
        return abi.encodePacked(r, s, v);
    }

    function approvalSignature(uint256 privateKey, bytes32 id) internal view returns (bytes memory) {
        return ecdsa(privateKey, typedDigest(id));
    }

    function acceptanceStruct(address guardian, uint256 proposal) internal view returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(ACCEPT_GUARDIAN_TYPE)), address(account), guardian, proposal));
    }

    function guardianSignatures(address guardian, bytes memory signature)
        internal
        pure
        returns (IGuardianExecutor.GuardianSignature[] memory list)
    {
        list = new IGuardianExecutor.GuardianSignature[](1);
        list[0] = IGuardianExecutor.GuardianSignature(guardian, signature);
    }

    /// @dev An SSO account's ERC-1271 signature of this contract's typed data `structHash` of type `contentsType`:
    /// ERC-7739 `TypedDataSign` nested in the executor's domain, signed by `key`.
    function ssoTypedSignature(
        SsoAccount signer,
        Passkey memory key,
        bytes32 structHash,
        string memory contentsType,
        string memory contentsName
    ) internal view returns (bytes memory) {
        bytes32 typehash = keccak256(
            abi.encodePacked(
                "TypedDataSign(",
                contentsName,
                " contents,string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)",
                contentsType
            )
        );
        bytes32 nested = keccak256(
            abi.encode(
                typehash,
                structHash,
                keccak256("SsoAccount"),
                keccak256("1"),
                block.chainid,
                address(signer),
                bytes32(0)
            )
        );
        bytes32 finalHash = keccak256(abi.encodePacked(hex"1901", domainSeparator(), nested));
        return abi.encodePacked(
            address(validator),
            signWebAuthn(key, finalHash),
            domainSeparator(),
            structHash,
            contentsType,
            uint16(bytes(contentsType).length)
        );
    }

    // --------------------------------------------------------------------------------------------------------
    // userOps
    // --------------------------------------------------------------------------------------------------------

    /// @dev A userOp of `sender` signed by its passkey `key`.
    function passkeyOp(SsoAccount sender, Passkey memory key, bytes memory callData)
        internal
        view
        returns (PackedUserOperation memory op)
    {
        op = buildUserOp(address(sender), address(validator), callData);
        op.signature = signWebAuthn(key, ENTRYPOINT.getUserOpHash(op));
    }

    /// @dev A userOp of the account signed by its owner's passkey.
    function ownerOp(bytes memory callData) internal view returns (PackedUserOperation memory) {
        return passkeyOp(account, owner, callData);
    }
}
// forge-lint: disable-end(block-timestamp)
