package traffic

import "fmt"

// demoDeployment is the demo in Git at version, failing errorRate of its
// requests, on the real node. The preStop sleep keeps a pod serving while
// kube-proxy forgets it, so that removing a pod fails no request.
func demoDeployment(version, errorRate string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {weir.dev/node: real}
      tolerations: [{key: weir.dev/node, value: real, effect: NoSchedule}]
      terminationGracePeriodSeconds: 15
      containers:
      - name: demo
        image: %s
        imagePullPolicy: Never
        env:
        - {name: DEMO_VERSION, value: %s}
        - {name: DEMO_ERROR_RATE, value: "%s"}
        ports: [{name: metrics, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
        lifecycle: {preStop: {sleep: {seconds: 2}}}
`, replicas, demoImage, version, errorRate)
}

const demoService = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

// demoRollout pauses at 20, 50 and 80% of the pods on the canary, then
// checks its error rate, and reverts a failed release in Git.
const demoRollout = `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  targetRef: {name: web}
  progressDeadline: 2m
  onFailure: {revertInGit: true}
  strategy:
    canary:
      service: web
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 50
      - pause: {}
      - setWeight: 80
      - pause: {}
      - analysis:
          templates: [{name: error-rate}]
`

// errorRateTemplate fails when more than 5% of the canary's requests of
// the last 10 seconds failed, as the pods themselves counted them.
func errorRateTemplate(prometheus string) string {
	return fmt.Sprintf(`apiVersion: weir.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: error-rate}
spec:
  metrics:
  - name: error-rate
    interval: 2s
    count: 3
    successCondition: result < 0.05
    provider:
      prometheus:
        address: %q
        query: sum(rate(http_requests_total{deployment="web-canary",code="500"}[10s])) / sum(rate(http_requests_total{deployment="web-canary"}[10s]))
`, prometheus)
}
