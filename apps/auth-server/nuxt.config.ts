// The auth server is a static SPA: the popup, sign-up / log-in and the dashboard all run in the browser and read
// the chain themselves. Configuration comes at run time from `/sso-config.json` (docs/interfaces.md).
export default defineNuxtConfig({
  compatibilityDate: '2025-07-15',
  ssr: false,
  telemetry: false,
  devtools: { enabled: false },
  modules: ['@pinia/nuxt', './modules/page-preloads'],
  app: {
    head: {
      title: 'SSO',
      htmlAttrs: { lang: 'en' },
      meta: [{ name: 'viewport', content: 'width=device-width, initial-scale=1' }],
      link: [{ rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
    },
  },
  css: ['~/assets/main.css'],
  typescript: {
    strict: true,
    tsConfig: {
      compilerOptions: {
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
      },
    },
  },
  vite: {
    // Workspace packages are TypeScript source; let Vite transform them like app code.
    optimizeDeps: { exclude: ['@sso/client', '@sso/contracts-abi'] },
  },
})
