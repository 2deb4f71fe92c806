package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/catalog"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// Text field limits.
const (
	maxTitle       = 300
	maxDescription = 5000
	maxTags        = 50
	maxTag         = 100
	maxIdemKey     = 200
)

// DesignView is the API's representation of a design and its verdict.
type DesignView struct {
	store.Design
	// Duplicate is true when the submission matched an earlier one.
	Duplicate bool                 `json:"duplicate"`
	Verdict   *store.Verdict       `json:"verdict"`
	Findings  []mustertype.Finding `json:"findings"`
}

type submission struct {
	data     []byte
	declared string
	nd       store.NewDesign
}

func (s *Server) postDesign(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	wait, err := s.parseWait(r)
	if err != nil {
		return err
	}
	sub, err := s.readSubmission(w, r)
	if err != nil {
		s.metrics.Submissions.WithLabelValues("rejected").Inc()
		return err
	}
	img, err := s.cfg.Gate.Decode(r.Context(), sub.data, sub.declared, s.cfg.Limits)
	if err != nil {
		s.metrics.Submissions.WithLabelValues("rejected").Inc()
		if e, ok := ImageError(err); ok {
			return e
		}
		return err
	}
	sum := sha256.Sum256(sub.data)
	nd := sub.nd
	nd.ID = uuid.NewString()
	nd.TenantID = p.TenantID
	nd.SHA256 = hex.EncodeToString(sum[:])
	nd.Bytes = int64(len(sub.data))
	nd.Width, nd.Height = img.Width(), img.Height()
	nd.MediaType = img.MediaType

	if t, ok := s.tier(p); ok {
		nd.MaxPending = t.MaxPending
	}

	ctx := r.Context()
	stored, err := s.queue.PutBlob(ctx, nd.SHA256, sub.data)
	if err != nil {
		return err
	}
	// The row insert enqueues the design through the outbox in the same
	// transaction: committed means it will be analysed.
	d, created, err := s.store.InsertDesign(ctx, nd)
	if err != nil {
		if stored {
			s.dropBlob(ctx, nd.SHA256) // no orphan from a refused insert
		}
		return err
	}
	if created {
		s.cfg.Outbox()
		s.metrics.Submissions.WithLabelValues("created").Inc()
		if !stored {
			// The bytes were there before: make sure blob collection did
			// not take them just before this row committed (it holds the
			// blob's lock while it checks references; the insert held it
			// shared, so a deletion happened before the row existed).
			if err := s.ensureBlob(ctx, nd.SHA256, sub.data); err != nil {
				return err
			}
		}
	} else {
		s.metrics.Submissions.WithLabelValues("duplicate").Inc()
	}
	view, err := s.waitView(ctx, p.TenantID, d.ID, wait)
	if err != nil {
		return err
	}
	view.Duplicate = !created
	w.Header().Set("Location", "/v1/designs/"+d.ID)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, view)
	return nil
}

// dropBlob deletes bytes this request stored when no design references
// them (a refused insert), under the blob's lock so a concurrent upload of
// the same bytes keeps them.
func (s *Server) dropBlob(ctx context.Context, sha string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.store.WithUnreferencedBlob(ctx, sha, func(ctx context.Context) error { return s.queue.DeleteBlob(ctx, sha) }); err != nil {
		s.cfg.Logger.Warn("api: drop orphan blob (blob collection will)", "sha256", sha, "err", err)
	}
}

// ensureBlob stores the bytes again if they vanished.
func (s *Server) ensureBlob(ctx context.Context, sha string, data []byte) error {
	ok, err := s.queue.HasBlob(ctx, sha)
	if err != nil || ok {
		return err
	}
	_, err = s.queue.PutBlob(ctx, sha, data)
	return err
}

func (s *Server) parseWait(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, err2 := strconv.ParseFloat(v, 64)
		if err2 != nil {
			return 0, badRequest("invalid_wait", "wait must be a duration such as 5s or a number of seconds, got %q", v)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 || d > s.cfg.MaxWait {
		return 0, badRequest("invalid_wait", "wait must be between 0 and %s, got %s", s.cfg.MaxWait, d)
	}
	return d, nil
}

// readSubmission reads a multipart form (field "design") or a raw image
// body, and the metadata from form fields or the query string.
func (s *Server) readSubmission(w http.ResponseWriter, r *http.Request) (submission, error) {
	limit := s.cfg.Limits.MaxBytes
	// A declared length over the limit is refused before a byte is read.
	if r.ContentLength > limit+1<<20 {
		return submission{}, &Error{Status: http.StatusRequestEntityTooLarge, Code: imaging.CodeTooLarge,
			Message: fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes (design) plus 1 MiB (form)", r.ContentLength, limit)}
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20) // room for multipart framing and fields
	var sub submission
	fields := map[string][]string{}
	for k, v := range r.URL.Query() {
		fields[k] = v
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "multipart/form-data":
		mr := multipart.NewReader(r.Body, params["boundary"])
		found := false
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return sub, fmt.Errorf("read multipart body: %w", asBadBody(err))
			}
			name := part.FormName()
			if name == "design" {
				if found {
					return sub, badRequest("invalid_form", "send one design per request")
				}
				found = true
				sub.declared = part.Header.Get("Content-Type")
				b, err := io.ReadAll(io.LimitReader(part, limit+1))
				if err != nil {
					return sub, fmt.Errorf("read design: %w", asBadBody(err))
				}
				if int64(len(b)) > limit {
					return sub, &Error{Status: http.StatusRequestEntityTooLarge, Code: imaging.CodeTooLarge, Message: fmt.Sprintf("design exceeds %d bytes", limit)}
				}
				sub.data = b
				continue
			}
			b, err := io.ReadAll(io.LimitReader(part, 64<<10+1))
			if err != nil {
				return sub, fmt.Errorf("read field %s: %w", name, asBadBody(err))
			}
			if len(b) > 64<<10 {
				return sub, badRequest("invalid_form", "field %q is longer than 64 KiB", name)
			}
			fields[name] = append(fields[name], string(b))
		}
		if !found {
			return sub, badRequest("missing_design", "multipart body has no \"design\" file field")
		}
	case strings.HasPrefix(mt, "image/") || mt == "application/octet-stream":
		b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return sub, fmt.Errorf("read body: %w", asBadBody(err))
		}
		if int64(len(b)) > limit {
			return sub, &Error{Status: http.StatusRequestEntityTooLarge, Code: imaging.CodeTooLarge, Message: fmt.Sprintf("design exceeds %d bytes", limit)}
		}
		sub.data, sub.declared = b, mt
	default:
		return sub, &Error{Status: http.StatusUnsupportedMediaType, Code: imaging.CodeUnsupported,
			Message: "send multipart/form-data with a \"design\" file, or the image itself with an image/* Content-Type"}
	}
	if sub.declared == "image/jpg" {
		sub.declared = imaging.MediaJPEG
	}
	first := func(k string) string {
		if v := fields[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	markets, err := catalog.ParseMarkets(strings.Join(fields["markets"], ","))
	if err != nil {
		return sub, badRequest("invalid_markets", "%v", err)
	}
	product := first("product")
	if product == "" {
		return sub, badRequest("invalid_product", "product is required (one of %s)", productNames())
	}
	if _, ok := catalog.LookupProduct(product); !ok {
		return sub, badRequest("invalid_product", "unknown product %q: want one of %s", product, productNames())
	}
	var tags []string
	for _, v := range fields["tags"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	sub.nd = store.NewDesign{Markets: markets, Product: product, Title: first("title"), Tags: tags, Description: first("description"),
		IdempotencyKey: r.Header.Get("Idempotency-Key")}
	if v := first("force"); v != "" {
		if sub.nd.Force, err = strconv.ParseBool(v); err != nil {
			return sub, badRequest("invalid_force", "force must be true or false")
		}
	}
	if err := validateText(sub.nd); err != nil {
		return sub, err
	}
	return sub, nil
}

func validateText(nd store.NewDesign) error {
	check := func(name, v string, max int) error {
		if !utf8.ValidString(v) {
			return badRequest("invalid_text", "%s is not valid UTF-8", name)
		}
		if utf8.RuneCountInString(v) > max {
			return badRequest("invalid_text", "%s is longer than %d characters", name, max)
		}
		// C0 control characters (NUL among them, which PostgreSQL refuses)
		// and DEL are refused; tab and newline only in the description.
		for _, r := range v {
			if (r < 0x20 || r == 0x7f) && !(name == "description" && (r == '\n' || r == '\t' || r == '\r')) {
				return badRequest("invalid_text", "%s contains the control character U+%04X", name, r)
			}
		}
		return nil
	}
	if err := check("title", nd.Title, maxTitle); err != nil {
		return err
	}
	if err := check("description", nd.Description, maxDescription); err != nil {
		return err
	}
	if len(nd.Tags) > maxTags {
		return badRequest("invalid_text", "at most %d tags", maxTags)
	}
	for _, t := range nd.Tags {
		if err := check("tag", t, maxTag); err != nil {
			return err
		}
	}
	if len(nd.IdempotencyKey) > maxIdemKey {
		return badRequest("invalid_idempotency_key", "Idempotency-Key is longer than %d bytes", maxIdemKey)
	}
	return nil
}

func asBadBody(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return badRequest("invalid_body", "%v", err)
}

func productNames() string {
	var b bytes.Buffer
	for i, p := range catalog.Products {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
	}
	return b.String()
}

func (s *Server) getDesign(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	wait, err := s.parseWait(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no design " + id}
	}
	view, err := s.waitView(r.Context(), p.TenantID, id, wait)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// waitView returns the design, waiting up to wait for a terminal state. It
// subscribes to the design's verdict subject before reading, so a verdict
// landing in between is not missed; there is no polling.
func (s *Server) waitView(ctx context.Context, tenantID, id string, wait time.Duration) (DesignView, error) {
	var sub *nats.Subscription
	if wait > 0 {
		var err error
		sub, err = s.queue.Conn().SubscribeSync(queue.VerdictSubject(tenantID, id))
		if err != nil {
			return DesignView{}, fmt.Errorf("subscribe to verdict of %s: %w", id, err)
		}
		defer sub.Unsubscribe()
	}
	d, err := s.store.Design(ctx, tenantID, id)
	if err != nil {
		return DesignView{}, err
	}
	if sub != nil && !terminal(d.Status) {
		wctx, cancel := context.WithTimeout(ctx, wait)
		_, err := sub.NextMsgWithContext(wctx)
		cancel()
		if err == nil {
			if d, err = s.store.Design(ctx, tenantID, id); err != nil {
				return DesignView{}, err
			}
		}
	}
	view := DesignView{Design: d, Findings: []mustertype.Finding{}}
	if d.Status == store.StatusDecided {
		v, err := s.store.LatestVerdict(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return DesignView{}, err
		}
		if err == nil {
			view.Verdict = &v
		}
		if view.Findings, err = s.store.Findings(ctx, id); err != nil {
			return DesignView{}, err
		}
	}
	return view, nil
}

func terminal(status string) bool {
	return status == store.StatusDecided || status == store.StatusFailed
}

func (s *Server) listDesigns(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	status := r.URL.Query().Get("status")
	if status != "" && status != store.StatusQueued && status != store.StatusAnalyzing && status != store.StatusDecided && status != store.StatusFailed {
		return badRequest("invalid_status", "status must be queued, analyzing, decided or failed")
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return badRequest("invalid_limit", "limit must be 1..500")
		}
		limit = n
	}
	ds, err := s.store.Designs(r.Context(), p.TenantID, status, limit)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []store.Design{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"designs": ds})
	return nil
}

func (s *Server) designEvents(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no design " + id}
	}
	if _, err := s.store.Design(r.Context(), p.TenantID, id); err != nil {
		return err
	}
	evs, err := s.store.Events(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
	return nil
}

func (s *Server) catalog(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	writeJSON(w, http.StatusOK, map[string]any{"products": catalog.Products, "eu_members": catalog.EUMembers,
		"markets": "ISO 3166-1 alpha-2 country codes, plus EU"})
	return nil
}

// ImageError maps a decoding failure caused by the input (an
// *imaging.Error) to the API's error: 413 for too many bytes or pixels, 415
// for an unsupported or mismatched type, 422 otherwise. ok is false for any
// other error.
func ImageError(err error) (e *Error, ok bool) {
	var ie *imaging.Error
	if !errors.As(err, &ie) {
		return nil, false
	}
	status := http.StatusUnprocessableEntity
	switch ie.Code {
	case imaging.CodeTooLarge, imaging.CodeTooManyPixels:
		status = http.StatusRequestEntityTooLarge
	case imaging.CodeUnsupported, imaging.CodeMediaMismatch:
		status = http.StatusUnsupportedMediaType
	}
	return &Error{Status: status, Code: ie.Code, Message: ie.Error()}, true
}
