// How cairn configures gossipsub (core/net/node.ts registers it): our own
// nodes only, small meshes, message ids = CIDs, and peer scores that
// graylist a peer on its first invalid block or manifest. Anchor gossip is
// sparse (a block a second on the busiest test network), so scores only
// punish; no delivery quota is expected of anyone.

import { gossipsub, type GossipsubOpts } from '@libp2p/gossipsub'
import { messageId, type GossipTopics } from './gossip.ts'
import type { TopicScoreParams } from '@libp2p/gossipsub/score'

/**
 * mesh degree: every peer in a small swarm. Anchor messages are rare and
 * small, so a wide mesh costs little; a narrow one (D 4, Dhi 8) left leaf
 * peers of a hub pruned from every mesh, hearing blocks only through the
 * next heartbeat's IHAVE (10-node bench: p90 845 ms)
 */
export const GOSSIP_D = 6
/** below this many mesh peers, graft more (fewer are fine when fewer exist) */
export const GOSSIP_D_LO = 3
/** above this many, prune back to D */
export const GOSSIP_D_HI = 12
/**
 * one RPC frame at most (it-length-prefixed's default, said explicitly): an
 * IWANT answer carries several messages in one frame, so a frame may hold a
 * few full blocks; each message is bounded by the validator
 * (MAX_BLOCK_MESSAGE_BYTES), a larger frame breaks the stream unread
 */
export const MAX_RPC_FRAME_BYTES = 4 * 1024 * 1024
/** score below which we stop gossiping to a peer */
export const GOSSIP_THRESHOLD = -10
/** below which we do not publish to it */
export const PUBLISH_THRESHOLD = -50
/** below which every RPC from it is dropped unread */
export const GRAYLIST_THRESHOLD = -80
/**
 * P4, per invalid message, squared: one invalid message (−100) is already
 * below the graylist. An honest node never forwards one: it validates first.
 */
const INVALID_MESSAGE_WEIGHT = -100
/**
 * per decay interval (1 s): a counter of 1 decays below the graylist after
 * ~9 minutes (√0.8 = 0.894 = 0.9998^560), about the peer guard's 10-minute ban
 */
const INVALID_MESSAGE_DECAY = 0.9998
/** a disconnected peer's counters are kept this long, so reconnecting does not wash them */
const RETAIN_SCORE_MS = 10 * 60_000
/** the score given to a peer the guard has banned (its connections are closed too) */
const BANNED_SCORE = -1000

/** Per-topic scores: a little credit for time in the mesh and first deliveries, a heavy debit per invalid message. */
export const TOPIC_SCORE: TopicScoreParams = {
  topicWeight: 1,
  // P1: at most +1 after 100 s in the mesh
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 100,
  // P2: up to +5 for being the first to bring us something valid
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 5,
  // P3/P3b off: blocks are too sparse to expect a delivery rate from mesh peers
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 10,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: INVALID_MESSAGE_WEIGHT,
  invalidMessageDeliveriesDecay: INVALID_MESSAGE_DECAY
}

/** gossipsub's options for one anchor network. `banned` is the peer guard's verdict. */
export function gossipOptions (topics: GossipTopics, banned: (peer: string) => boolean = () => false): Partial<GossipsubOpts> {
  return {
    D: GOSSIP_D,
    Dlo: GOSSIP_D_LO,
    Dhi: GOSSIP_D_HI,
    Dout: 2,
    Dscore: 4,
    Dlazy: GOSSIP_D,
    // our own messages go to every subscribed peer at once (latency of the first hop)
    floodPublish: true,
    // a lone node (or one whose peers have not subscribed yet) publishes into nothing rather than throwing
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    // no floodsub, no peer exchange, no relaying topics we are not in: only cairn nodes on our topics
    fallbackToFloodsub: false,
    doPX: false,
    canRelayMessage: false,
    allowedTopics: [topics.blocks, topics.manifests],
    // the message id is the CID, so no author, sequence number or signature: the content signs itself
    globalSignaturePolicy: 'StrictNoSign',
    msgIdFn: msg => messageId(topics, msg.topic, msg.data),
    maxInboundDataLength: MAX_RPC_FRAME_BYTES,
    scoreParams: {
      topics: { [topics.blocks]: TOPIC_SCORE, [topics.manifests]: TOPIC_SCORE },
      topicScoreCap: 10,
      appSpecificScore: peer => banned(peer) ? BANNED_SCORE : 0,
      appSpecificWeight: 1,
      // the peer guard bounds connections per IP; test swarms and LANs share one address
      IPColocationFactorWeight: 0,
      IPColocationFactorThreshold: 10,
      behaviourPenaltyWeight: -10,
      behaviourPenaltyThreshold: 6,
      behaviourPenaltyDecay: 0.9,
      decayInterval: 1000,
      decayToZero: 0.01,
      retainScore: RETAIN_SCORE_MS
    },
    scoreThresholds: {
      gossipThreshold: GOSSIP_THRESHOLD,
      publishThreshold: PUBLISH_THRESHOLD,
      graylistThreshold: GRAYLIST_THRESHOLD,
      acceptPXThreshold: 100,
      opportunisticGraftThreshold: 1
    }
  }
}

/** The libp2p service factory. */
export function anchorGossipsub (topics: GossipTopics, banned?: (peer: string) => boolean): ReturnType<typeof gossipsub> {
  return gossipsub(gossipOptions(topics, banned))
}
