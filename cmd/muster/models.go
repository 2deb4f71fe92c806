package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/tfjs"
)

func cmdModels(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: muster models setup | convert SRC_DIR DST.onnx")
	}
	cfg, rest, err := config.Parse("models", args[1:], e.getenv, e.stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(e.stderr)
	switch args[0] {
	case "setup":
		inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib, Logger: log})
		if err != nil {
			return err
		}
		rt := models.NewRuntime()
		if err := rt.Init(inst.ORTLib); err != nil {
			return err
		}
		defer rt.Close()
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "ONNX Runtime\t%s\t%s\n", rt.Version(), inst.ORTLib)
		for name, m := range inst.Models {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", name, m.ModelVersion(), inst.ModelDir(name))
		}
		return tw.Flush()
	case "convert":
		if len(rest) != 2 {
			return errors.New("usage: muster models convert SRC_DIR DST.onnx (SRC_DIR holds a TF.js LayersModel: model.json or model.min.js and its weight shards)")
		}
		info, sum, err := tfjs.ConvertDir(rest[0], rest[1], tfjs.Options{DocString: "converted by muster models convert from " + rest[0]})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s (sha256 %s): input %s %v\n", rest[1], sum, info.InputName, info.InputShape)
		return nil
	}
	return fmt.Errorf("unknown models command %q", args[0])
}
