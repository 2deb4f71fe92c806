// Package models owns Muster's machine-learning models at run time: it sets
// up the ONNX Runtime shared library and the converted models on a fresh
// machine (Setup), describes each model with a Manifest, and runs them
// through pooled ONNX Runtime sessions with dynamic batching (Classifier).
//
// The ONNX Runtime library and the model weights come from pinned npm
// packages (onnxruntime-node, nsfwjs) fetched with internal/npmfetch; the
// nsfwjs Keras model is converted to ONNX by models/tfjs. See docs/models.md.
package models
