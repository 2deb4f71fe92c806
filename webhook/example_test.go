package webhook_test

import (
	"fmt"
	"time"

	"github.com/muster-dev/muster/webhook"
)

// A receiver checks the Muster-Signature header against the raw body.
func ExampleVerify() {
	body := []byte(`{"type":"verdict.recorded","design_id":"…"}`)
	at := time.Unix(1_800_000_000, 0)
	header := webhook.Sign("whsec_example", at, body)
	fmt.Println(header[:13])
	fmt.Println(webhook.Verify("whsec_example", header, body, at.Add(time.Minute), 5*time.Minute))
	fmt.Println(webhook.Verify("whsec_example", header, []byte("tampered"), at, 5*time.Minute))
	fmt.Println(webhook.Verify("whsec_example", header, body, at.Add(time.Hour), 5*time.Minute))
	// Output:
	// t=1800000000,
	// <nil>
	// webhook: bad signature
	// webhook: bad signature: timestamp outside tolerance
}
