// A real browser against the gateway, run by gateway-clients.test.ts inside
// a network namespace with only loopback: Debian's headless chromium driven
// by playwright-core opens a listing and follows a link to a file, renders a
// site's index.html (with its stylesheet), and plays and seeks a WAV file,
// which the media stack loads through Range requests. Screenshots go to
// SHOTS (argv[2]) for a person to look at; one JSON line says what it saw,
// including what the seed's /metrics counted (the 206s the server sent).

import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { cairn, printResultOf, tempDir } from '../helpers.ts'
import { freePort, startSeed, stopLive } from './seeds.ts'

const RUN_TIMEOUT_MS = 150_000
/** a page step (load, click, seek) waits at most this */
const STEP_MS = 20_000
const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
/** seconds of audio: at 16-bit mono 44.1 kHz, ~25 MiB, more than the media cache reads ahead, so a seek near the end needs a new Range request */
const AUDIO_SECONDS = 300

/** A WAV (PCM, 16-bit mono) of a tone whose pitch rises each second, so a seek lands somewhere different. */
function wav (seconds: number, rate = 44_100): Buffer {
  const samples = seconds * rate
  const data = Buffer.alloc(samples * 2)
  for (let i = 0; i < samples; i++) {
    const f = 220 + 10 * Math.floor(i / rate)
    data.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * f * i / rate)), i * 2)
  }
  const h = Buffer.alloc(44)
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8)
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22)
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34)
  h.write('data', 36); h.writeUInt32LE(data.length, 40)
  return Buffer.concat([h, data])
}

async function main (shots: string): Promise<Record<string, unknown>> {
  const { dir, cleanup } = await tempDir('cairn-browser-')
  try {
    const repo = path.join(dir, 'repo')
    const tree = path.join(dir, 'tree')
    await fs.mkdir(path.join(tree, 'site'), { recursive: true })
    await fs.mkdir(path.join(tree, 'files'), { recursive: true })
    await fs.writeFile(path.join(tree, 'site', 'index.html'), '<!doctype html><html><head><title>cairn site</title><link rel="stylesheet" href="style.css"></head><body><h1 id="t">Served by cairn</h1><p>an index.html rendered from a DAG</p></body></html>\n')
    await fs.writeFile(path.join(tree, 'site', 'style.css'), 'h1 { color: rgb(200, 30, 30); }\n')
    await fs.writeFile(path.join(tree, 'files', 'hello.txt'), 'hello from a listing\n')
    await fs.writeFile(path.join(tree, 'files', '<b>bold?</b>.txt'.replace('/', '_')), 'a stranger name\n')
    const audio = wav(AUDIO_SECONDS)
    await fs.writeFile(path.join(tree, 'files', 'tone.wav'), audio)
    const add = await cairn(['add', '-r', '-Q', tree, '--repo', repo])
    if (add.code !== 0) throw new Error(`add: ${add.stderr}`)
    const root = add.stdout.trim()
    const port = await freePort()
    const metrics = await freePort()
    const seed = await startSeed(repo, { args: ['--gateway', `127.0.0.1:${port}`, '--metrics', `127.0.0.1:${metrics}`] })
    const base = `http://127.0.0.1:${port}`
    const profile = path.join(dir, 'profile')
    const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: STEP_MS })
    const ranges: string[] = []
    const statuses: number[] = []
    try {
      const page = browser.pages()[0] ?? await browser.newPage()
      page.setDefaultTimeout(STEP_MS)
      page.on('request', r => { const h = r.headers().range; if (h != null && r.url().endsWith('tone.wav')) ranges.push(h) })
      page.on('response', r => { if (r.url().endsWith('tone.wav')) statuses.push(r.status()) })
      // a listing, then a link in it to a file
      await page.goto(`${base}/ipfs/${root}/files/`)
      const listingTitle = await page.title()
      const strangeShown = await page.locator('a', { hasText: '<b>bold?<_b>.txt' }).count()
      await page.screenshot({ path: path.join(shots, 'listing.png') })
      await page.click('a:text-is("hello.txt")')
      await page.waitForURL(/hello\.txt$/)
      const fileText = (await page.textContent('body'))?.trim()
      await page.screenshot({ path: path.join(shots, 'file.png') })
      // a site's index.html with its stylesheet
      await page.goto(`${base}/ipfs/${root}/site/`)
      const siteTitle = await page.title()
      const h1Color = await page.$eval('#t', e => (globalThis as any).getComputedStyle(e).color as string)
      await page.screenshot({ path: path.join(shots, 'site.png') })
      // media: play, then seek to 280 s and play from there
      await page.setContent(`<audio id="a" src="${base}/ipfs/${root}/files/tone.wav" preload="auto" controls></audio>`)
      const media = await page.evaluate(async (stepMs) => {
        // the page's DOM (this project's tsconfig has no DOM types)
        const a = (globalThis as any).document.getElementById('a')
        const when = async (ev: string): Promise<void> => await new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no ${ev} within ${stepMs} ms (error ${a.error?.code ?? '-'})`)), stepMs)
          a.addEventListener(ev, () => { clearTimeout(t); resolve() }, { once: true })
        })
        a.muted = true
        if (a.readyState < 1) await when('loadedmetadata')
        const duration = a.duration
        await a.play()
        await when('timeupdate')
        a.currentTime = 280
        await when('seeked')
        await when('timeupdate')
        const after = a.currentTime
        a.pause()
        return { duration, after, error: a.error?.code ?? null }
      }, STEP_MS)
      await page.screenshot({ path: path.join(shots, 'media.png') })
      // the browser gone, every request it made has ended: count what the server answered
      await browser.close()
      let text = ''
      for (let i = 0; i < 50; i++) {
        text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text()
        if (/cairn_gateway_requests_in_flight 0\n/.test(text)) break
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      const partial = Number(/cairn_gateway_requests_total\{code="206"\} (\d+)/.exec(text)?.[1] ?? 0)
      const left = Number(/cairn_gateway_requests_total\{code="499"\} (\d+)/.exec(text)?.[1] ?? 0)
      return {
        listing: { title: listingTitle, strangeShown },
        file: fileText,
        site: { title: siteTitle, h1Color },
        media: { ...media, ranges, statuses, serverPartial: partial, serverLeft: left, audioSha: createHash('sha256').update(audio).digest('hex').slice(0, 16) }
      }
    } finally {
      await browser.close()
      await seed.stop()
    }
  } finally {
    await stopLive()
    await cleanup()
  }
}

printResultOf(async () => await main(process.argv[2] ?? '/tmp'), RUN_TIMEOUT_MS)
