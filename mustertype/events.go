package mustertype

import "strconv"

// Message topics and event types that leave the database through the
// store's transactional outbox and travel over NATS.
const (
	// EventVerdictRecorded: the first verdict of a design, after analysis.
	EventVerdictRecorded = "verdict.recorded"
	// EventVerdictChanged: a later verdict (re-decision, review) changed
	// the outcome of at least one market.
	EventVerdictChanged = "verdict.changed"
	// EventDesignFailed: analysis kept failing; the design is dead-lettered.
	EventDesignFailed = "design.failed"
)

// DesignSubmitted is the work message of a design waiting for analysis.
type DesignSubmitted struct {
	DesignID string `json:"design_id"`
	TenantID string `json:"tenant_id"`
}

// VerdictEvent announces a design reaching a terminal state or its verdict
// changing. EventID is unique per event and the same on every redelivery;
// webhook receivers see it as the delivery id they de-duplicate on.
type VerdictEvent struct {
	EventID   string `json:"event_id,omitempty"`
	Type      string `json:"type"`
	TenantID  string `json:"tenant_id"`
	DesignID  string `json:"design_id"`
	VerdictID int64  `json:"verdict_id,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// MsgID is the event's de-duplication id on the verdict stream: one per
// type, design and verdict, so a re-publication is dropped by JetStream.
func (e VerdictEvent) MsgID() string {
	return e.Type + ":" + e.DesignID + ":" + strconv.FormatInt(e.VerdictID, 10)
}
