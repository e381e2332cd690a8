package render_test

import (
	"context"
	"fmt"
	"log"

	"weir.dev/weir/internal/render"
)

func ExampleRender() {
	objs, err := render.Render(context.Background(), "testdata/kustomize", "overlays/prod", render.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, obj := range objs {
		fmt.Println(obj.GetKind(), obj.GetNamespace(), obj.GetName())
	}
	// Output:
	// ConfigMap shop-prod prod-web-config-fgtf75m9mk
	// Service shop-prod prod-web
	// Deployment shop-prod prod-web
	// HorizontalPodAutoscaler shop-prod prod-web
}
