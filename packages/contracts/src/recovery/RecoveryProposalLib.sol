// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {WebAuthnValidator} from "../WebAuthnValidator.sol";
import {ISessionKeyValidator} from "../session/ISessionKeyValidator.sol";
import {IGuardianExecutor} from "./IGuardianExecutor.sol";
import {
    Execution,
    IERC7579ModuleConfig,
    MODULE_TYPE_VALIDATOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/// @title RecoveryProposalLib
/// @notice A {IGuardianExecutor-RecoveryProposal} of the GuardianExecutor: its id ({id}, the EIP-712 struct hash
/// guardians approve), the check of its content when it opens ({check}: proof of possession of the new passkey,
/// removals) and the calls finalization makes the account execute ({calls}) (see docs/recovery.md).
library RecoveryProposalLib {
    /// @dev The EIP-712 type of a recovery approval; its struct hash is the recovery id.
    bytes32 internal constant APPROVE_RECOVERY_TYPEHASH = keccak256(
        "ApproveRecovery(address account,uint256 nonce,bytes credentialId,bytes32 x,bytes32 y,string rpId,string origin,bytes proof,bytes[] removedCredentialIds,bool revokeSessions)"
    );

    /// @dev The most passkeys one recovery can remove.
    uint256 internal constant MAX_REMOVED_PASSKEYS = 16;

    /// @dev The recovery id of `proposal` for `account` at recovery nonce `nonce`.
    function id(address account, uint256 nonce, IGuardianExecutor.RecoveryProposal calldata proposal)
        internal
        pure
        returns (bytes32)
    {
        uint256 removals = proposal.removedCredentialIds.length;
        bytes32[] memory removedHashes = new bytes32[](removals);
        for (uint256 i = 0; i < removals; ++i) {
            removedHashes[i] = keccak256(proposal.removedCredentialIds[i]);
        }
        return keccak256(
            abi.encode(
                APPROVE_RECOVERY_TYPEHASH,
                account,
                nonce,
                keccak256(proposal.credentialId),
                proposal.x,
                proposal.y,
                keccak256(bytes(proposal.rpId)),
                keccak256(bytes(proposal.origin)),
                keccak256(proposal.proof),
                keccak256(abi.encodePacked(removedHashes)),
                proposal.revokeSessions
            )
        );
    }

    /// @dev Refuses what could never be finalized for its own content: a bad proof, too many removals, or removing
    /// the new passkey. (Finalization applies the WebAuthnValidator's rules again.)
    function check(
        WebAuthnValidator webAuthnValidator,
        address account,
        IGuardianExecutor.RecoveryProposal calldata proposal
    ) internal view {
        uint256 removals = proposal.removedCredentialIds.length;
        if (removals > MAX_REMOVED_PASSKEYS) {
            revert IGuardianExecutor.TooManyRemovedPasskeys(removals, MAX_REMOVED_PASSKEYS);
        }
        bytes32 credentialIdHash = keccak256(proposal.credentialId);
        for (uint256 i = 0; i < removals; ++i) {
            if (keccak256(proposal.removedCredentialIds[i]) == credentialIdHash) {
                revert IGuardianExecutor.RemovesNewPasskey(proposal.credentialId);
            }
        }
        if (!_isValidProof(webAuthnValidator, account, proposal, credentialIdHash)) {
            revert IGuardianExecutor.InvalidPasskeyProof(account, proposal.credentialId);
        }
    }

    /// @dev Whether the proposal's proof is an assertion by its passkey over the account's registration challenge
    /// for that credential (at its current registration nonce).
    function _isValidProof(
        WebAuthnValidator webAuthnValidator,
        address account,
        IGuardianExecutor.RecoveryProposal calldata proposal,
        bytes32 credentialIdHash
    ) private view returns (bool) {
        bytes calldata proof = proposal.proof;
        // The signature names its credential by its 4-byte key: the first 4 bytes of the credential id hash.
        if (proof.length < 4 || bytes4(proof[0:4]) != bytes4(credentialIdHash)) return false;
        bytes32 challenge = webAuthnValidator.registrationChallenge(account, proposal.credentialId);
        return webAuthnValidator.verifyWithKey(proposal.x, proposal.y, proposal.rpId, proposal.origin, challenge, proof);
    }

    /// @dev The calls finalization makes the account execute: add the passkey, remove the listed ones it still has,
    /// revoke every session when chosen (and the SessionKeyValidator is installed; uninstalling it revoked them).
    function calls(
        WebAuthnValidator webAuthnValidator,
        ISessionKeyValidator sessionKeyValidator,
        address account,
        IGuardianExecutor.RecoveryProposal calldata proposal
    ) internal view returns (Execution[] memory executions) {
        uint256 removals = proposal.removedCredentialIds.length;
        executions = new Execution[](removals + 2);
        executions[0] = Execution(
            address(webAuthnValidator),
            0,
            abi.encodeCall(
                WebAuthnValidator.addPasskey,
                (proposal.credentialId, proposal.x, proposal.y, proposal.rpId, proposal.origin, proposal.proof)
            )
        );
        uint256 n = 1;
        for (uint256 i = 0; i < removals; ++i) {
            bytes calldata credentialId = proposal.removedCredentialIds[i];
            if (webAuthnValidator.passkeyCommitment(account, credentialId) == 0) continue;
            executions[n++] = Execution(
                address(webAuthnValidator), 0, abi.encodeCall(WebAuthnValidator.removePasskey, (credentialId))
            );
        }
        if (
            proposal.revokeSessions
                && IERC7579ModuleConfig(account)
                    .isModuleInstalled(MODULE_TYPE_VALIDATOR, address(sessionKeyValidator), "")
        ) {
            executions[n++] = Execution(
                address(sessionKeyValidator), 0, abi.encodeCall(ISessionKeyValidator.revokeAllSessions, ())
            );
        }
        assembly ("memory-safe") {
            mstore(executions, n)
        }
    }
}
