// Reference OCR for `make bench-text`: @gutenye/ocr-node (PaddleOCR PP-OCRv4
// on onnxruntime-node, the same models Muster runs). Reads one image path per
// line on stdin and answers one JSON line per image: the time detect() took
// and the text it read. Run from the folder whose node_modules holds the
// pinned packages (eval/text/evaltext/node/package-lock.json).
import readline from 'node:readline'
import Ocr from '@gutenye/ocr-node'

const ocr = await Ocr.create()
console.log(JSON.stringify({ ready: true }))
const rl = readline.createInterface({ input: process.stdin })
for await (const line of rl) {
  const path = line.trim()
  if (!path) continue
  try {
    const t = performance.now()
    const lines = await ocr.detect(path)
    const ms = performance.now() - t
    console.log(JSON.stringify({ ms, text: lines.map((l) => l.text).join('\n') }))
  } catch (e) {
    console.log(JSON.stringify({ error: String(e) }))
  }
}
