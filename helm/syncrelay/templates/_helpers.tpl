{{/* Names and labels. */}}
{{- define "syncrelay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "syncrelay.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "syncrelay.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "syncrelay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "syncrelay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "syncrelay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: relay
{{- end }}

{{- define "syncrelay.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "syncrelay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{/* The Secret the pods read ADMIN_TOKEN, JWT_SECRET and the JWT keys from. */}}
{{- define "syncrelay.secretName" -}}
{{- default (include "syncrelay.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Whether the chart deploys its own Redis. */}}
{{- define "syncrelay.bundledRedis" -}}
{{- if and (not .Values.redis.url) (not .Values.redis.existingSecret) .Values.redis.bundled.enabled }}true{{ end }}
{{- end }}

{{- define "syncrelay.redisHost" -}}
{{- printf "%s-redis" (include "syncrelay.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Whether the pods get RS256 key files. */}}
{{- define "syncrelay.jwtKeys" -}}
{{- if .Values.secrets.existingSecret }}{{ if .Values.secrets.jwtKeysInExistingSecret }}true{{ end }}
{{- else if and .Values.secrets.jwtPrivateKey .Values.secrets.jwtPublicKey }}true{{ end }}
{{- end }}

{{- define "syncrelay.terminationGracePeriod" -}}
{{- $min := add .Values.config.drainTimeout .Values.preStopSleepSeconds 5 }}
{{- if .Values.terminationGracePeriodSeconds }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (int $min) }}
{{- fail (printf "terminationGracePeriodSeconds must cover preStopSleepSeconds + config.drainTimeout + 5 s of shutdown (%d)" (int $min)) }}
{{- end }}
{{- .Values.terminationGracePeriodSeconds }}
{{- else }}
{{- add $min 10 }}
{{- end }}
{{- end }}

{{/* secrets.existingSecret must hold ADMIN_TOKEN and JWT_SECRET. Checked when the
     render can read the cluster (helm install/upgrade); offline (helm template)
     the pods' non-optional references stop them with the missing key's name. */}}
{{- define "syncrelay.checkExistingSecret" -}}
{{- with .Values.secrets.existingSecret }}
{{- $s := lookup "v1" "Secret" $.Release.Namespace . }}
{{- if $s }}
{{- range list "ADMIN_TOKEN" "JWT_SECRET" }}
{{- if not (get ($s.data | default dict) .) }}
{{- fail (printf "Secret %s (secrets.existingSecret) has no %s key: add it (kubectl -n %s create secret generic ... --from-literal=%s=...)" $.Values.secrets.existingSecret . $.Release.Namespace .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
