// Reference side of `make bench-classifiers` (models/bench): times nsfwjs on
// tfjs's pure-JS CPU backend over the same images the Go side uses.
// Usage: MUSTER_NODE_DIR=<dir with node_modules> node bench.cjs <work dir> <batch sizes, comma separated>
// <work dir>/cases.json lists [{name, width, height, rgb}]. Each batch runs
// nsfwjs's own preprocessing per image (toFloat, /255, resizeBilinear with
// alignCorners) and one predict() over the stacked batch (nsfwjs.infer only
// takes one image; the model itself takes a batch). Prints one JSON object.
const path = require("path");
const fs = require("fs");
const { createRequire } = require("module");
const req = createRequire(path.join(process.env.MUSTER_NODE_DIR, "package.json"));
const tf = req("@tensorflow/tfjs");
const nsfwjs = req("nsfwjs");

async function main() {
  const work = process.argv[2];
  const sizes = process.argv[3].split(",").map(Number);
  await tf.setBackend("cpu");
  await tf.ready();
  const quiet = console.info;
  console.info = () => {};
  const model = await nsfwjs.load("MobileNetV2");
  console.info = quiet;
  const cases = JSON.parse(fs.readFileSync(path.join(work, "cases.json"), "utf8"));
  const imgs = cases.map((c) => tf.tensor3d(Int32Array.from(fs.readFileSync(path.join(work, c.rgb))), [c.height, c.width, 3], "int32"));
  const out = { backend: tf.getBackend(), tfjs: tf.version.tfjs, runs: [] };
  for (const b of sizes) {
    const lat = [];
    let images = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i + b <= imgs.length; i += b) {
      const s = process.hrtime.bigint();
      const y = tf.tidy(() => {
        const xs = imgs.slice(i, i + b).map((img) => {
          const n = img.toFloat().div(tf.scalar(255));
          return img.shape[0] === 224 && img.shape[1] === 224 ? n : tf.image.resizeBilinear(n, [224, 224], true);
        });
        return model.model.predict(tf.stack(xs));
      });
      await y.data();
      y.dispose();
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      images += b;
    }
    const total = Number(process.hrtime.bigint() - t0) / 1e9;
    lat.sort((a, b) => a - b);
    out.runs.push({ batch: b, images, seconds: total, p50_ms: lat[Math.floor((lat.length - 1) / 2)] });
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => { console.error(e); process.exit(1); });
