{{/* Names and labels shared by every template. */}}

{{- define "rb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rb.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Resource name of one app: <fullname>-<app>; app names are short, so 50 chars of prefix keep it a DNS label. */}}
{{- define "rb.appName" -}}
{{- printf "%s-%s" (include "rb.fullname" .root | trunc 44 | trimSuffix "-") .app -}}
{{- end -}}

{{- define "rb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "rb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: registry-bridge
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one app (stable across upgrades: never add to these). */}}
{{- define "rb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rb.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .app }}
{{- end -}}

{{- define "rb.appLabels" -}}
{{ include "rb.labels" .root }}
app.kubernetes.io/component: {{ .app }}
{{- end -}}

{{- define "rb.image" -}}
{{- $img := .image -}}
{{- $repo := $img.repository -}}
{{- if $img.registry }}{{ $repo = printf "%s/%s" $img.registry $img.repository }}{{ end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* Where secrets and config land in the pods. */}}
{{- define "rb.configDir" -}}/etc/registry-bridge{{- end -}}
{{- define "rb.redisSecretDir" -}}/var/run/secrets/registry-bridge/redis{{- end -}}
{{- define "rb.redisTlsDir" -}}/var/run/secrets/registry-bridge/redis-tls{{- end -}}
{{- define "rb.dashboardSecretDir" -}}/var/run/secrets/registry-bridge/dashboard{{- end -}}

{{/* The apps' `redis:` config block from externalRedis (secrets by file, never inline). */}}
{{- define "rb.redisConfig" -}}
{{- $r := .Values.externalRedis -}}
{{- $c := dict "mode" $r.mode "prefix" $r.prefix "connectTimeoutSeconds" $r.connectTimeoutSeconds -}}
{{- if eq $r.mode "standalone" -}}
{{- if not $r.url }}{{ fail "externalRedis.url is required when externalRedis.mode is standalone" }}{{ end -}}
{{- $_ := set $c "url" $r.url -}}
{{- else if eq $r.mode "sentinel" -}}
{{- if not $r.sentinel.sentinels }}{{ fail "externalRedis.sentinel.sentinels is required when externalRedis.mode is sentinel" }}{{ end -}}
{{- $_ := set $c "sentinels" $r.sentinel.sentinels -}}
{{- $_ := set $c "name" $r.sentinel.masterName -}}
{{- if $r.sentinel.username }}{{ $_ := set $c "sentinelUsername" $r.sentinel.username }}{{ end -}}
{{- if $r.sentinel.existingSecretPasswordKey -}}
{{- if not $r.existingSecret }}{{ fail "externalRedis.sentinel.existingSecretPasswordKey needs externalRedis.existingSecret" }}{{ end -}}
{{- $_ := set $c "sentinelPassword" (dict "file" (printf "%s/%s" (include "rb.redisSecretDir" .) $r.sentinel.existingSecretPasswordKey)) -}}
{{- end -}}
{{- else if eq $r.mode "cluster" -}}
{{- if not $r.cluster.nodes }}{{ fail "externalRedis.cluster.nodes is required when externalRedis.mode is cluster" }}{{ end -}}
{{- if not (regexMatch "\\{[^}]+\\}" $r.prefix) }}{{ fail "externalRedis.prefix must contain a {hash tag} in cluster mode" }}{{ end -}}
{{- $_ := set $c "nodes" $r.cluster.nodes -}}
{{- end -}}
{{- if $r.username }}{{ $_ := set $c "username" $r.username }}{{ end -}}
{{- if $r.existingSecret -}}
{{- $_ := set $c "password" (dict "file" (printf "%s/%s" (include "rb.redisSecretDir" .) $r.existingSecretPasswordKey)) -}}
{{- end -}}
{{- if and (not (kindIs "invalid" $r.db)) (ne $r.mode "cluster") }}{{ $_ := set $c "db" $r.db }}{{ end -}}
{{- $tls := dict "enabled" $r.tls.enabled -}}
{{- if $r.tls.existingSecret -}}
{{- if $r.tls.caKey }}{{ $_ := set $tls "caFile" (printf "%s/%s" (include "rb.redisTlsDir" .) $r.tls.caKey) }}{{ end -}}
{{- if $r.tls.certKey }}{{ $_ := set $tls "certFile" (printf "%s/%s" (include "rb.redisTlsDir" .) $r.tls.certKey) }}{{ end -}}
{{- if $r.tls.keyKey }}{{ $_ := set $tls "keyFile" (printf "%s/%s" (include "rb.redisTlsDir" .) $r.tls.keyKey) }}{{ end -}}
{{- end -}}
{{- if $r.tls.serverName }}{{ $_ := set $tls "serverName" $r.tls.serverName }}{{ end -}}
{{- $_ := set $c "tls" $tls -}}
{{- toYaml $c -}}
{{- end -}}

{{/*
Sources the writer accepts: every source of an enabled collector (with its kind), overlaid by
writer.sources (overrides, or sources whose collectors run elsewhere). Output: YAML map.
*/}}
{{- define "rb.writerSources" -}}
{{- $out := dict -}}
{{- range $kind := list "consul" "eureka" "cloudmap" -}}
{{- $c := index $.Values.collectors $kind -}}
{{- if $c.enabled -}}
{{- range $c.sources -}}
{{- $_ := set $out .name (dict "kind" $kind) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name, $s := .Values.writer.sources -}}
{{- $base := get $out $name | default dict -}}
{{- $merged := mergeOverwrite (deepCopy $base) (deepCopy $s) -}}
{{- if not (hasKey $merged "kind") }}{{ fail (printf "writer.sources.%s: kind is required (no enabled collector has this source)" $name) }}{{ end -}}
{{- $_ := set $out $name $merged -}}
{{- end -}}
{{- if not $out }}{{ fail "the writer has no sources: enable a collector with sources, or list writer.sources" }}{{ end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Namespaces the writer writes ServiceEntries/WorkloadEntries to: defaults.namespace, every source's namespace, extraNamespaces. Output: newline-separated, sorted, unique. */}}
{{- define "rb.writerNamespaces" -}}
{{- $ns := list (default "istio-system" .Values.writer.defaults.namespace) -}}
{{- range $name, $s := (include "rb.writerSources" . | fromYaml) -}}
{{- if $s.namespace }}{{ $ns = append $ns $s.namespace }}{{ end -}}
{{- end -}}
{{- $ns = concat $ns .Values.writer.rbac.extraNamespaces -}}
{{- $ns | uniq | sortAlpha | join "\n" -}}
{{- end -}}

{{- define "rb.leaseName" -}}
{{- include "rb.appName" (dict "root" . "app" "writer") -}}
{{- end -}}
