/**
 * Test helper for `*.chain.test.ts`: a real anvil (osaka) on a free 127.0.0.1 port with our contracts deployed
 * exactly as the devnet deploys them (the shared CREATE2 plan through the deterministic deployer anvil ships).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { deterministicDeployer, devnetOwner, entryPoint08 } from '@sso/contracts-abi'
import { ensureContractsBuilt, resolveDeployments } from '@sso/contracts-abi/artifacts'
import {
  type Address,
  concatHex,
  createTestClient,
  defineChain,
  http,
  publicActions,
  walletActions,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

/** Anvil account #0: deploys the contracts and sends the test's transactions. */
export const deployer = privateKeyToAccount(
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
)

function makeClient(port: number) {
  const chain = defineChain({
    id: 31337,
    name: 'anvil',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [`http://127.0.0.1:${port}`] } },
  })
  return createTestClient({ chain, mode: 'anvil', transport: http(), account: deployer })
    .extend(publicActions)
    .extend(walletActions)
}

export type AnvilClient = ReturnType<typeof makeClient>

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/**
 * Starts anvil and deploys every contract of the deployment plan. `contracts` maps contract names to addresses;
 * `stop` ends anvil.
 */
export async function startAnvilChain(): Promise<{
  client: AnvilClient
  contracts: Record<string, Address>
  stop: () => void
}> {
  await ensureContractsBuilt()
  const port = await freePort()
  const bin = createRequire(import.meta.url).resolve('@foundry-rs/anvil/bin.mjs')
  const anvil: ChildProcess = spawn(
    process.execPath,
    [bin, '--host', '127.0.0.1', '--port', String(port), '--hardfork', 'osaka', '--silent'],
    { stdio: 'ignore' },
  )
  const client = makeClient(port)
  for (let i = 0; ; i++) {
    try {
      await client.getChainId()
      break
    } catch (error) {
      if (i > 100) {
        anvil.kill()
        throw error
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const planned = resolveDeployments({ entryPoint: entryPoint08.address, owner: devnetOwner })
  for (const { salt, initCode } of planned) {
    await client.waitForTransactionReceipt({
      hash: await client.sendTransaction({
        to: deterministicDeployer.address,
        data: concatHex([salt, initCode]),
        chain: client.chain,
      }),
    })
  }
  const contracts = Object.fromEntries(planned.map((entry) => [entry.name, entry.address]))
  return { client, contracts, stop: () => anvil.kill() }
}
