import type { AbiParameter, Address } from 'viem'

/** What a constructor may depend on when the deployment plan is resolved. */
export type DeploymentContext = {
  /** The ERC-4337 EntryPoint v0.8. */
  entryPoint: Address
  /** Owner of ownable contracts (the SponsorPaymaster, the AccountFactory). On the devnets: anvil account #0. */
  owner: Address
  /** Address of another of our contracts (by contract name), resolved first. Throws when it is not deployable. */
  address: (contractName: string) => Address
  /** Whether packages/contracts/src has this concrete contract (for optional dependencies). */
  has: (contractName: string) => boolean
  /** The constructor's parameters as compiled (lets an entry follow a constructor while it is being changed). */
  inputs: readonly AbiParameter[]
}

/** How one of our contracts is deployed: its constructor arguments. The salt is `deploymentSalt(name)`. */
export type PlannedContract = {
  /** Contract name as in packages/contracts/src (and forge's out/<File>.sol/<Name>.json). */
  name: string
  /** Constructor arguments, in order (see packages/contracts/README.md). */
  args: (context: DeploymentContext) => readonly unknown[]
  /**
   * Deployed on the devnets only (the demo token): `pnpm deploy:contracts` leaves it out on a real chain
   * (docs/deploy.md, "Contracts").
   */
  devnetOnly?: boolean
}

/** Modules every new account gets besides its first passkey's WebAuthnValidator: [ERC-7579 type, contract]. */
const extraModules: readonly (readonly [bigint, string])[] = [
  [1n, 'SessionKeyValidator'],
  [2n, 'GuardianExecutor'],
]

function defaultModules(has: (name: string) => boolean, modules: readonly (readonly [bigint, string])[]) {
  return modules.filter(([, name]) => has(name))
}

/** Anvil account #0, the owner of ownable contracts on the devnets. */
export const devnetOwner: Address = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

/**
 * The constructor arguments of our contracts that take any. A concrete contract of packages/contracts/src that
 * is not listed here is deployed with no arguments; if its constructor needs some, generation fails and names it.
 * Dependencies between contracts are resolved through `context.address`, so order does not matter here.
 */
export const deploymentPlan: readonly PlannedContract[] = [
  {
    name: 'SsoAccount',
    // (presetModuleTypeIds, presetModuleAddresses): modules whose "installed" flag lives in the account's first
    // slot. Older builds of the implementation take no arguments.
    args: ({ address, has, inputs }) => {
      if (inputs.length === 0) return []
      const presets = defaultModules(has, [[1n, 'WebAuthnValidator'], ...extraModules])
      return [presets.map(([typeId]) => typeId), presets.map(([, name]) => address(name))]
    },
  },
  {
    name: 'AccountFactory',
    // (owner, implementation, webAuthnValidator, defaultModuleTypeIds, defaultModuleAddresses): every new account
    // gets the SessionKeyValidator (type 1) and the GuardianExecutor (type 2) besides its first passkey. The owner
    // manages the factory's EntryPoint stake (ERC-7562, docs/erc7562.md); older builds take no owner.
    args: ({ address, has, inputs, owner }) => {
      const defaults = defaultModules(has, extraModules)
      const args = [
        address('SsoAccount'),
        address('WebAuthnValidator'),
        defaults.map(([typeId]) => typeId),
        defaults.map(([, name]) => address(name)),
      ]
      return inputs.length === args.length + 1 ? [owner, ...args] : args
    },
  },
  {
    name: 'GuardianExecutor',
    // (webAuthnValidator, sessionKeyValidator): the validator a recovery adds its passkey to, and the one whose
    // sessions it may revoke. Fixed here so that guardians can never make an account call anything else.
    args: ({ address }) => [address('WebAuthnValidator'), address('SessionKeyValidator')],
  },
  {
    name: 'SponsorPaymaster',
    // (owner, verifyingSigner): address(0) as signer sponsors every userOp, which is what a devnet wants.
    args: ({ owner }) => [owner, '0x0000000000000000000000000000000000000000'],
  },
  {
    name: 'DemoToken',
    // The devnet's demo ERC-20 (Demo Dollar, DUSD, 6 decimals), a faucet anyone mints from.
    args: () => [],
    devnetOnly: true,
  },
]

/** Whether `contractName` is deployed on the devnets only ({@link PlannedContract.devnetOnly}). */
export function isDevnetOnly(contractName: string): boolean {
  return deploymentPlan.some((entry) => entry.name === contractName && entry.devnetOnly === true)
}
