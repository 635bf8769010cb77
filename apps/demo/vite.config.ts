import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [vue()],
  server: { host: '127.0.0.1', port: 3001, strictPort: true },
  preview: { host: '127.0.0.1', port: 3001, strictPort: true },
  build: { outDir: 'dist', target: 'es2022' },
})
