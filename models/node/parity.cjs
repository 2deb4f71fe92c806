// Reference side of Muster's model parity test (models/parity_test.go).
// Usage: MUSTER_NODE_DIR=<dir with node_modules> node parity.cjs <work dir>
// Reads <work dir>/cases.json ([{name, width, height, rgb}], rgb = a file of
// packed 8-bit RGB), and for every case writes <name>.resized.f32 (tfjs's
// resizeBilinear(alignCorners=true) of RGB/255, float32 little-endian, or the
// unresized tensor when the image is already 224×224) and collects nsfwjs's
// class probabilities from its own infer() path into <work dir>/out.json.
const path = require("path");
const fs = require("fs");
const { createRequire } = require("module");
const req = createRequire(path.join(process.env.MUSTER_NODE_DIR, "package.json"));
const tf = req("@tensorflow/tfjs");
const nsfwjs = req("nsfwjs");

async function main() {
  const work = process.argv[2];
  await tf.setBackend("cpu");
  await tf.ready();
  const quiet = console.info;
  console.info = () => {};
  const model = await nsfwjs.load("MobileNetV2");
  console.info = quiet;
  const cases = JSON.parse(fs.readFileSync(path.join(work, "cases.json"), "utf8"));
  const out = { backend: tf.getBackend(), tfjs: tf.version.tfjs, results: [] };
  for (const c of cases) {
    const rgb = fs.readFileSync(path.join(work, c.rgb));
    const img = tf.tensor3d(Int32Array.from(rgb), [c.height, c.width, 3], "int32");
    const resized = tf.tidy(() => {
      const n = img.toFloat().div(tf.scalar(255));
      if (c.height === 224 && c.width === 224) return n;
      return tf.image.resizeBilinear(n, [224, 224], true);
    });
    const rdata = await resized.data();
    fs.writeFileSync(path.join(work, c.name + ".resized.f32"), Buffer.from(rdata.buffer, rdata.byteOffset, rdata.byteLength));
    resized.dispose();
    const logits = model.infer(img);
    const probs = Array.from(await logits.data());
    logits.dispose();
    img.dispose();
    out.results.push({ name: c.name, probabilities: probs });
  }
  fs.writeFileSync(path.join(work, "out.json"), JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
