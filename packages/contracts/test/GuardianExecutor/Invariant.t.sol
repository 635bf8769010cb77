// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {GuardianExecutor} from "../../src/GuardianExecutor.sol";
import {WebAuthnValidator} from "../../src/WebAuthnValidator.sol";
import {IGuardianExecutor} from "../../src/recovery/IGuardianExecutor.sol";
import {Test} from "../utils/Test.sol";
import {GuardianTest} from "./GuardianTest.sol";

// Tests drive time on purpose.
// forge-lint: disable-start(block-timestamp)

/// @notice What the handler needs from the test: the candidate proposals and their passkeys' credential ids.
interface IRecoveryProposals {
    /// @dev 0..2: valid proposals (1 revokes sessions, 2 removes the owner's passkey and candidate 0's); 3: a
    /// proposal whose proof was made for another account.
    function proposalOf(uint256 k) external view returns (IGuardianExecutor.RecoveryProposal memory);
    /// @dev 0..2: the candidates' credential ids; 3: the owner's.
    function credentialOf(uint256 k) external view returns (bytes memory);
}

/// @notice Drives one account's recovery configuration and recoveries through random sequences: guardians proposed,
/// accepted (call or signature), removed; thresholds and delays set; recoveries started, approved (calls,
/// signatures, wrong ids, wrong keys), cancelled, finalized, expired; passkeys removed by the owner; time jumps.
/// It keeps its own model of what each call must do, written from the rules (not from the contract's state), and
/// counts every call whose outcome differs from the model (`mismatches`) and every passkey added outside the model's
/// conditions (`violations`).
contract RecoveryHandler is Test {
    uint256 internal constant WINDOW = 7 days;
    uint256 internal constant DEFAULT_DELAY = 24 hours;

    GuardianExecutor internal immutable executor;
    WebAuthnValidator internal immutable webAuthn;
    IRecoveryProposals internal immutable proposals;
    address internal immutable account;
    address[4] internal guardians;
    uint256[4] internal keys;

    // ---- Model ----
    mapping(address guardian => bool) public proposed;
    mapping(address guardian => bool) public accepted;
    uint256 public acceptedCount;
    uint256 public threshold;
    uint256 public delay; // 0: default
    uint256 public nonce;
    // The pending recovery: proposal index + 1 (0: none), the nonce of its id, approvals, schedule.
    uint256 public pendingIndex;
    uint256 public pendingNonce;
    uint256 public approvals;
    uint256 public scheduledAt;
    uint256 public scheduledDelay;
    uint256 internal epoch;
    mapping(uint256 epoch => mapping(address guardian => bool)) internal approved;
    // Passkeys of the account: candidates 0..2 and the owner's (3).
    bool[4] public registered;

    // ---- Counters ----
    uint256 public calls;
    uint256 public successes;
    uint256 public finalized;
    uint256 public mismatches;
    uint256 public violations;

    constructor(
        GuardianExecutor executor_,
        WebAuthnValidator webAuthn_,
        IRecoveryProposals proposals_,
        address account_,
        uint256[4] memory keys_
    ) {
        executor = executor_;
        webAuthn = webAuthn_;
        proposals = proposals_;
        account = account_;
        keys = keys_;
        for (uint256 i = 0; i < 4; ++i) {
            guardians[i] = vm.addr(keys_[i]);
        }
        registered[3] = true;
    }

    // ------------------------------------------------------------------------------------------------------
    // Configuration by the account
    // ------------------------------------------------------------------------------------------------------

    function proposeGuardian(uint256 seed) external {
        address g = guardians[seed % 4];
        bool expected = !proposed[g];
        vm.prank(account);
        try executor.proposeGuardian(g) {
            proposed[g] = true;
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    function removeGuardian(uint256 seed) external {
        address g = guardians[seed % 4];
        uint256 remaining = accepted[g] ? acceptedCount - 1 : acceptedCount;
        bool expected = proposed[g] && !(accepted[g] && remaining != 0 && remaining < threshold);
        vm.prank(account);
        try executor.removeGuardian(g) {
            if (accepted[g]) {
                _cancelModel();
                accepted[g] = false;
                acceptedCount = remaining;
                if (remaining == 0) threshold = 0;
            }
            proposed[g] = false;
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    function setThreshold(uint256 seed) external {
        uint256 m = seed % 5;
        bool expected = m != 0 && m <= acceptedCount;
        vm.prank(account);
        try executor.setThreshold(m) {
            _cancelModel();
            threshold = m;
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    function setRecoveryDelay(uint256 seed) external {
        uint256[6] memory choices = [uint256(0), 1 hours, 6 hours, 24 hours, 3 days, 31 days];
        uint256 d = choices[seed % 6];
        bool expected = d >= 1 hours && d <= 30 days;
        vm.prank(account);
        try executor.setRecoveryDelay(d) {
            delay = d;
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    function cancelRecovery() external {
        bool expected = pendingIndex != 0;
        vm.prank(account);
        try executor.cancelRecovery() {
            _cancelModel();
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    /// @dev The owner removes one of the account's passkeys (so a candidate can be recovered again).
    function removePasskey(uint256 seed) external {
        uint256 k = seed % 4;
        bool expected = registered[k] && _registeredCount() > 1;
        bytes memory credentialId = proposals.credentialOf(k);
        vm.prank(account);
        try webAuthn.removePasskey(credentialId) {
            registered[k] = false;
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // Guardians
    // ------------------------------------------------------------------------------------------------------

    function acceptGuardian(uint256 seed, bool bySignature) external {
        uint256 i = seed % 4;
        address g = guardians[i];
        bool expected = proposed[g] && !accepted[g];
        bool ok;
        if (bySignature) {
            bytes memory signature = _sign(keys[i], executor.acceptanceDigest(account, g));
            try executor.acceptGuardianWithSignature(account, g, signature) {
                ok = true;
            } catch {}
        } else {
            vm.prank(g);
            try executor.acceptGuardian(account) {
                ok = true;
            } catch {}
        }
        if (ok) {
            accepted[g] = true;
            ++acceptedCount;
            if (threshold == 0) threshold = 1;
        }
        _outcome(expected, ok);
    }

    function startRecovery(uint256 guardianSeed, uint256 proposalSeed) external {
        address g = guardians[guardianSeed % 4];
        uint256 k = proposalSeed % 4;
        (bool canOpen, bool same) = _canOpen(k);
        bool expected = accepted[g] && canOpen && !(same && approved[epoch][g]);
        IGuardianExecutor.RecoveryProposal memory p = proposals.proposalOf(k);
        vm.prank(g);
        try executor.startRecovery(account, p) {
            if (!same) _openModel(k);
            _approveModel(g);
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    function approveRecovery(uint256 guardianSeed, bool wrongId) external {
        address g = guardians[guardianSeed % 4];
        bytes32 id = pendingIndex == 0 || wrongId ? keccak256(abi.encode(guardianSeed)) : _pendingId();
        bool expected = accepted[g] && pendingIndex != 0 && !wrongId && !approved[epoch][g] && !_expired();
        vm.prank(g);
        try executor.approveRecovery(account, id) {
            _approveModel(g);
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    function approveRecoveryWithSignatures(uint256 seed1, uint256 seed2, uint256 proposalSeed, bool two, bool wrongKey)
        external
    {
        uint256 k = proposalSeed % 4;
        uint256 i1 = seed1 % 4;
        uint256 i2 = seed2 % 4;
        bool matches = pendingIndex == k + 1;
        bytes32 id = matches ? _pendingId() : executor.recoveryId(account, nonce, proposals.proposalOf(k));
        bytes32 digest = executor.approvalDigest(id);
        IGuardianExecutor.GuardianSignature[] memory list = new IGuardianExecutor.GuardianSignature[](two ? 2 : 1);
        list[0] = IGuardianExecutor.GuardianSignature(guardians[i1], _sign(wrongKey ? keys[i2] : keys[i1], digest));
        if (two) list[1] = IGuardianExecutor.GuardianSignature(guardians[i2], _sign(keys[i2], digest));

        bool expected =
            accepted[guardians[i1]] && !(wrongKey && i1 != i2) && (!two || (accepted[guardians[i2]] && i1 != i2));
        if (matches) {
            expected =
                expected && !approved[epoch][guardians[i1]] && !(two && approved[epoch][guardians[i2]]) && !_expired();
        } else {
            (bool canOpen,) = _canOpen(k);
            expected = expected && canOpen;
        }
        try executor.approveRecoveryWithSignatures(account, proposals.proposalOf(k), list) {
            if (!matches) _openModel(k);
            _approveModel(guardians[i1]);
            if (two) _approveModel(guardians[i2]);
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // Anyone
    // ------------------------------------------------------------------------------------------------------

    function finalizeRecovery(uint256 proposalSeed) external {
        uint256 k = proposalSeed % 4;
        uint256 now_ = vm.getBlockTimestamp();
        // What the rules require, from the model alone: this proposal pending and not cancelled, approved by at
        // least `threshold` accepted guardians, its delay (as set when the threshold was reached) elapsed, and its
        // window not over.
        bool allowed = pendingIndex == k + 1 && threshold != 0 && approvals >= threshold && scheduledAt != 0
            && now_ >= scheduledAt + scheduledDelay && now_ < scheduledAt + scheduledDelay + WINDOW;
        bool expected = allowed && !registered[k];
        try executor.finalizeRecovery(account, proposals.proposalOf(k)) {
            if (!allowed) ++violations;
            registered[k] = true;
            if (k == 2) (registered[3], registered[0]) = (false, false);
            _clearPending();
            ++finalized;
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    function expireRecovery() external {
        bool expected = pendingIndex != 0 && _expired();
        try executor.expireRecovery(account) {
            _clearPending();
            _outcome(expected, true);
        } catch {
            _outcome(expected, false);
        }
    }

    /// @dev Mostly minutes to hours (inside delays), sometimes days (past delays and windows).
    function warp(uint256 seed) external {
        uint256 step = seed % 4 == 0 ? seed % 10 days : seed % 6 hours;
        vm.warp(vm.getBlockTimestamp() + step);
    }

    // ------------------------------------------------------------------------------------------------------
    // Model
    // ------------------------------------------------------------------------------------------------------

    function _outcome(bool expected, bool ok) internal {
        ++calls;
        if (ok) ++successes;
        if (ok != expected) ++mismatches;
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _pendingId() internal view returns (bytes32) {
        return executor.recoveryId(account, pendingNonce, proposals.proposalOf(pendingIndex - 1));
    }

    function _expired() internal view returns (bool) {
        return scheduledAt != 0 && vm.getBlockTimestamp() >= scheduledAt + scheduledDelay + WINDOW;
    }

    /// @dev Whether proposal `k` can become (`same`: already is) the pending recovery.
    function _canOpen(uint256 k) internal view returns (bool ok, bool same) {
        if (pendingIndex == k + 1 && scheduledAt == 0) return (true, true);
        if (pendingIndex != 0 && scheduledAt != 0 && !_expired()) return (false, false);
        return (k != 3, false);
    }

    function _openModel(uint256 k) internal {
        _clearPending();
        pendingIndex = k + 1;
        pendingNonce = nonce;
    }

    function _approveModel(address g) internal {
        approved[epoch][g] = true;
        ++approvals;
        if (scheduledAt == 0 && approvals >= threshold) {
            scheduledAt = vm.getBlockTimestamp();
            scheduledDelay = delay == 0 ? DEFAULT_DELAY : delay;
            ++nonce;
        }
    }

    function _cancelModel() internal {
        if (pendingIndex == 0) return;
        if (scheduledAt == 0) ++nonce;
        _clearPending();
    }

    function _clearPending() internal {
        (pendingIndex, pendingNonce, approvals, scheduledAt, scheduledDelay) = (0, 0, 0, 0, 0);
        ++epoch;
    }

    function _registeredCount() internal view returns (uint256 n) {
        for (uint256 i = 0; i < 4; ++i) {
            if (registered[i]) ++n;
        }
    }

    /// @dev The model's view of the pending recovery, for the invariants.
    function modelState() external view returns (uint256 status, uint256 approvals_, uint256 readyAt) {
        if (pendingIndex == 0) return (0, 0, 0);
        if (scheduledAt == 0) return (1, approvals, 0);
        readyAt = scheduledAt + scheduledDelay;
        uint256 now_ = vm.getBlockTimestamp();
        status = now_ < readyAt ? 2 : now_ < readyAt + WINDOW ? 3 : 4;
        approvals_ = approvals;
    }
}

/// @notice No sequence of calls adds a passkey to the account without `threshold` approvals of accepted guardians
/// and an elapsed, unexpired, uncancelled delay; the contract does exactly what the model says on every call; and a
/// run where every call reverted fails the suite.
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 64
contract GuardianExecutorInvariantTest is GuardianTest, IRecoveryProposals {
    RecoveryHandler internal handler;
    Passkey[3] internal candidates;
    bytes[4] internal proofs;

    function setUp() public override {
        super.setUp();
        candidates[0] = makePasskey("candidate 0");
        candidates[1] = makePasskey("candidate 1");
        candidates[2] = makePasskey("candidate 2");
        for (uint256 k = 0; k < 3; ++k) {
            proofs[k] = registrationProof(candidates[k], address(account));
        }
        // Proposal 3: candidate 0's key with a proof made for another account.
        proofs[3] = registrationProof(candidates[0], address(0xB0B));
        uint256[4] memory keys =
            [uint256(keccak256("g0")), uint256(keccak256("g1")), uint256(keccak256("g2")), uint256(keccak256("g3"))];
        handler = new RecoveryHandler(executor, validator, this, address(account), keys);
    }

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = RecoveryHandler.proposeGuardian.selector;
        selectors[1] = RecoveryHandler.removeGuardian.selector;
        selectors[2] = RecoveryHandler.setThreshold.selector;
        selectors[3] = RecoveryHandler.setRecoveryDelay.selector;
        selectors[4] = RecoveryHandler.cancelRecovery.selector;
        selectors[5] = RecoveryHandler.removePasskey.selector;
        selectors[6] = RecoveryHandler.acceptGuardian.selector;
        selectors[7] = RecoveryHandler.startRecovery.selector;
        selectors[8] = RecoveryHandler.approveRecovery.selector;
        selectors[9] = RecoveryHandler.approveRecoveryWithSignatures.selector;
        selectors[10] = RecoveryHandler.finalizeRecovery.selector;
        selectors[11] = RecoveryHandler.expireRecovery.selector;
        selectors[12] = RecoveryHandler.warp.selector;
        // Twice as likely: most sequences need several guardians.
        selectors[13] = RecoveryHandler.proposeGuardian.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function proposalOf(uint256 k) public view returns (IGuardianExecutor.RecoveryProposal memory p) {
        Passkey memory key = candidates[k == 3 ? 0 : k];
        p.credentialId = key.credentialId;
        p.x = key.x;
        p.y = key.y;
        p.rpId = key.rpId;
        p.origin = key.origin;
        p.proof = proofs[k];
        p.revokeSessions = k == 1;
        if (k == 2) {
            p.removedCredentialIds = new bytes[](2);
            p.removedCredentialIds[0] = owner.credentialId;
            p.removedCredentialIds[1] = candidates[0].credentialId;
        }
    }

    function credentialOf(uint256 k) external view returns (bytes memory) {
        return k == 3 ? owner.credentialId : candidates[k].credentialId;
    }

    /// @dev The handler's actions reach every state the invariants speak about, and the model agrees on each step:
    /// guardians, a 2-of-3 recovery started by a call and completed by a signature, its delay, its finalization; an
    /// early finalization and a replayed one refused.
    function test_handlerIsNotVacuous() public {
        for (uint256 i = 0; i < 3; ++i) {
            handler.proposeGuardian(i);
            handler.acceptGuardian(i, i == 1);
        }
        handler.setThreshold(2);
        handler.startRecovery(0, 0);
        handler.finalizeRecovery(0); // not scheduled
        handler.approveRecoveryWithSignatures(1, 1, 0, false, false);
        (uint256 status_,,) = handler.modelState();
        vm.assertEq(status_, 2, "delayed");
        handler.finalizeRecovery(0); // during the delay
        handler.warp(4 * 6 hours); // a multiple of 4: a long step of a day
        handler.finalizeRecovery(0);
        handler.finalizeRecovery(0); // nothing pending any more
        vm.assertEq(handler.finalized(), 1);
        vm.assertTrue(handler.registered(0));
        vm.assertEq(handler.mismatches(), 0);
        vm.assertEq(handler.violations(), 0);
        vm.assertEq(handler.successes(), 10);
        vm.assertEq(handler.calls(), 13);
        invariant_noPasskeyWithoutApprovalsAndDelay();
        invariant_contractMatchesTheModel();
    }

    /// @dev The guard of `afterInvariant`: a run in which nothing succeeded fails.
    function test_aRunWhereEveryCallRevertedFails() public {
        handler.finalizeRecovery(0);
        handler.cancelRecovery();
        vm.assertEq(handler.calls(), 2);
        vm.expectRevert(bytes("every call of the run reverted"));
        this.afterInvariant();
    }

    function invariant_noPasskeyWithoutApprovalsAndDelay() public view {
        vm.assertEq(handler.violations(), 0, "a passkey was added outside the rules");
        for (uint256 k = 0; k < 4; ++k) {
            bool onChain = validator.passkeyCommitment(address(account), this.credentialOf(k)) != 0;
            vm.assertEq(onChain, handler.registered(k), "passkeys differ from the model");
        }
    }

    function invariant_contractMatchesTheModel() public view {
        vm.assertEq(handler.mismatches(), 0, "a call did not do what the rules say");
        IGuardianExecutor.RecoveryState memory s = executor.recoveryState(address(account));
        (uint256 status_, uint256 approvals, uint256 readyAt) = handler.modelState();
        vm.assertEq(uint256(s.status), status_);
        vm.assertEq(s.approvals, approvals);
        vm.assertEq(s.readyAt, readyAt);
        vm.assertEq(executor.threshold(address(account)), handler.threshold());
        vm.assertEq(executor.recoveryNonce(address(account)), handler.nonce());
    }

    function invariant_thresholdWithinTheAcceptedGuardians() public view {
        uint256 threshold = executor.threshold(address(account));
        (, bool[] memory accepted) = executor.guardiansOf(address(account));
        uint256 count = 0;
        for (uint256 i = 0; i < accepted.length; ++i) {
            if (accepted[i]) ++count;
        }
        vm.assertLe(threshold, count);
        vm.assertEq(threshold == 0, count == 0);
    }

    /// @dev Runs after each invariant run: the run must have done something.
    function afterInvariant() public view {
        require(handler.successes() > 0, "every call of the run reverted");
    }
}
// forge-lint: disable-end(block-timestamp)
