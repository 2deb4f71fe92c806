package api

import (
	"net/http"
	"strings"

	"github.com/muster-dev/muster/store"
)

// OpenAPI builds the OpenAPI 3.1 document from the route table, so the
// document and the routes cannot drift apart.
func (s *Server) OpenAPI() map[string]any {
	errorResp := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
	designResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": ref("Design")}}}
	}
	wait := map[string]any{"name": "wait", "in": "query", "description": "Wait up to this long (e.g. 5s, max 30s) for the verdict.", "schema": map[string]any{"type": "string"}}
	idParam := map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string", "format": "uuid"}}
	extra := map[string]map[string]any{
		"POST /v1/designs": {
			"parameters": []any{wait,
				map[string]any{"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string", "maxLength": maxIdemKey}},
				map[string]any{"name": "markets", "in": "query", "description": "For raw bodies: comma-separated ISO 3166-1 alpha-2 codes or EU.", "schema": map[string]any{"type": "string"}},
				map[string]any{"name": "product", "in": "query", "description": "For raw bodies.", "schema": map[string]any{"type": "string"}},
			},
			"requestBody": map[string]any{"required": true, "content": map[string]any{
				"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "required": []string{"design", "markets", "product"},
					"properties": map[string]any{
						"design":      map[string]any{"type": "string", "format": "binary", "description": "PNG, JPEG, GIF or WebP"},
						"markets":     map[string]any{"type": "string", "example": "DE,US,FR"},
						"product":     map[string]any{"type": "string", "example": "tshirt"},
						"title":       map[string]any{"type": "string", "maxLength": maxTitle},
						"tags":        map[string]any{"type": "string", "description": "comma-separated"},
						"description": map[string]any{"type": "string", "maxLength": maxDescription},
						"force":       map[string]any{"type": "boolean", "description": "analyse again even if the same submission exists"},
					}}},
				"image/*": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
			}},
			"responses": map[string]any{"201": designResp("Created (verdict included if it landed within wait)"), "200": designResp("An identical earlier submission"),
				"400": errorResp, "401": errorResp, "403": errorResp, "409": errorResp, "413": errorResp, "415": errorResp, "422": errorResp},
		},
		"GET /v1/designs/{id}": {
			"parameters": []any{idParam, wait},
			"responses":  map[string]any{"200": designResp("The design and its latest verdict"), "401": errorResp, "404": errorResp},
		},
		"GET /v1/designs/{id}/events": {"parameters": []any{idParam}},
		"GET /v1/designs": {"parameters": []any{
			map[string]any{"name": "status", "in": "query", "schema": map[string]any{"type": "string", "enum": []string{store.StatusQueued, store.StatusAnalyzing, store.StatusDecided, store.StatusFailed}}},
			map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 500}},
		}},
		"PUT /v1/webhook": {"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"type": "object", "properties": map[string]any{"url": map[string]any{"type": "string"}}}}}}},
	}
	paths := map[string]any{}
	for _, rt := range s.routes {
		op := map[string]any{"summary": rt.Summary, "operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(rt.Pattern)}
		if rt.Roles != nil {
			op["security"] = []any{map[string]any{"apiKey": []string{}}}
			op["x-roles"] = rt.Roles
			if rt.Platform {
				op["x-platform"] = true // only the platform operator's keys
			}
		}
		if _, ok := op["responses"]; !ok {
			op["responses"] = map[string]any{"200": map[string]any{"description": "OK"}, "default": errorResp}
		}
		for k, v := range extra[rt.Method+" "+rt.Pattern] {
			op[k] = v
		}
		for k, v := range rt.Doc {
			op[k] = v
		}
		item, _ := paths[rt.Pattern].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Pattern] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Muster API", "version": "1"},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"apiKey": map[string]any{"type": "http", "scheme": "bearer", "description": "A per-tenant API key (mst_…)."}},
			"schemas": map[string]any{
				"Error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{"error": map[string]any{"type": "object",
					"required": []string{"code", "message"}, "properties": map[string]any{"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}}},
				"Design": map[string]any{"type": "object", "properties": map[string]any{
					"id": map[string]any{"type": "string", "format": "uuid"}, "status": map[string]any{"type": "string", "enum": []string{store.StatusQueued, store.StatusAnalyzing, store.StatusDecided, store.StatusFailed}},
					"sha256": map[string]any{"type": "string"}, "bytes": map[string]any{"type": "integer"}, "width": map[string]any{"type": "integer"}, "height": map[string]any{"type": "integer"},
					"media_type": map[string]any{"type": "string"}, "product": map[string]any{"type": "string"}, "markets": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
					"duplicate": map[string]any{"type": "boolean"}, "failure_reason": map[string]any{"type": "string"},
					"verdict": map[string]any{"type": []string{"object", "null"}, "properties": map[string]any{
						"outcome": map[string]any{"type": "string", "enum": []string{"allow", "review", "block"}}, "policy_version": map[string]any{"type": "string"},
						"versions": map[string]any{"type": "object"}, "decision": map[string]any{"type": "object", "properties": map[string]any{"markets": map[string]any{"type": "array"}}}}},
					"findings": map[string]any{"type": "array"}}},
			},
		},
	}
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func (s *Server) openapi(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	writeJSON(w, http.StatusOK, s.OpenAPI())
	return nil
}
