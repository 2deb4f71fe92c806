package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	ocranalyzer "github.com/muster-dev/muster/analyzers/ocr"
	"github.com/muster-dev/muster/bank/textmatch"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/ocr"
	"github.com/muster-dev/muster/models/tfjs"
)

func cmdModels(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: muster models setup | read IMAGE | convert SRC_DIR DST.onnx")
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
		om, err := ocr.Install(ctx, cfg.CacheDir, cfg.ModelsDir)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "ONNX Runtime\t%s\t%s\n", rt.Version(), inst.ORTLib)
		for name, m := range inst.Models {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", name, m.ModelVersion(), inst.ModelDir(name))
		}
		vers := om.Versions()
		for _, role := range []string{ocr.RoleDetection, ocr.RoleClassifier, ocr.RoleRecognition, ocr.RoleDictionary} {
			fmt.Fprintf(tw, "%s-%s\t%s\t%s\n", ocr.ModelName, role, vers[role], filepath.Join(cfg.ModelsDir, ocr.ModelName, om.Files[role].File))
		}
		return tw.Flush()
	case "read":
		if len(rest) != 1 {
			return errors.New("usage: muster models read IMAGE (prints the text the ocr analyzer reads)")
		}
		return readText(ctx, e, cfg, rest[0])
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

// readText prints the lines the OCR models read in an image file.
func readText(ctx context.Context, e *env, cfg config.Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	img, err := imaging.Decode(data, "", imaging.Limits{MaxBytes: cfg.MaxBytes, MaxPixels: cfg.MaxPixels})
	if err != nil {
		return err
	}
	inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib, Logger: cfg.Logger(e.stderr)})
	if err != nil {
		return err
	}
	if _, err := ocr.Install(ctx, cfg.CacheDir, cfg.ModelsDir); err != nil {
		return err
	}
	rt := models.NewRuntime()
	if err := rt.Init(inst.ORTLib); err != nil {
		return err
	}
	defer rt.Close()
	// Read as the analyzer does: with the lexicon when the word list is there.
	lex, _ := ocranalyzer.Lexicon(textmatch.DefaultWordsPath, nil)
	eng, err := ocr.Open(rt, ocr.Config{ModelsDir: cfg.ModelsDir, Lexicon: lex})
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.ReadImage(ctx, img)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TEXT\tSCORE\tBOX\tANGLE\tNOTES\n")
	for _, l := range res.Lines {
		var notes []string
		for _, n := range []struct {
			on   bool
			name string
		}{{l.Curved, "curved"}, {l.Rotated180, "rotated 180°"}, {l.Inverted, "inverted"}} {
			if n.on {
				notes = append(notes, n.name)
			}
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%v\t%.1f\t%s\n", l.Text, l.Score, l.Box, l.Angle, strings.Join(notes, ", "))
	}
	fmt.Fprintf(tw, "\n%d lines, %d regions; detect %v, classify %v, recognize %v\n", len(res.Lines), res.Regions,
		res.Detect.Round(time.Millisecond), res.Classify.Round(time.Millisecond), res.Recognize.Round(time.Millisecond))
	return tw.Flush()
}
