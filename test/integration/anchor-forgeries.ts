// The forged gossip blocks hostile-miner.ts can send, shared with the test
// that judges them (hostile-miner.ts itself starts nodes when loaded).

/** Each forgery breaks one rule and the rule it should be rejected under ('Decode': not a block envelope). */
export const FORGERIES: Record<string, string> = {
  'bad-pow': 'BadProofOfWork',
  'wrong-target': 'BadTarget',
  'bad-height': 'BadHeight',
  'time-too-old': 'TimeTooOld',
  'wrong-network': 'WrongNetwork',
  'bad-signature': 'BadSignature',
  'oversize-body': 'BodyTooLarge',
  'body-mismatch': 'BodyMismatch',
  garbage: 'Decode',
  'oversize-message': 'Decode'
}
