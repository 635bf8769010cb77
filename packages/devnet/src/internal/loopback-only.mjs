// Preloaded into Alto (`node --import`): Alto 0.0.20 hard-codes `host: "0.0.0.0"` for its RPC server, and
// the devnet must listen on the loopback interface only. Rewrites wildcard hosts of every listen() to 127.0.0.1.
import net from 'node:net'

const wildcard = new Set([undefined, '', '0.0.0.0', '::'])
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [first] = args
  if (
    first &&
    typeof first === 'object' &&
    !Array.isArray(first) &&
    'port' in first &&
    wildcard.has(first.host)
  ) {
    args[0] = { ...first, host: '127.0.0.1' }
  } else if (
    typeof first === 'number' &&
    (args.length === 1 || typeof args[1] === 'function' || wildcard.has(args[1]))
  ) {
    args.splice(1, typeof args[1] === 'function' || args.length === 1 ? 0 : 1, '127.0.0.1')
  }
  return listen.apply(this, args)
}
