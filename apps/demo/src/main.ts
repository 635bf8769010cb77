import { createApp } from 'vue'
import App from './App.vue'
import { loadConfig } from './config'
import './style.css'

// Load `/sso-config.json` before mounting: the provider is created once, with the final configuration, so that
// clicks can open the popup synchronously.
loadConfig()
  .then(({ config, source }) => createApp(App, { config, source }).mount('#app'))
  .catch((error: unknown) => {
    const root = document.getElementById('app')
    if (root) root.innerHTML = `<p class="error" data-testid="error"></p>`
    const node = document.querySelector('[data-testid="error"]')
    if (node) node.textContent = String(error)
  })
