import { isStale, webApps } from './src/WebApps.ts'
console.log('demo stale', isStale(webApps.demo), 'auth stale', isStale(webApps.authServer))
