package notify_test

import (
	"testing"

	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/delivery"
	"weir.dev/weir/internal/notify"
	"weir.dev/weir/internal/promotion"
)

// Each event a Notification without reasons promises is sent by default
// under the reason the part of weir that records it uses: renaming one
// there without here would silently stop sending it.
func TestThePromisedEventsAreSentByDefault(t *testing.T) {
	for event, reason := range map[string]string{
		"sync succeeded":      controller.ReasonSucceeded,
		"sync failed":         controller.ReasonApplyFailed,
		"drift detected":      controller.ReasonDriftDetected,
		"drift corrected":     controller.ReasonDriftCorrected,
		"rollout started":     delivery.ReasonProgressing,
		"step reached":        delivery.ReasonStepReached,
		"promoted":            delivery.ReasonPromoted,
		"aborted":             delivery.ReasonAborted,
		"analysis failed":     delivery.ReasonAnalysisFailed,
		"revert pushed":       delivery.ReasonReverted,
		"image updated":       controller.ReasonImageUpdated,
		"promotion committed": promotion.ReasonPromotionCommitted,
		"promotion stopped":   promotion.ReasonPromotionStopped,
		"approval awaited":    promotion.ReasonApprovalAwaited,
		"approval given":      promotion.ReasonApprovalGiven,
	} {
		if !notify.Reasons[reason] {
			t.Errorf("%s (%s) is not sent by default", event, reason)
		}
	}
}
