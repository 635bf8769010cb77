/**
 * A web app of the stack (the demo, the auth server, the backup sign-in page): its static build served from this
 * process on 127.0.0.1, with the stack's `/sso-config.json`. Building it is WebApps.ts's part (ensureBuilt), done
 * before the service starts.
 */
import { defineServerService, type ManagedService } from '../Service.js'
import { startStaticServer } from '../StaticServer.js'
import { outputDir, type WebApp } from '../WebApps.js'

export type WebAppServiceParameters = {
  app: WebApp
  port: number
  /** What `/sso-config.json` answers. */
  config: unknown
}

/**
 * The app's static build on `http://localhost:<port>`, not started yet.
 *
 * @example
 * const demo = webAppService({ app: webApps.demo, port: 3001, config })
 * await demo.start()
 */
export function webAppService(parameters: WebAppServiceParameters): ManagedService {
  const { app, port, config } = parameters
  return defineServerService({
    name: app.name,
    // WebAuthn wants the `localhost` host name; the server binds 127.0.0.1.
    url: `http://localhost:${port}`,
    listen: () => startStaticServer({ root: outputDir(app), port, config }),
    health: async () => (await fetch(`http://127.0.0.1:${port}/`)).status === 200,
    what: 'GET /',
  })
}
