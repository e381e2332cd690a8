{{/* The labels of every object of weir's controller. */}}
{{- define "weir.labels" -}}
app.kubernetes.io/name: weir
app.kubernetes.io/component: controller
{{- end }}

{{/* The image, tagged with the chart's appVersion unless told. */}}
{{- define "weir.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
