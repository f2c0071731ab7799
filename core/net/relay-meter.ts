// Relayed bytes against the upload cap. Our relay service (circuit relay v2)
// forwards other peers' bytes between two streams inside libp2p, past the
// rate limiter every block we serve goes through. This service finds the
// relay's hop handler once libp2p has started and wraps it: every byte that
// arrives on a hop stream (forwarded to the destination) and every byte sent
// back on it (forwarded from the destination) is charged to the upload
// limiter. The relay's own pipe cannot be held back from outside, so the
// charge is a debt: our own serving waits it off, and the total stays
// within the cap on average. The relay's per-connection data and duration
// limits (nat.relayDataLimit, nat.relayDurationLimit) bound each burst.

import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { CairnError } from '../util/errors.ts'
import type { RateLimiter } from '../util/rate.ts'
import type { Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

/** The relay service's hop handler was not where libp2p keeps handlers: the relay would run uncounted. */
export class RelayMeterError extends CairnError {}

export interface RelayMeterStats { bytes: number, connections: number }

/** Charges `upload` for everything this stream carries, both ways. */
export function meterStream (stream: Stream, charge: (bytes: number) => void): void {
  stream.addEventListener('message', (evt) => { charge(evt.data.byteLength) })
  const send = stream.send.bind(stream)
  stream.send = (data) => {
    charge(data.byteLength)
    return send(data)
  }
}

export class RelayMeter {
  readonly stats: RelayMeterStats = { bytes: 0, connections: 0 }

  constructor (private readonly components: { registrar: Registrar }, private readonly upload: RateLimiter) {}

  async start (): Promise<void> {}

  /** after every service started: the relay server registered its hop handler in its own start() */
  async afterStart (): Promise<void> {
    const registrar = this.components.registrar
    let record
    try {
      record = registrar.getHandler(RELAY_V2_HOP_CODEC)
    } catch {
      throw new RelayMeterError('the relay service has no hop handler to count relayed bytes on')
    }
    const { handler, options } = record
    await registrar.unhandle(RELAY_V2_HOP_CODEC)
    await registrar.handle(RELAY_V2_HOP_CODEC, (stream, connection) => {
      this.stats.connections++
      meterStream(stream, bytes => {
        this.stats.bytes += bytes
        this.upload.charge(bytes)
      })
      return handler(stream, connection)
    }, options)
  }

  async stop (): Promise<void> {}
}
