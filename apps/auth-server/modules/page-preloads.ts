import { defineNuxtModule } from 'nuxt/kit'

/** The fields of Vite's client manifest (as Nuxt's `build:manifest` hook hands it) that this module reads. */
type ResourceMeta = { file: string; isEntry?: boolean; css?: string[]; imports?: string[] }
type Manifest = Record<string, ResourceMeta>

/**
 * The HTML of each page names the page's own code, so the browser fetches it while the app's entry runs.
 *
 * The auth server is a static SPA: every page's HTML names only the app's entry, and the page's chunks (the popup's
 * approval screen and the viem code under it, ~600 KB) were requested only once the entry had run and the router had
 * matched the route. This module adds `<link rel="modulepreload">` (and `preload` for its CSS) for a page's chunk
 * and the chunks it imports, into the prerendered HTML of that page's route (`pages/confirm.vue` -> `/confirm`).
 */
export default defineNuxtModule({
  meta: { name: 'sso-page-preloads' },
  setup(_options, nuxt) {
    const assets = `${nuxt.options.app.baseURL.replace(/\/$/, '')}${nuxt.options.app.buildAssetsDir}`
    let links = new Map<string, string>()

    nuxt.hook('build:manifest', (manifest) => {
      links = pageLinks(manifest, assets)
    })
    nuxt.hook('nitro:init', (nitro) => {
      nitro.hooks.hook('prerender:generate', (route) => {
        // `/` is written twice, the second time as `/index.html`.
        const tags = links.get(route.route === '/index.html' ? '/' : route.route)
        if (!tags || typeof route.contents !== 'string') return
        route.contents = route.contents.replace('</head>', `${tags}</head>`)
      })
    })
  },
})

/** Route path -> the preload tags of its page (`pages/<name>.vue`; `index` is `/`). */
export function pageLinks(manifest: Manifest, assets: string): Map<string, string> {
  const links = new Map<string, string>()
  for (const [key, meta] of Object.entries(manifest)) {
    const page = /^pages\/(.+)\.vue$/.exec(key)?.[1]
    if (!page || !meta.file) continue
    const route = page === 'index' ? '/' : `/${page.replace(/\/index$/, '')}`
    const scripts = new Set<string>()
    const styles = new Set<string>()
    collect(manifest, key, scripts, styles, new Set())
    links.set(
      route,
      [
        ...[...styles].map((file) => `<link rel="preload" as="style" crossorigin href="${assets}${file}">`),
        ...[...scripts].map(
          (file) => `<link rel="modulepreload" as="script" crossorigin href="${assets}${file}">`,
        ),
      ].join(''),
    )
  }
  return links
}

/** The files of `key` and of every chunk it imports statically, without the app's entry (the HTML names it). */
function collect(
  manifest: Manifest,
  key: string,
  scripts: Set<string>,
  styles: Set<string>,
  seen: Set<string>,
) {
  if (seen.has(key)) return
  seen.add(key)
  const meta: ResourceMeta | undefined = manifest[key]
  if (!meta || meta.isEntry) return
  if (meta.file.endsWith('.js')) scripts.add(meta.file)
  for (const css of meta.css ?? []) styles.add(css)
  for (const imported of meta.imports ?? []) collect(manifest, imported, scripts, styles, seen)
}
