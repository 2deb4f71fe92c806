package tfjs_test

import (
	"fmt"

	"github.com/muster-dev/muster/models/tfjs"
)

// nsfwjs ships its Keras model as a minified browserify bundle; the
// converter reads the literal the bundle exports.
func ExampleParseJSModule() {
	src := `!function(e){module.exports=e()}(function(){return{1:[function(e,a,n){a.exports={modelTopology:{keras_version:"2.2.4"},weightsManifest:[{paths:["group1-shard1of1"],weights:[{name:"k",shape:[2],dtype:"float32",quantization:{min:-.5,scale:.25,dtype:"uint8"}}]}]}},{}]}})`
	v, err := tfjs.ParseJSModule([]byte(src))
	if err != nil {
		panic(err)
	}
	m := v.(map[string]any)
	w := m["weightsManifest"].([]any)[0].(map[string]any)["weights"].([]any)[0].(map[string]any)
	fmt.Println(m["modelTopology"].(map[string]any)["keras_version"], w["name"], w["quantization"].(map[string]any)["min"])
	// Output: 2.2.4 k -0.5
}
