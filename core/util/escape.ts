// Strings from strangers — file names in a DAG, manifest names, HTTP paths,
// peer agent versions — are escaped before they reach a terminal, a log or
// HTML. A name holding ESC or a newline could otherwise move the cursor,
// recolour or clear the user's terminal, or forge a log line.

// C0 controls, DEL, and the C1 controls (U+0080-U+009F: a lone U+009B is CSI
// to many terminals), plus the bidi overrides that reorder what a reader sees.
// eslint-disable-next-line no-control-regex -- matching control characters is this regex's job
const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu

/**
 * One line of text safe to print: every control or bidi character becomes a
 * visible escape (`\n`, `\t`, `\x1b`, `\u202e`); a backslash is doubled, so
 * the escaped form cannot be mistaken for a name that holds it.
 */
export function escapeTerminal (s: string): string {
  return s.replace(/\\/g, '\\\\').replace(UNSAFE_FOR_TERMINAL, (c) => {
    switch (c) {
      case '\n': return '\\n'
      case '\r': return '\\r'
      case '\t': return '\\t'
    }
    const code = c.codePointAt(0) ?? 0
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'
}

/** Text for HTML element content or a quoted attribute value. */
export function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c)
}
