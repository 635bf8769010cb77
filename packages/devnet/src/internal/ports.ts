import * as net from 'node:net'
import { PortInUseError } from '../Errors.js'

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server))
  })
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

/** Throws PortInUseError naming the first of `ports` that can't be bound on 127.0.0.1. */
export async function assertPortsFree(ports: readonly { port: number; service: string }[]): Promise<void> {
  for (const { port, service } of ports) {
    let server: net.Server
    try {
      server = await listen(port)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(port, service)
      throw error
    }
    await close(server)
  }
}

/** `count` distinct free ports, chosen by the OS (all held open together so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => listen(0)))
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port)
  await Promise.all(servers.map(close))
  return ports
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
