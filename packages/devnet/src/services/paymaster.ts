/**
 * A chain's ERC-7677 paymaster service (docs/paymaster.md), served from this process on 127.0.0.1. Its sponsor
 * lives as long as the service: stopped and started again it keeps what its policy counted today.
 */
import { createSponsor, type Sponsor, type SponsorParameters, servePaymaster } from '../PaymasterService.js'
import { defineServerService, type ManagedService, serviceAddress } from '../Service.js'

export type PaymasterServiceParameters = SponsorParameters & {
  port: number
  /** `paymaster<suffix>` names the service (`-2` for the second chain). Default none. */
  suffix?: string
}

/**
 * The paymaster service on `http://127.0.0.1:<port>`, not started yet; `sponsor.signer` is what the
 * SponsorPaymaster's `setVerifyingSigner` must name.
 *
 * @example
 * const paymaster = paymasterService({ port: 3010, chainId: 31337, paymaster, signerKey, policy })
 * await paymaster.start()
 */
export function paymasterService(
  parameters: PaymasterServiceParameters,
): ManagedService & { sponsor: Sponsor } {
  const sponsor = createSponsor(parameters)
  const { name, url } = serviceAddress('paymaster', parameters)
  return {
    ...defineServerService({
      name,
      url,
      listen: () => servePaymaster(sponsor, parameters.port),
      // The CORS preflight every browser caller sends first.
      health: async () => (await fetch(url, { method: 'OPTIONS' })).status === 204,
      what: 'OPTIONS /',
    }),
    sponsor,
  }
}
