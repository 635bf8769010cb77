// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {PaymasterSigner} from "@openzeppelin/contracts/account/paymaster/extensions/PaymasterSigner.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignerECDSA} from "@openzeppelin/contracts/utils/cryptography/signers/SignerECDSA.sol";

/// @title SponsorPaymaster
/// @notice ERC-4337 (EntryPoint v0.8) paymaster that pays for userOps.
/// @dev With `verifyingSigner == address(0)` it sponsors every userOp (devnet). Otherwise `paymasterData` must be
/// `validAfter (uint48) ‖ validUntil (uint48) ‖ ECDSA signature (65 bytes)` by the verifying signer over the
/// EIP-712 `UserOperationRequest` of OpenZeppelin {PaymasterSigner} (domain `SponsorPaymaster`, version `1`):
/// every userOp field except the paymaster data itself, plus the validity window.
contract SponsorPaymaster is PaymasterSigner, SignerECDSA, Ownable {
    /// @notice Emitted when the owner changed the verifying signer.
    /// @param previousSigner The previous signer (address(0): sponsor all).
    /// @param newSigner The new signer (address(0): sponsor all).
    event VerifyingSignerChanged(address indexed previousSigner, address indexed newSigner);

    /// @param owner_ The owner (withdraws the deposit, sets the signer, manages the stake).
    /// @param verifyingSigner_ The verifying signer, or address(0) to sponsor every userOp.
    constructor(address owner_, address verifyingSigner_)
        EIP712("SponsorPaymaster", "1")
        SignerECDSA(verifyingSigner_)
        Ownable(owner_)
    {
        emit VerifyingSignerChanged(address(0), verifyingSigner_);
    }

    /// @notice The ERC-4337 EntryPoint v0.8 this paymaster serves.
    function entryPoint() public pure override returns (IEntryPoint) {
        return ERC4337Utils.ENTRYPOINT_V08;
    }

    /// @notice The verifying signer (address(0): every userOp is sponsored).
    function verifyingSigner() external view returns (address) {
        return signer();
    }

    /// @notice The EIP-712 hash the verifying signer signs for `userOp` and the validity window.
    /// @param userOp The user operation (its paymasterData is ignored).
    /// @param validAfter Valid from (seconds; 0 = now).
    /// @param validUntil Valid until (seconds; 0 = forever).
    function getHash(PackedUserOperation calldata userOp, uint48 validAfter, uint48 validUntil)
        external
        view
        returns (bytes32)
    {
        return _signableUserOpHash(userOp, validAfter, validUntil);
    }

    /// @notice Deposits `msg.value` to this paymaster's EntryPoint balance. Anyone may fund it.
    function deposit() external payable {
        _deposit(msg.value);
    }

    /// @notice Withdraws `amount` of the EntryPoint deposit to `to`. Owner only.
    /// @param to The receiver.
    /// @param amount The amount (wei).
    function withdraw(address payable to, uint256 amount) external onlyOwner {
        _withdraw(to, amount);
    }

    /// @notice Sets the verifying signer; address(0) sponsors every userOp. Owner only.
    /// @param newSigner The new signer.
    function setVerifyingSigner(address newSigner) external onlyOwner {
        emit VerifyingSignerChanged(signer(), newSigner);
        _setSigner(newSigner);
    }

    /// @notice Adds `msg.value` to the EntryPoint stake. Owner only.
    /// @param unstakeDelaySec The unstake delay.
    function addStake(uint32 unstakeDelaySec) external payable onlyOwner {
        _addStake(msg.value, unstakeDelaySec);
    }

    /// @notice Starts the unstake delay. Owner only.
    function unlockStake() external onlyOwner {
        _unlockStake();
    }

    /// @notice Withdraws the unlocked stake to `to`. Owner only.
    /// @param to The receiver.
    function withdrawStake(address payable to) external onlyOwner {
        _withdrawStake(to);
    }

    /// @dev No signer: sponsor everything. Otherwise {PaymasterSigner} checks the signature and window.
    function _validatePaymasterUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash, uint256 maxCost)
        internal
        override
        returns (bytes memory context, uint256 validationData)
    {
        if (signer() == address(0)) return ("", ERC4337Utils.SIG_VALIDATION_SUCCESS);
        return super._validatePaymasterUserOp(userOp, userOpHash, maxCost);
    }
}
