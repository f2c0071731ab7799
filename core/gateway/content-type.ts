// A file's Content-Type: from its name's extension, else from its first
// bytes (a few magic numbers, then text or binary), as Kubo does. Served
// with `X-Content-Type-Options: nosniff`, so the browser takes our word.

const BY_EXTENSION: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  ogv: 'video/ogg',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  car: 'application/vnd.ipld.car'
}

export function typeFromName (name: string): string | null {
  const dot = name.lastIndexOf('.')
  if (dot <= 0) return null
  const ext = name.slice(dot + 1).toLowerCase()
  // own keys only: a file named x.constructor must not find Object.prototype's
  return Object.hasOwn(BY_EXTENSION, ext) ? BY_EXTENSION[ext] : null
}

const startsWith = (b: Uint8Array, sig: number[], at = 0): boolean => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x)
const ascii = (s: string): number[] => [...s].map(c => c.charCodeAt(0))

/** bytes looked at to tell text from binary */
const SNIFF_BYTES = 512

/** A type from the first bytes of a file (at most SNIFF_BYTES are read). */
export function typeFromBytes (first: Uint8Array): string {
  const b = first.subarray(0, SNIFF_BYTES)
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47])) return 'image/png'
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (startsWith(b, ascii('GIF8'))) return 'image/gif'
  if (startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)) return 'image/webp'
  if (startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WAVE'), 8)) return 'audio/wav'
  if (startsWith(b, ascii('%PDF-'))) return 'application/pdf'
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm'
  if (startsWith(b, ascii('ftyp'), 4)) return 'video/mp4'
  if (startsWith(b, ascii('OggS'))) return 'application/ogg'
  if (startsWith(b, ascii('ID3'))) return 'audio/mpeg'
  if (startsWith(b, [0x1f, 0x8b])) return 'application/gzip'
  if (startsWith(b, ascii('PK'))) return 'application/zip'
  if (startsWith(b, [0x00, 0x61, 0x73, 0x6d])) return 'application/wasm'
  const head = Buffer.from(b).toString('latin1').trimStart().slice(0, 64).toLowerCase()
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'text/html; charset=utf-8'
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'image/svg+xml'
  if (isText(b)) return 'text/plain; charset=utf-8'
  return 'application/octet-stream'
}

/** No NUL or other C0 control besides whitespace, and valid UTF-8 (a cut multi-byte character at the end allowed). */
function isText (b: Uint8Array): boolean {
  for (const x of b) if (x < 0x20 && x !== 0x09 && x !== 0x0a && x !== 0x0d && x !== 0x0c && x !== 0x1b) return false
  for (let cut = 0; cut < 4 && cut <= b.length; cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, b.length - cut))
      return true
    } catch {}
  }
  return false
}

export function contentType (name: string | null, first: Uint8Array): string {
  return (name != null ? typeFromName(name) : null) ?? typeFromBytes(first)
}
