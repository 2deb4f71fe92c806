// Package mustertype holds the types shared along Muster's pipeline — the
// design an analyzer looked at, the findings it reported, the policy's input
// and decision, and the verdict recorded for a design — so that the store,
// the API, webhooks, review and the policy engine agree on them without
// importing one another. Like River's rivertype, it imports nothing from the
// module (an import-rules test keeps it so).
package mustertype
