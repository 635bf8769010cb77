import { expect, test } from 'vitest'
import { pageLinks } from './page-preloads'

// The shape of Vite's client manifest as Nuxt hands it to `build:manifest` (keys relative to the app's source).
const manifest = {
  'node_modules/nuxt/dist/app/entry.js': { file: 'entry.js', isEntry: true, css: ['entry.css'] },
  _viem: { file: 'viem.js', imports: ['node_modules/nuxt/dist/app/entry.js'] },
  _stores: {
    file: 'stores.js',
    imports: ['_viem', 'node_modules/nuxt/dist/app/entry.js'],
    css: ['stores.css'],
  },
  'pages/confirm.vue': {
    file: 'confirm.js',
    imports: ['node_modules/nuxt/dist/app/entry.js', '_stores', '_viem'],
    css: ['confirm.css'],
  },
  'pages/index.vue': { file: 'index.js', imports: ['node_modules/nuxt/dist/app/entry.js'] },
  'pages/guardian/index.vue': { file: 'guardian.js', imports: ['_stores'] },
  'components/Lazy.vue': { file: 'lazy.js', imports: ['_viem'] },
  'stores.css': { file: 'stores.css' },
}

test('behavior: a page preloads its chunk and every chunk it imports, its styles first, not the entry', () => {
  const links = pageLinks(manifest, '/_nuxt/')
  expect(links.get('/confirm')).toBe(
    '<link rel="preload" as="style" crossorigin href="/_nuxt/confirm.css">' +
      '<link rel="preload" as="style" crossorigin href="/_nuxt/stores.css">' +
      '<link rel="modulepreload" as="script" crossorigin href="/_nuxt/confirm.js">' +
      '<link rel="modulepreload" as="script" crossorigin href="/_nuxt/stores.js">' +
      '<link rel="modulepreload" as="script" crossorigin href="/_nuxt/viem.js">',
  )
  expect(links.get('/')).toBe('<link rel="modulepreload" as="script" crossorigin href="/_nuxt/index.js">')
  expect(links.get('/guardian')).toContain('href="/_nuxt/guardian.js"')
})

test('behavior: only pages get links; a component chunk is left to load on demand', () => {
  const links = pageLinks(manifest, '/base/_nuxt/')
  expect([...links.keys()].sort()).toEqual(['/', '/confirm', '/guardian'])
  expect([...links.values()].join('')).not.toContain('lazy.js')
  expect([...links.values()].join('')).not.toContain('entry.js')
  expect(links.get('/')).toBe(
    '<link rel="modulepreload" as="script" crossorigin href="/base/_nuxt/index.js">',
  )
})
